// Shared by the plan tests: fixed, machine-independent plan options and path normalization.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { plan, type PlanOptions } from "../../src/plan/planner.js";
import { loadRecipe } from "../../src/recipe/load.js";
import type { PlannedCommand } from "../../src/steps/types.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const RECIPES_DIR = path.join(REPO_ROOT, "recipes");

/** Built directly (not by planOptions()) so nothing comes from the host running the tests. */
export function fixedPlanOptions(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    buildId: "test",
    outDir: "/srv/bootsmith/out",
    workDir: "/var/tmp/bootsmith/work-test",
    cacheDir: "/var/cache/bootsmith",
    buildah: { globalArgs: [], isolation: "chroot" },
    hostAptSources: ["/etc/apt/sources.list.d/debian.sources"],
    cores: 2,
    sourceDateEpoch: undefined,
    publish: true,
    ...overrides,
  };
}

/** Every command the plan of the recipe in `file` runs (exec actions, in order), with the fixed options. */
export function plannedCommands(file: string): PlannedCommand[] {
  return plan(loadRecipe(file, { env: {} }), fixedPlanOptions())
    .steps.flatMap((s) => s.actions)
    .flatMap((a) => (a.kind === "exec" ? [a.command] : []));
}

/**
 * Snapshots must not depend on where the repository is checked out (CI clones elsewhere), nor
 * on the tool version and the checkout's file modes (both feed the input digest): the checkout
 * path becomes <repo> and each digest named in `digests` becomes <input-digest>.
 */
export function normalize(text: string, digests: readonly string[]): string {
  let out = text.replaceAll(REPO_ROOT, "<repo>");
  for (const d of digests) out = out.replaceAll(d, "<input-digest>");
  return out;
}
