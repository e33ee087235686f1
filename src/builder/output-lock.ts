// One build per output directory at a time. Two builds of the same recipe would overwrite each
// other's artifacts and fight over the image tag; the second one fails at once with who holds
// the lock. A lock left by a process that died (kill -9, power loss) is taken over.
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { BootsmithError, EXIT, fileSystemFailure, UserError } from "../core/errors.js";

export const LOCK_FILE = ".bootsmith.lock";

export class BuildLockedError extends BootsmithError {
  constructor(
    readonly lockFile: string,
    readonly holder: number,
  ) {
    super(`another bootsmith build (pid ${holder}) is writing ${path.dirname(lockFile)}; wait for it, or build into another --out directory`, EXIT.failed);
    this.name = "BuildLockedError";
  }
}

/**
 * Create the output directory and take its lock; returns the release function. A directory that
 * cannot be written (read-only filesystem, a file in the way, no permission) is bad input, said
 * before anything is built, not a crash.
 */
export function lockOutputDir(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
    return acquireBuildLock(dir);
  } catch (error) {
    const fs = error instanceof BootsmithError ? undefined : fileSystemFailure(error);
    if (!fs) throw error;
    throw new UserError(`output directory ${dir} cannot be written: ${fs.message}`, EXIT.usage, {
      cause: error,
      hint: "give a writable directory with --out DIR",
    });
  }
}

/** Take the lock on `dir` (which must exist); returns the release function. */
export function acquireBuildLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written aside and hard-linked into place, so the lock file never exists without its pid:
    // a second build starting at the same instant must not read it empty and call it stale.
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o644);
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, file);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(readFileSync(file, "utf8"), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) throw new BuildLockedError(file, holder);
      rmSync(file, { force: true }); // stale: its process is gone
    } finally {
      rmSync(temp, { force: true });
    }
  }
  throw new Error(`could not take the build lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
