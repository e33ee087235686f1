// A buildah storage root a test gives bootsmith (BOOTSMITH_STORAGE_ROOT, --storage-root). For a
// custom root bootsmith picks the run root itself (src/builder/storage.ts runRootFor): one per
// root, under /run/bootsmith, outside the test's directory. The test's own buildah calls on
// that root must use the same run root (c/storage keeps a graph root's mount and lock state
// there), and removing the test's directory leaves that run root behind unless it goes too.
import { rmSync } from "node:fs";
import { runRootFor } from "../../src/builder/storage.js";

/** The run root bootsmith uses for `root` (this process's user and environment, as a child bootsmith's). */
export function runRootOf(root: string): string {
  return runRootFor(root, process.getuid?.() ?? 0, process.env);
}

/** buildah's global options for `root` as bootsmith resolves them with BOOTSMITH_STORAGE_DRIVER=`driver`. */
export function storageArgsOf(root: string, driver = "vfs"): string[] {
  return ["--root", root, "--runroot", runRootOf(root), "--storage-driver", driver];
}

/** Remove the run roots bootsmith made for these storage roots (absent ones are fine). */
export function removeRunRoots(roots: readonly string[]): void {
  for (const root of roots) rmSync(runRootOf(root), { recursive: true, force: true });
}
