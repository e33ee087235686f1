// A test that needs a tool, a server or a variable this machine may lack. In CI (`CI` set) a
// missing prerequisite fails the file at once: a suite must not go green by skipping what it
// was meant to run. Locally the test is skipped, and the skip says what to install.
import { existsSync } from "node:fs";
import path from "node:path";

export interface Prerequisite {
  /** What the tests need, e.g. "qemu-system-x86_64 and the iPXE virtio ROM". */
  readonly need: string;
  /** Whether it is there. */
  readonly present: boolean;
  /** How to get it, e.g. "apt-get install qemu-system-x86 ipxe-qemu (scripts/setup.sh does)". */
  readonly install: string;
}

export class MissingPrerequisiteError extends Error {
  constructor(test: string, missing: readonly Prerequisite[]) {
    super(`${test}: missing in CI, where nothing may be skipped: ${describe(missing)}`);
    this.name = "MissingPrerequisiteError";
  }
}

const describe = (missing: readonly Prerequisite[]) => missing.map((p) => `${p.need} (${p.install})`).join("; ");

/** True when CI is set to anything but "" / "0" / "false", as vitest itself reads it. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * For `describe.skipIf(...)` / `it.skipIf(...)`: true (skip) when a prerequisite is missing
 * outside CI, after printing what to install; throws in CI; false when all are present.
 */
export function missingPrerequisites(test: string, prerequisites: readonly Prerequisite[], env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = prerequisites.filter((p) => !p.present);
  if (missing.length === 0) return false;
  if (inCi(env)) throw new MissingPrerequisiteError(test, missing);
  console.warn(`SKIPPED ${test}: needs ${describe(missing)}`);
  return true;
}

/**
 * The README's main job's output (recipes/debian-12-live.yaml built with the real Debian kernel
 * and dracut), handed to the tests by .ci/run in BOOTSMITH_TEST_ARTIFACTS.
 */
export function mainJobArtifacts(files: readonly string[], env: NodeJS.ProcessEnv = process.env): { readonly dir: string | undefined } & Prerequisite {
  const dir = env.BOOTSMITH_TEST_ARTIFACTS;
  const lacking = dir === undefined ? files : files.filter((f) => !existsSync(path.join(dir, f)));
  return {
    dir,
    need: dir === undefined ? `BOOTSMITH_TEST_ARTIFACTS (the main job's ${files.join(", ")})` : `${lacking.join(", ")} in BOOTSMITH_TEST_ARTIFACTS=${dir}`,
    present: dir !== undefined && lacking.length === 0,
    install: "bash scripts/quickstart.sh, then BOOTSMITH_TEST_ARTIFACTS=$PWD/artifacts/debian-12-live/bookworm (.ci/run does both)",
  };
}
