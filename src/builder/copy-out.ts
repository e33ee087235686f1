// Copy a file out of an image root into the output directory. The path is resolved the way the
// image sees it (rootfs-path.ts): a symlink such as /boot/vmlinuz -> /usr/lib/… stays inside the
// root and can never make bootsmith, running as root, read a host file.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { resolveInRoot } from "./rootfs-path.js";
import { BootsmithError, EXIT } from "../core/errors.js";

export class CopyOutError extends BootsmithError {
  constructor(message: string) {
    super(message, EXIT.failed);
    this.name = "CopyOutError";
  }
}

/** Copy `inner` (absolute inside the image) to `dest`, mode 0644, atomically (via DEST.partial). */
export function copyOutOfRoot(root: string, inner: string, dest: string): void {
  const source = resolveInRoot(root, inner);
  if (!existsSync(source)) throw new CopyOutError(`${inner} does not exist in the image`);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(source, `${dest}.partial`);
  chmodSync(`${dest}.partial`, 0o644);
  renameSync(`${dest}.partial`, dest);
}
