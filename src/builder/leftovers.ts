// Remove build leftovers inside the image root before it is squashed and committed: package
// caches and logs, the empty resolv.conf/hostname/hosts placeholders `buildah run` leaves, and
// the empty directories a package manager made on the way to its cache.
import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import path from "node:path";
import { resolveInRoot } from "./rootfs-path.js";

export function removeLeftovers(root: string, paths: readonly string[], ifEmpty: readonly string[]): string[] {
  const removed: string[] = [];
  for (const p of paths) {
    const base = path.basename(p);
    if (base.includes("*")) {
      const dir = resolveInRoot(root, path.dirname(p));
      if (!existsSync(dir)) continue;
      const pattern = new RegExp(`^${base.split("*").map(escapeRegExp).join(".*")}$`);
      for (const entry of readdirSync(dir)) {
        if (!pattern.test(entry)) continue;
        rmSync(path.join(dir, entry), { recursive: true, force: true });
        removed.push(path.join(path.dirname(p), entry));
      }
    } else {
      // Resolve the parent only: the leftover itself, if a symlink, is removed as a link.
      const target = path.join(resolveInRoot(root, path.dirname(p)), base);
      if (!existsSync(target)) continue;
      rmSync(target, { recursive: true, force: true });
      removed.push(p);
    }
  }
  // In order, so a directory listed after its only entry goes too. lstat: a link is never
  // followed (it may point out of the image) and never removed here.
  for (const p of ifEmpty) {
    const target = path.join(resolveInRoot(root, path.dirname(p)), path.basename(p));
    let stat;
    try {
      stat = lstatSync(target);
    } catch {
      continue; // absent: nothing to do
    }
    if (stat.isFile() && stat.size === 0) rmSync(target);
    else if (stat.isDirectory() && readdirSync(target).length === 0) rmdirSync(target);
    else continue;
    removed.push(p);
  }
  return removed;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
