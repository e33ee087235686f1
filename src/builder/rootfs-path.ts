// Paths inside an image root, resolved the way the image itself would see them. A symlink in
// the image such as /boot/vmlinuz -> /usr/lib/… or var/cache -> / must resolve inside the root,
// never on the host: bootsmith reads and deletes files there as root.
import { lstatSync, readlinkSync } from "node:fs";
import path from "node:path";

const MAX_LINKS = 40;

/** Resolve `inner` (absolute inside the image) to a host path below `root`, following symlinks within the root. */
export function resolveInRoot(root: string, inner: string): string {
  const parts = inner.split("/").filter((p) => p !== "" && p !== ".");
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Missing components are fine: the caller decides whether the path must exist.
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_LINKS) throw new Error(`too many symbolic links resolving ${inner} in the image`);
    const target = readlinkSync(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    parts.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return path.join(root, ...resolved);
}
