// The air-gapped bundle: one plain tar (tar-stream, streamed both ways, so memory stays flat
// whatever the rootfs size). Its first entry, bundle.json, lists every other entry with its size
// and sha256; import reads it first, so it can refuse an extra file, a wrong digest or a
// missing one while streaming, before anything is published.
//   bundle.json            this index
//   manifest.json          the image's manifest, byte for byte
//   vmlinuz, initramfs.img, rootfs.squashfs   the artifacts the manifest lists
//   sbom*.json, *.sig, …   SBOM and signature files found next to the manifest
//   image/oci-layout, image/blobs/sha256/HEX…, image/index.json
//                          with --with-image: the container image as an OCI image layout (its
//                          one image named "image"); every blob's sha256 is also its name
import { LifecycleInputError } from "./errors.js";

export const BUNDLE_INDEX = "bundle.json";
export const BUNDLE_VERSION = 1;

export interface BundleFile {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export interface BundleIndex {
  readonly bundleVersion: typeof BUNDLE_VERSION;
  readonly name: string;
  readonly tags: readonly string[];
  readonly createdAt: string;
  /** Every entry after bundle.json, in tar order. */
  readonly files: readonly BundleFile[];
  /** With --with-image: the OCI image under image/ (its manifest digest) and where it was taken from. */
  readonly image?: { readonly digest: string; readonly source: string };
}

/** The folder of the bundle (and of an imported directory) that holds the OCI image layout. */
export const IMAGE_DIR = "image";
/** What the OCI layout under image/ may hold: its marker, its index and content-addressed blobs. */
const IMAGE_ENTRY = /^image\/(oci-layout|index\.json|blobs\/sha256\/([0-9a-f]{64}))$/;

export function isImageEntry(name: string): boolean {
  return IMAGE_ENTRY.test(name);
}

/**
 * Files carried besides manifest.json and the artifacts, when present in the image directory:
 * SBOMs (SPDX, CycloneDX), detached signatures / attestations, and SHA256SUMS, which a signed set's
 * SHA256SUMS.sig signs.
 */
export const EXTRA_FILE = /^(SHA256SUMS|sbom[\w.-]*\.json|[\w.-]+\.(sig|asc|pem|cert|intoto\.jsonl|sigstore\.json|cosign\.bundle))$/;

/** A plain file name: no directories, nothing that could escape the output directory. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/;

export function parseBundleIndex(bytes: Buffer, where: string): BundleIndex {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} is not valid JSON (${(error as Error).message}): the bundle is damaged`, { cause: error });
  }
  const index = value as Partial<BundleIndex>;
  if (typeof value !== "object" || value === null || index.bundleVersion !== BUNDLE_VERSION) {
    throw new LifecycleInputError(
      `${where}: ${BUNDLE_INDEX} has bundleVersion ${JSON.stringify(index?.bundleVersion)}; this bootsmith reads version ${BUNDLE_VERSION}`,
    );
  }
  if (typeof index.name !== "string" || !Array.isArray(index.tags) || !Array.isArray(index.files))
    throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} lacks name, tags or files: the bundle is damaged`);
  const seen = new Set<string>();
  for (const f of index.files as unknown[]) {
    const file = f as Partial<BundleFile>;
    if (typeof file.name !== "string" || !(SAFE_NAME.test(file.name) || IMAGE_ENTRY.test(file.name)) || file.name === BUNDLE_INDEX)
      throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} lists a bad file name ${JSON.stringify(file.name)}`);
    if (typeof file.size !== "number" || !Number.isSafeInteger(file.size) || file.size < 0)
      throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX}: ${file.name} has a bad size ${JSON.stringify(file.size)}`);
    if (typeof file.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(file.sha256))
      throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX}: ${file.name} has a bad sha256 ${JSON.stringify(file.sha256)}`);
    const blob = IMAGE_ENTRY.exec(file.name)?.[2];
    if (blob !== undefined && blob !== file.sha256)
      throw new LifecycleInputError(
        `${where}: ${BUNDLE_INDEX} lists ${file.name} with sha256 ${file.sha256}: a blob's sha256 is its name; the bundle was altered`,
      );
    if (seen.has(file.name)) throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} lists ${file.name} twice`);
    seen.add(file.name);
  }
  if (!seen.has("manifest.json")) throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} does not list manifest.json: not an image bundle`);
  const image = index.image as Partial<NonNullable<BundleIndex["image"]>> | undefined;
  const carriesLayout = seen.has(`${IMAGE_DIR}/index.json`) && seen.has(`${IMAGE_DIR}/oci-layout`);
  if (image !== undefined && (typeof image.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(image.digest) || !carriesLayout))
    throw new LifecycleInputError(
      `${where}: ${BUNDLE_INDEX} names an image but does not carry its OCI layout (image/index.json, image/oci-layout): the bundle is damaged`,
    );
  if (image === undefined && [...seen].some((n) => IMAGE_ENTRY.test(n)))
    throw new LifecycleInputError(`${where}: ${BUNDLE_INDEX} lists image/ files but names no image: the bundle is damaged`);
  return index as BundleIndex;
}
