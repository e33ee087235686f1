// What `bootsmith diff` compares, read from an image in an OCI registry: skopeo copies it into a
// private OCI layout, and its layers are read as tar streams (never unpacked). A bootsmith image
// carries its own manifest (/usr/lib/bootsmith/manifest.json: packages, kernel, params, the
// artifacts' sizes and sha256s, all but the squashfs, which cannot hold its own digest) and its
// initramfs (/boot/initramfs-live-KVER.img, checked against that manifest); its root's file list
// is the layers' merged listing without the paths the recipe left out of the squashfs, so a
// registry image and an artifact directory of the same build list the same files.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { IMAGE_MANIFEST_PATH, type Manifest } from "../core/manifest.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import type { ImageFacts } from "./image-diff.js";
import { readInitramfsFacts } from "./image-facts.js";
import { walkLayers } from "./layer-listing.js";
import { copyRegistryImageToLayout, readLayoutImage, type RegistryAccess } from "./oci-layout.js";
import { dockerReference, parseRegistryRef } from "./registry-ref.js";
import type { RootfsEntry } from "./rootfs-listing.js";

/** Where the build leaves the initramfs inside the image (planner.ts bootSteps). */
const INITRAMFS_IN_IMAGE = /^\/boot\/initramfs-live-[^/]+\.img$/;
/** The recipe schema's default rootfs.exclude, for images whose manifest predates recording it. */
const DEFAULT_EXCLUDE = ["boot"];

export interface RegistryFactsOptions extends RegistryAccess {
  readonly signal?: AbortSignal;
}

export async function readRegistryFacts(spec: string, options: RegistryFactsOptions = {}): Promise<ImageFacts> {
  const ref = parseRegistryRef(spec);
  const work = await mkdtemp(path.join(os.tmpdir(), "bootsmith-registry-image-"));
  try {
    const layout = path.join(work, "layout");
    await copyRegistryImageToLayout(ref, layout, options, options.signal);
    const image = await readLayoutImage(layout);
    const walk = await walkLayers(layout, image.layers, {
      smallFiles: [IMAGE_MANIFEST_PATH],
      extract: INITRAMFS_IN_IMAGE,
      extractDir: work,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const bytes = walk.smallFiles.get(IMAGE_MANIFEST_PATH);
    if (!bytes)
      throw new LifecycleInputError(`${spec}: the image has no ${IMAGE_MANIFEST_PATH}: not an image bootsmith built (${dockerReference(ref)}@${image.digest})`);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(bytes.toString("utf8")) as Manifest;
    } catch (error) {
      throw new LifecycleError(`${spec}: ${IMAGE_MANIFEST_PATH} is not valid JSON (${(error as Error).message})`, { cause: error });
    }
    const rootfs = withoutExcluded(walk.listing, manifest.rootfs?.exclude ?? DEFAULT_EXCLUDE);
    let initramfs: ImageFacts["initramfs"];
    const record = manifest.artifacts.initrd;
    if (record && manifest.kernel) {
      const inImage = `/boot/initramfs-live-${manifest.kernel.version}.img`;
      const copy = walk.extracted.get(inImage);
      if (!copy) throw new LifecycleError(`${spec}: the image's manifest lists an initramfs, but the image has no ${inImage}`);
      if (copy.sha256 !== record.sha256)
        throw new LifecycleError(
          `${spec}: ${inImage} has sha256 ${copy.sha256}, but the image's manifest says the initramfs is ${record.sha256}: the image was changed after its build`,
        );
      initramfs = await readInitramfsFacts(copy.file);
    }
    return { label: spec, manifest, rootfs, ...(initramfs ? { initramfs } : {}), notCarried: ["rootfs"] };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The listing as mksquashfs -e would have left it: each excluded path and everything under it gone. */
function withoutExcluded(listing: Map<string, RootfsEntry>, exclude: readonly string[]): Map<string, RootfsEntry> {
  const roots = exclude.map((e) => `/${e.replace(/^\/+|\/+$/g, "")}`);
  for (const p of [...listing.keys()]) if (roots.some((r) => p === r || p.startsWith(`${r}/`))) listing.delete(p);
  return listing;
}
