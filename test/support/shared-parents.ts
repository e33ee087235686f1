// Fixture parent images that several files build children on (a Debian parent with dnf, zypper
// and rpm: ~1 min of mmdebstrap): built once per integration run, by the first file that needs
// one, into the run's shared directory (run-shared.ts), and found up to date there by the others
// (`bootsmith build --if-changed`: the manifest's key and the image's label). The global setup
// removes the images when the run ends. Package caches stay at their defaults, so the main job's
// Debian downloads are reused.
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { bootsmith, type CliResult } from "./cli.js";
import { runSharedPath } from "./run-shared.js";

export interface SharedParent {
  readonly result: CliResult;
  /** The parent's output directory (its manifest.json). */
  readonly out: string;
}

/**
 * Builds the parent recipe `file` unless this run already did. Files run one at a time, so a
 * second caller finds the first one's build finished (two at once would meet at the output
 * directory's lock, which fails the second clearly).
 */
export async function sharedParent(file: string, timeoutMs = 900_000): Promise<SharedParent> {
  const name = path.basename(file, ".yaml");
  const shared = runSharedPath("parents");
  const out = shared ? path.join(shared, name) : path.join(mkdtempSync(path.join(tmpdir(), "bootsmith-parent-")), name);
  const work = path.join(runSharedPath("work") ?? path.dirname(out), `work-${name}`);
  const result = await bootsmith(["build", file, "--out", out, "--if-changed", "--progress", "plain"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: work },
    timeoutMs,
  });
  return { result, out };
}
