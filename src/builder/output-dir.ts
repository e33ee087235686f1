// The output directory across a rebuild. A nightly rebuild that fails (a mirror down, Ctrl-C)
// must not cost the site its last good artifacts: the previous build's files are set aside in
// PREVIOUS_DIR when the build starts, put back when it fails, and removed when it succeeds. The
// old manifest leaves the directory first (its presence means "complete"), so at no moment does
// the directory look complete with a mix of old and new files.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import type { CleanupStack } from "../exec/cleanup.js";
import { ARTIFACT_FILES, MANIFEST_FILE, SCAN_FILES } from "../core/manifest.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import type { Plan } from "../steps/types.js";
import { createWorkDir } from "./work-dir.js";

/** Where the previous build's files wait while a rebuild runs (inside the output directory: a rename, never a copy). */
export const PREVIOUS_DIR = ".previous-build";

/** The files a build writes into its output directory, manifest first. */
const OWNED = [MANIFEST_FILE, SUMS_FILE, SIGNATURE_FILE, ...Object.values(ARTIFACT_FILES)];
/**
 * A scan's reports: a previous build's would be mistaken for this one's, so they are set aside
 * too; a failed scan's own reports stay, for reading why (then the previous ones are not put back).
 */
const REPORTS = Object.values(SCAN_FILES);

/**
 * Make the output and work directories ready for a build. Returns what to call on success: keep
 * the new artifacts, drop the previous ones and the work directory. Until then, unwinding
 * `cleanup` (a failure, Ctrl-C) removes what the build wrote and puts the previous build back.
 */
export function prepareOutDir(plan: Pick<Plan, "outDir" | "workDir">, ctx: { readonly cleanup: CleanupStack }): () => void {
  const { outDir } = plan;
  mkdirSync(outDir, { recursive: true });
  createWorkDir(plan.workDir);
  const previous = path.join(outDir, PREVIOUS_DIR);
  const at = (dir: string, files: readonly string[]) => files.map((f) => path.join(dir, f));
  const removePartial = () => {
    for (const f of at(outDir, OWNED)) rmSync(f, { force: true });
  };
  const complete = existsSync(path.join(outDir, MANIFEST_FILE));
  if (complete) {
    // Left by a build that completed and stopped before removing it: outdated.
    rmSync(previous, { recursive: true, force: true });
    mkdirSync(previous);
    for (const name of [...OWNED, ...REPORTS]) {
      if (existsSync(path.join(outDir, name))) renameSync(path.join(outDir, name), path.join(previous, name));
    }
  } else {
    // No complete build here: a first build, leftovers of an incomplete one, or the partial output
    // of a build killed (kill -9, power loss) before it could put PREVIOUS_DIR back, which then
    // still holds the last complete build.
    removePartial();
    for (const f of at(outDir, REPORTS)) rmSync(f, { force: true });
  }
  const removeWork = async () => rmSync(plan.workDir, { recursive: true, force: true });
  const dropWork = ctx.cleanup.push("remove the work directory", removeWork);
  const dropRestore = ctx.cleanup.push("remove partial artifacts and put the previous build back", async () => {
    removePartial();
    if (!existsSync(previous)) return;
    for (const name of readdirSync(previous)) {
      const back = path.join(outDir, name);
      if (!existsSync(back)) renameSync(path.join(previous, name), back);
    }
    rmSync(previous, { recursive: true, force: true });
  });
  return () => {
    dropRestore();
    dropWork();
    void removeWork();
    rmSync(previous, { recursive: true, force: true });
  };
}
