// One build per output directory at a time. Two builds of the same recipe would overwrite each
// other's artifacts and fight over the image tag; the second one fails at once with who holds
// the lock. A lock left by a process that died (kill -9, power loss) is taken over; one taken on
// another host (an output directory on shared storage) cannot be checked, so it is never taken
// over: the message names the file to remove.
import { hostname } from "node:os";
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { BootsmithError, EXIT, fileSystemFailure, UserError } from "../core/errors.js";

export const LOCK_FILE = ".bootsmith.lock";

export class BuildLockedError extends BootsmithError {
  constructor(
    readonly lockFile: string,
    readonly holder: number,
    readonly holderHost?: string,
  ) {
    super(
      holderHost === undefined
        ? `another bootsmith build (pid ${holder}) is writing ${path.dirname(lockFile)}; wait for it, or build into another --out directory`
        : `another bootsmith build (pid ${holder} on ${holderHost}) is writing ${path.dirname(lockFile)}; wait for it, or build into another --out directory; if no build runs on ${holderHost}, remove ${lockFile}`,
      EXIT.failed,
    );
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
      writeSync(fd, `${process.pid} ${hostname()}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, file);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // "PID HOST" (older bootsmith: "PID", this host's).
      const [pidText = "", host] = readFileSync(file, "utf8").trim().split(/\s+/);
      const holder = Number.parseInt(pidText, 10);
      if (host !== undefined && host !== hostname()) throw new BuildLockedError(file, holder, host);
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
