// Gather what `bootsmith diff` compares from an artifact directory (as `build` leaves it, or a
// directory publish target's <dir>/<name>/<tag>): the manifest, the rootfs listing (unsquashfs,
// no unpacking) and the initramfs listing with dracut's module list.
import { listInitramfs, DRACUT_MODULES_TXT } from "../builder/initramfs.js";
import { loadImageDir } from "./image-dir.js";
import type { ImageFacts } from "./image-diff.js";
import { listRootfs } from "./rootfs-listing.js";

export async function readImageFacts(dir: string, label: string, signal?: AbortSignal): Promise<ImageFacts> {
  const set = await loadImageDir(dir, label, { readOnly: true });
  const byRole = new Map(set.artifacts.map((a) => [a.role, a.path]));
  const rootfsFile = byRole.get("rootfs");
  const initrdFile = byRole.get("initrd");
  const rootfs = rootfsFile ? await listRootfs(rootfsFile, signal ? { signal } : {}) : undefined;
  const initramfs = initrdFile ? await readInitramfsFacts(initrdFile) : undefined;
  return { label, manifest: set.manifest, ...(rootfs ? { rootfs } : {}), ...(initramfs ? { initramfs } : {}) };
}

/** The initramfs's files (cpio listing) and dracut's module list (modules.txt), for the diff. */
export async function readInitramfsFacts(file: string): Promise<NonNullable<ImageFacts["initramfs"]>> {
  const listing = await listInitramfs(file, { wantContents: [DRACUT_MODULES_TXT] });
  const modulesTxt = listing.contents.get(DRACUT_MODULES_TXT);
  return {
    files: new Map(listing.entries.map((e) => [`/${e.name}`, { mode: e.mode, size: e.size }])),
    ...(modulesTxt !== undefined
      ? {
          dracutModules: modulesTxt
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean),
        }
      : {}),
  };
}
