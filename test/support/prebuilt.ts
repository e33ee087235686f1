// A build that .ci/run starts before the suite and that goes on beside it (the arm64 example,
// cross-built through qemu-user). It runs in its own buildah storage, so the tests that compare
// the default storage's containers and mounts before and after a build never see it; the test
// that needs its output waits for it here, then copies its image into the default storage.
import { readFileSync } from "node:fs";
import path from "node:path";
import { run } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";
import { runRootOf } from "./storage-root.js";
import { waitForAnyFile } from "./wait-for-file.js";

export interface PrebuiltBuild {
  /** The file .ci/run writes with the build's exit status when it ends. */
  readonly statusFile: string;
  /** The build's log, named in the error when it failed. */
  readonly log?: string;
}

/** Waits for the build to end; throws with its exit status and log when it failed. */
export async function awaitPrebuilt(build: PrebuiltBuild, timeoutMs: number): Promise<void> {
  await waitForAnyFile([build.statusFile], timeoutMs);
  const status = readFileSync(build.statusFile, "utf8").trim();
  if (status !== "0") throw new Error(`the build started before the suite failed (exit ${status})${build.log ? `; its log: ${build.log}` : ""}`);
}

/**
 * Copies an image from the storage a build used (BOOTSMITH_STORAGE_ROOT=storageRoot, with the run
 * root bootsmith picks for it) into the default one, where the tests' buildah and bootsmith look.
 */
export async function copyFromStorage(storageRoot: string, ref: string): Promise<void> {
  const runRoot = runRootOf(storageRoot);
  const source = `containers-storage:[${path.resolve(storageRoot)}+${runRoot}]${ref}`;
  await run({ file: "skopeo", args: ["copy", "--quiet", source, `containers-storage:${ref}`] }, { step: "test", reporter: silentReporter });
}
