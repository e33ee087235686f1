// Where each file of an image goes in a bucket, per layout. Pure: tests and `--dry-run`-style
// callers compute keys without a server.
import { MANIFEST_FILE, SBOM_FILES, type ArtifactRole, type Manifest } from "../core/manifest.js";
import type { S3Layout } from "./targets.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";

export interface ImageKeys {
  readonly artifacts: Readonly<Record<ArtifactRole, string>>;
  /** Written last; its presence means the set under this tag is complete. */
  readonly manifest: string;
  /** A signed set's SHA256SUMS and SHA256SUMS.sig, written just before the manifest. */
  readonly sums: string;
  readonly signature: string;
}

/**
 * One architecture's set of a recipe built for several (manifest `arches`) lives in its tag's
 * <arch>/ folder, beside the others, under the combined manifest; a single architecture's, in the tag's.
 */
export function archFolder(manifest: Partial<Pick<Manifest, "arch" | "arches">>): string | undefined {
  return manifest.arches && manifest.arch ? manifest.arch : undefined;
}

/**
 * The prefix as keys start with it. In the bootsmith layout it is a folder: "images" and
 * "images/" both put a set under images/<name>/<tag>/, whether the prefix came from
 * `--to s3://BUCKET/images`, `--prefix` or a recipe's `prefix:` (they used to disagree, the
 * latter two pasting "images" onto the name: imagescompute/…). In the image-builder layout it
 * is pasted into the names, as image-builder's own s3_prefix is, from all three alike.
 */
export function s3KeyPrefix(layout: S3Layout, prefix: string): string {
  return layout === "bootsmith" && prefix !== "" && !prefix.endsWith("/") ? `${prefix}/` : prefix;
}

export function s3Keys(
  layout: S3Layout,
  prefix: string,
  manifest: Pick<Manifest, "name" | "kernel"> & Partial<Pick<Manifest, "arch" | "arches">>,
  tag: string,
): ImageKeys {
  const arch = archFolder(manifest);
  switch (layout) {
    case "bootsmith": {
      const dir = `${s3KeyPrefix(layout, prefix)}${manifest.name}/${tag}/${arch ? `${arch}/` : ""}`;
      return {
        artifacts: {
          kernel: `${dir}vmlinuz`,
          initrd: `${dir}initramfs.img`,
          rootfs: `${dir}rootfs.squashfs`,
          sbomCycloneDx: `${dir}${SBOM_FILES.sbomCycloneDx}`,
          sbomSpdx: `${dir}${SBOM_FILES.sbomSpdx}`,
        },
        manifest: `${dir}${MANIFEST_FILE}`,
        sums: `${dir}${SUMS_FILE}`,
        signature: `${dir}${SIGNATURE_FILE}`,
      };
    }
    case "image-builder": {
      // image-builder names kernel and initramfs by kernel version; without one, the image's
      // name and tag keep different images apart.
      const kver = `${manifest.kernel?.version ?? `${manifest.name}-${tag}`}${arch ? `.${arch}` : ""}`;
      const image = `${prefix}${manifest.name}-${tag}${arch ? `-${arch}` : ""}`;
      return {
        artifacts: {
          kernel: `efi-images/${prefix}vmlinuz-${kver}`,
          initrd: `efi-images/${prefix}initramfs-${kver}.img`,
          rootfs: image,
          sbomCycloneDx: `${image}.${SBOM_FILES.sbomCycloneDx}`,
          sbomSpdx: `${image}.${SBOM_FILES.sbomSpdx}`,
        },
        manifest: `${image}.${MANIFEST_FILE}`,
        sums: `${image}.${SUMS_FILE}`,
        signature: `${image}.${SIGNATURE_FILE}`,
      };
    }
    default: {
      const unknown: never = layout;
      throw new Error(`unknown S3 layout ${String(unknown)}`);
    }
  }
}

/** `base` + "/" + key, each key segment URL-encoded. */
export function joinUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, "")}/${key.split("/").map(encodeURIComponent).join("/")}`;
}
