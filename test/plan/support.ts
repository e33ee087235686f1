// Shared by the plan tests: fixed, machine-independent plan options and path normalization.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PlanOptions } from "../../src/plan/planner.js";

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
