// Scratch directories a test file makes under the system's temp directory, removed when the
// file's tests are done: a suite that runs many times a day on the same runner must not leave
// hundreds of them behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/** A maker of scratch directories named PREFIX + 6 random characters; call it at a test file's top level. */
export function scratchDirs(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
