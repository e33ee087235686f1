// The OCI image an export with --with-image carries: put into a private OCI layout (the build's
// local image by `buildah push`, or a registry image by `skopeo copy --preserve-digests`), then
// checked to be this build's image before the bundle takes it: the local image must have the id
// the build recorded (a rebuild since would differ), a registry image the digest the build
// recorded pushing there (when it recorded one), and either the build's name label.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Manifest } from "../core/manifest.js";
import { silentReporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import { copyRegistryImageToLayout, LAYOUT_IMAGE_NAME, readLayoutImage, type OciImage, type RegistryAccess } from "./oci-layout.js";
import { dockerReference, parseRegistryRef } from "./registry-ref.js";
import { NAME_LABEL } from "./store-registry.js";

export type BundleImageSource =
  /** The image the build committed (manifest.image.ref), from buildah's storage. */
  | { readonly kind: "local"; readonly buildahGlobalArgs: readonly string[] }
  /** An image in a registry, `registry:HOST/REPO:TAG` or `docker://…`. */
  | { readonly kind: "registry"; readonly spec: string; readonly access: RegistryAccess };

export interface StagedImage {
  readonly digest: string;
  /** Where it came from, for bundle.json. */
  readonly source: string;
}

export async function stageImage(manifest: Manifest, source: BundleImageSource, layout: string, signal?: AbortSignal): Promise<StagedImage> {
  let image: OciImage;
  let from: string;
  if (source.kind === "local") {
    from = `containers-storage:${manifest.image.ref}`;
    if (manifest.image.committed === false)
      throw new LifecycleInputError(
        `--with-image: the build of ${manifest.name}:${manifest.tags[0] ?? ""} committed no image (a graph leaf, or --no-commit); build the recipe file on its own (which commits) and export again, or give the pushed image with --image registry:HOST/REPO:TAG`,
      );
    try {
      await run(
        {
          file: "buildah",
          args: [...source.buildahGlobalArgs, "push", "--quiet", manifest.image.ref, `oci:${layout}:${LAYOUT_IMAGE_NAME}`],
          timeoutMs: 3_600_000,
        },
        { step: "export", reporter: silentReporter, ...(signal ? { signal } : {}) },
        { quiet: true },
      );
    } catch (error) {
      if (!isCommandError(error)) throw error;
      if (/image not known|not found|no such image/i.test(error.outputTail.join("\n")))
        throw new LifecycleInputError(
          `--with-image: the build's image ${manifest.image.ref} is not in buildah's storage here; give the storage the build used (--root, --runroot, --storage-driver) or the pushed image with --image registry:HOST/REPO:TAG`,
          { cause: error },
        );
      throw new LifecycleError(`--with-image: could not copy ${manifest.image.ref} out of buildah's storage: ${error.report}`, { cause: error });
    }
    image = await readLayoutImage(layout);
    if (manifest.image.id && image.config.digest !== `sha256:${manifest.image.id}`)
      throw new LifecycleError(
        `--with-image: ${manifest.image.ref} is image ${image.config.digest.slice(7, 19)}, but the build committed ${manifest.image.id.slice(0, 12)}: it was rebuilt or replaced since; export the image that was built (--image registry:… where it was pushed)`,
      );
  } else {
    const ref = parseRegistryRef(source.spec);
    from = dockerReference(ref);
    await copyRegistryImageToLayout(ref, layout, source.access, signal);
    image = await readLayoutImage(layout);
    const recorded = (manifest.image.pushed ?? []).filter((p) => ref.tag !== undefined && p.ref === `${ref.repository}:${ref.tag}`).map((p) => p.digest);
    if (recorded.length > 0 && !recorded.includes(image.digest))
      throw new LifecycleError(
        `--image ${source.spec}: is ${image.digest}, but this build recorded pushing ${recorded.join(", ")} there: the tag has moved to another image`,
      );
  }
  const name = image.labels[NAME_LABEL];
  if (name !== undefined && name !== manifest.name)
    throw new LifecycleInputError(`--with-image: ${from} is an image of ${name} (label ${NAME_LABEL}), not ${manifest.name}`);
  return { digest: image.digest, source: from };
}

/** The layout's files, relative to it, as the bundle carries them: oci-layout, the blobs, index.json last. */
export async function layoutFiles(layout: string): Promise<string[]> {
  await readFile(path.join(layout, "oci-layout")).catch((error: unknown) => {
    throw new LifecycleError(`${layout}: not an OCI image layout (no oci-layout file)`, { cause: error });
  });
  const blobs = (await readdir(path.join(layout, "blobs", "sha256"))).sort().map((hex) => `blobs/sha256/${hex}`);
  return ["oci-layout", ...blobs, "index.json"];
}
