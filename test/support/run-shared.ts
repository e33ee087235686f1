// What the files of one integration run share, so that each does not pay for it again: a Ceph
// (test/publish/support/shared-ceph.ts) and fixture parent images (shared-parents.ts). The run's
// global setup (global-setup.ts) provides a directory for them and tears them down when the run
// ends. Whoever needs one first makes it; claim() picks that one caller among worker processes,
// publish() and waitForAnyFile let the others read the result once it is whole.
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The integration run's directory for shared fixtures (test/support/global-setup.ts). */
    runSharedDir: string;
  }
}

/** `<run's shared dir>/<name>`, created; undefined outside a run that provides one (then each file makes its own). */
export function runSharedPath(name: string): string | undefined {
  const dir = inject("runSharedDir") as string | undefined;
  if (!dir) return undefined;
  mkdirSync(join(dir, name), { recursive: true });
  return join(dir, name);
}

/** True for the one caller that creates `file` (O_EXCL), false for every other. */
export function claim(file: string): boolean {
  try {
    closeSync(openSync(file, "wx"));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Writes `file` whole, then renames it into place, so a waiter never reads half of it. */
export function publish(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
