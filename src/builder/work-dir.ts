// The build's scratch space under the work root (BOOTSMITH_WORK_DIR, /var/tmp/bootsmith by
// default). /var/tmp is shared by every user, so the root is created private (0700) and refused
// when another user made it first or put a symbolic link there: otherwise they could read inline
// file contents and repository credentials, or redirect what a root build writes. Files inside
// are created exclusively and never through a symbolic link.
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, writeSync, chmodSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.js";

const FIX = "remove it, or set BOOTSMITH_WORK_DIR to a directory of your own";

/** Creates `workDir` (0700, must not exist yet) inside a private work root. */
export function createWorkDir(workDir: string): void {
  ensurePrivateRoot(path.dirname(workDir));
  try {
    mkdirSync(workDir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new UserError(`work directory ${workDir} already exists; a build's work directory is always new: ${FIX}`);
    throw error;
  }
}

/** Creates the work root 0700, or checks that the existing one is a directory of ours (and makes it 0700). */
export function ensurePrivateRoot(root: string): void {
  mkdirSync(path.dirname(root), { recursive: true });
  try {
    mkdirSync(root, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const stat = lstatSync(root);
  const uid = process.getuid?.() ?? stat.uid;
  if (stat.isSymbolicLink()) throw new UserError(`work root ${root} is a symbolic link, which another user could point anywhere: ${FIX}`);
  if (!stat.isDirectory()) throw new UserError(`work root ${root} is not a directory: ${FIX}`);
  if (stat.uid !== uid)
    throw new UserError(
      `work root ${root} belongs to uid ${stat.uid}, not to uid ${uid} who runs this build, so that user could read or change what the build writes there: ${FIX}`,
    );
  if ((stat.mode & 0o077) !== 0) chmodSync(root, 0o700); // ours, but made readable by others earlier
}

/**
 * Writes a new file: fails if the path exists or its last component is a symbolic link, and
 * sets `mode` on the open file (not through the path, which could be swapped meanwhile).
 */
export function writeNewFile(file: string, content: string | Uint8Array, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o600);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
  } finally {
    closeSync(fd);
  }
}
