// bootsmith import: a bundle tar → an artifact directory or a publish target. The tar is read
// as a stream into a staging directory; every entry must be listed in bundle.json (the first
// entry) and match its size and sha256, every listed file must arrive, and the manifest must
// agree with the index. Only then is anything published, through the ordinary publishers
// (manifest.json last), or, for a registry, the bundle's OCI image is pushed by digest, signed
// per tag with a key, tags last (publish/registry-signed.ts pushLayout). A truncated bundle, an
// extra file or a wrong digest (in an artifact or an image blob) publishes nothing.
import { createReadStream } from "node:fs";
import { makeStagingDir } from "../core/staging-dir.js";
import { mkdir, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { extract as tarExtract } from "tar-stream";
import { writeHashed } from "../core/hash.js";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { loadArtifactSet } from "../publish/artifacts.js";
import { PublishInputError } from "../publish/errors.js";
import { publish, type PublishRunOptions } from "../publish/index.js";
import type { PublishOutcome } from "../publish/publisher.js";
import type { PublishTarget } from "../publish/targets.js";
import { BUNDLE_INDEX, IMAGE_DIR, parseBundleIndex, type BundleIndex } from "./bundle-format.js";
import { LAYOUT_IMAGE_NAME, readLayoutImage, type OciImage } from "./oci-layout.js";
import { pushLayout } from "../publish/registry-signed.js";
import type { RegistryTarget } from "../publish/targets.js";
import type { Signer } from "../sign/gpg.js";
import { silentReporter } from "../exec/events.js";
import { LifecycleInputError } from "./errors.js";
import { chooseImportTags, keptTagsNote, type HeldBuild, type KeptTag, type TagChoice } from "./import-tags.js";
import { openStore } from "./open-store.js";
import { parseStoredManifest } from "./store.js";
import { RegistryStore } from "./store-registry.js";

export type ImportDestination =
  /** A new artifact directory (as `build` leaves it, with the SBOM/signature files). */
  | { readonly kind: "directory"; readonly dir: string }
  /** A publish target: the ordinary publisher uploads it, manifest.json last; a registry gets the bundle's OCI image. */
  | { readonly kind: "target"; readonly target: PublishTarget; readonly workDir: string };

export interface ImportOptions {
  readonly signal?: AbortSignal;
  readonly publish?: PublishRunOptions;
  /** Registry targets: sign every tag of the pushed image (GPG simple signing, as `publish --sign-key`), before any tag exists. */
  readonly signer?: Signer;
  /** Also move tags that hold a newer build at the target (a deliberate rollback); default: keep them. */
  readonly replaceNewer?: boolean;
  /** Notes for the user (what happened to the image part of a bundle, tags kept). */
  readonly onNote?: (text: string) => void;
}

export interface ImportResult {
  readonly index: BundleIndex;
  readonly manifest: Manifest;
  /** Where the artifact directory went (directory destinations). */
  readonly dir?: string;
  readonly outcome?: PublishOutcome;
  /** Registry targets: the tags pushed and the digest they point at. */
  readonly pushed?: { readonly refs: readonly string[]; readonly digest: string; readonly signed: boolean };
  /** Tags left pointing at the target's build: newer, or not known to be older (import-tags.ts). */
  readonly kept: readonly KeptTag[];
}

export async function importBundle(bundle: string, destination: ImportDestination, options: ImportOptions = {}): Promise<ImportResult> {
  const info = await stat(bundle).catch(() => undefined);
  if (!info?.isFile()) throw new LifecycleInputError(`${bundle}: no such file; give a bundle written by bootsmith export`);
  let staging: string;
  if (destination.kind === "directory") {
    const final = path.resolve(destination.dir);
    if (await stat(final).catch(() => undefined))
      throw new LifecycleInputError(`--to ${destination.dir}: already exists; give a new directory (or a dir:, s3:// or registry: target to publish to)`);
    await mkdir(path.dirname(final), { recursive: true });
    staging = await makeStagingDir(`${final}.partial-`);
  } else {
    await mkdir(destination.workDir, { recursive: true });
    staging = await mkdtemp(path.join(destination.workDir, "import-"));
  }
  try {
    const index = await unpackVerified(bundle, staging, options.signal);
    const manifest = await checkManifestAgainstIndex(bundle, staging, index);
    const layoutImage = index.image ? await checkImageLayout(bundle, path.join(staging, IMAGE_DIR), index) : undefined;
    if (destination.kind === "directory") {
      const final = path.resolve(destination.dir);
      await rename(staging, final);
      if (index.image) options.onNote?.(`the OCI image (${index.image.digest}) is in ${path.join(final, IMAGE_DIR)} as an OCI layout`);
      return { index, manifest, dir: final, kept: [] };
    }
    if (destination.target.type === "registry") {
      if (!index.image)
        throw new LifecycleInputError(
          `${bundle}: carries no OCI image, so there is nothing to push to a registry; export it with --with-image, or import it to s3://, dir: or a directory`,
        );
      if (!options.signer && index.files.some((f) => f.name === "SHA256SUMS.sig"))
        options.onNote?.("the bundle's artifact set is signed, but no --sign-key was given: the image is pushed without a signature");
      const store = new RegistryStore(destination.target, { artifacts: staging });
      const choice = await chooseTags(manifest, layoutImage!.created, options, async (tag) => {
        const held = await store.inspect(tag, options.signal);
        return held && { same: held.digest === index.image!.digest, ...(held.created ? { builtAt: held.created } : {}) };
      });
      if (choice.publish.length === 0) return { index, manifest, kept: choice.kept };
      const pushed = await pushImage(staging, index.image.digest, choice.publish, destination.target, destination.workDir, options);
      return { index, manifest, pushed, kept: choice.kept };
    }
    if (index.image)
      options.onNote?.(
        `the bundle's OCI image (${index.image.digest}) was verified but not published: a ${destination.target.type === "s3" ? "s3://" : "dir:"} target holds the boot artifacts; import the bundle again with --to registry:HOST/REPO to push the image`,
      );
    let set;
    try {
      set = await loadArtifactSet(staging);
    } catch (error) {
      if (error instanceof PublishInputError) throw new LifecycleInputError(`${bundle}: ${error.message}`, { cause: error });
      throw error;
    }
    const store = openStore(destination.target);
    let choice: TagChoice;
    try {
      choice = await chooseTags(manifest, manifest.builtAt, options, async (tag) => {
        const bytes = await store.readManifest(manifest.name, tag, options.signal);
        if (!bytes) return undefined;
        const held = parseStoredManifest(bytes, `${store.label} ${manifest.name}:${tag}`) as Partial<Manifest>;
        return { same: bytes.equals(set.manifestBytes), ...(typeof held.builtAt === "string" ? { builtAt: held.builtAt } : {}) };
      });
    } finally {
      store.close();
    }
    if (choice.publish.length === 0) return { index, manifest, kept: choice.kept };
    // The publishers walk manifest.tags and write manifest.json verbatim (manifestBytes): the
    // published manifest still lists every tag of the build, as a promotion's copy does.
    const chosen = { ...set, manifest: { ...set.manifest, tags: choice.publish } };
    const outcome = await publish(chosen, destination.target, { ...options.publish, ...(options.signal ? { signal: options.signal } : {}) });
    return { index, manifest, outcome, kept: choice.kept };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The tags to point at the bundle's build; the ones kept are reported in a note. */
async function chooseTags(
  manifest: Manifest,
  bundleBuiltAt: string,
  options: ImportOptions,
  held: (tag: string) => Promise<HeldBuild | undefined>,
): Promise<TagChoice> {
  const choice = await chooseImportTags(manifest.tags, bundleBuiltAt, held, options.replaceNewer ?? false);
  if (choice.kept.length > 0) options.onNote?.(keptTagsNote(choice.kept, bundleBuiltAt));
  return choice;
}

/** The verified layout must be the image bundle.json names, with every blob its manifest refers to. */
async function checkImageLayout(bundle: string, layout: string, index: BundleIndex): Promise<OciImage> {
  let image;
  try {
    image = await readLayoutImage(layout);
  } catch (error) {
    throw new LifecycleInputError(`${bundle}: the OCI layout under ${IMAGE_DIR}/ is not readable (${(error as Error).message}); nothing was published`, {
      cause: error,
    });
  }
  if (image.digest !== index.image!.digest)
    throw new LifecycleInputError(
      `${bundle}: ${IMAGE_DIR}/index.json names ${image.digest}, but ${BUNDLE_INDEX} says ${index.image!.digest}; nothing was published`,
    );
  const carried = new Set(index.files.map((f) => f.name));
  const missing = [image.config, ...image.layers].filter((d) => !carried.has(`${IMAGE_DIR}/blobs/sha256/${d.digest.replace(/^sha256:/, "")}`));
  if (missing.length > 0)
    throw new LifecycleInputError(`${bundle}: the image's ${missing.map((d) => d.digest).join(", ")} is not in the bundle; nothing was published`);
  return image;
}

/** Blobs and manifest by digest, then (with a key) a signature per tag, then the tags: as the registry publisher does. */
async function pushImage(
  staging: string,
  digest: string,
  tags: readonly string[],
  target: RegistryTarget,
  workDir: string,
  options: ImportOptions,
): Promise<NonNullable<ImportResult["pushed"]>> {
  const work = await mkdtemp(path.join(workDir, "push-"));
  try {
    await pushLayout({
      target,
      layout: `oci:${path.join(staging, IMAGE_DIR)}:${LAYOUT_IMAGE_NAME}`,
      digest,
      tags,
      ...(options.signer ? { signer: options.signer } : {}),
      work,
      ctx: { step: "import", reporter: options.publish?.reporter ?? silentReporter, ...(options.signal ? { signal: options.signal } : {}) },
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { refs: tags.map((t) => `${target.repository}:${t}`), digest, signed: options.signer !== undefined };
}

/** Stream the tar into `dir`, checking each entry against bundle.json; returns the index. */
async function unpackVerified(bundle: string, dir: string, signal: AbortSignal | undefined): Promise<BundleIndex> {
  const extract = tarExtract();
  const feeding = pipeline(createReadStream(bundle, { highWaterMark: 1 << 20 }), extract, { signal });
  // It can reject while an entry is still being written; it is awaited below, and this handler
  // keeps Node from treating the rejection as unhandled in the meantime.
  feeding.catch(() => {});
  let index: BundleIndex | undefined;
  const arrived = new Set<string>();
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      const type = entry.header.type ?? "file";
      if (type !== "file") throw new LifecycleInputError(`${bundle}: entry ${JSON.stringify(name)} is a ${type}; a bundle holds only files`);
      if (index === undefined) {
        if (name !== BUNDLE_INDEX)
          throw new LifecycleInputError(`${bundle}: the first entry is ${JSON.stringify(name)}, not ${BUNDLE_INDEX}: not a bootsmith bundle`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        index = parseBundleIndex(Buffer.concat(chunks), bundle);
        continue;
      }
      const listed = index.files.find((f) => f.name === name);
      if (!listed)
        throw new LifecycleInputError(
          `${bundle}: holds ${JSON.stringify(name)}, which ${BUNDLE_INDEX} does not list: the bundle was altered; nothing was published`,
        );
      if (arrived.has(name)) throw new LifecycleInputError(`${bundle}: holds ${name} twice; nothing was published`);
      if (entry.header.size !== listed.size)
        throw new LifecycleInputError(
          `${bundle}: ${name} is ${entry.header.size} bytes in the tar but ${listed.size} in ${BUNDLE_INDEX}; nothing was published`,
        );
      // The entry is a streamx stream: read it as an async iterable (backpressure included).
      if (name.includes("/")) await mkdir(path.join(dir, path.dirname(name)), { recursive: true });
      const actual = await writeHashed(entry as AsyncIterable<Buffer>, path.join(dir, name));
      if (actual !== listed.sha256)
        throw new LifecycleInputError(
          `${bundle}: ${name} has sha256 ${actual}, but ${BUNDLE_INDEX} says ${listed.sha256}: the bundle is damaged; nothing was published`,
        );
      arrived.add(name);
    }
    await feeding;
  } catch (error) {
    extract.destroy();
    await feeding.catch(() => {});
    if (error instanceof LifecycleInputError) throw error;
    if ((error as Error).name === "AbortError") throw error;
    // tar-stream's own complaints ("Unexpected end of data", "Invalid tar header"): a cut or
    // corrupted file.
    throw new LifecycleInputError(`${bundle}: not a complete tar archive (${(error as Error).message}): truncated or damaged; nothing was published`, {
      cause: error,
    });
  }
  if (index === undefined) throw new LifecycleInputError(`${bundle}: empty archive: not a bootsmith bundle`);
  const missing = index.files.filter((f) => !arrived.has(f.name)).map((f) => f.name);
  if (missing.length > 0)
    throw new LifecycleInputError(`${bundle}: ends before ${missing.join(", ")} (listed in ${BUNDLE_INDEX}): the bundle is truncated; nothing was published`);
  return index;
}

/** The manifest must list exactly the artifacts the index carries, with the same digests. */
async function checkManifestAgainstIndex(bundle: string, dir: string, index: BundleIndex): Promise<Manifest> {
  const manifest = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), "utf8")) as Manifest;
  for (const record of Object.values(manifest.artifacts ?? {})) {
    if (!record) continue;
    const carried = index.files.find((f) => f.name === record.file);
    if (!carried || carried.sha256 !== record.sha256 || carried.size !== record.size) {
      throw new LifecycleInputError(
        `${bundle}: ${MANIFEST_FILE} lists ${record.file} (sha256 ${record.sha256.slice(0, 12)}…, ${record.size} bytes) but the bundle carries ${carried ? `sha256 ${carried.sha256.slice(0, 12)}…, ${carried.size} bytes` : "no such file"}; nothing was published`,
      );
    }
  }
  if (manifest.name !== index.name)
    throw new LifecycleInputError(`${bundle}: ${MANIFEST_FILE} is for ${manifest.name} but ${BUNDLE_INDEX} says ${index.name}; nothing was published`);
  return manifest;
}
