// --refresh (the nightly rebuild) around one build: read the previous manifest before the build
// removes it, skip publishing when no package changed, and afterwards write the changelog.
// The previous manifest is the one in the output directory; a runner that never built the recipe
// (a fresh CI runner without the job's cache) compares with the set its S3 or directory target
// holds instead, the one nodes boot now.
import path from "node:path";
import type { Manifest } from "../core/manifest.js";
import type { LoadedRecipe } from "../recipe/load.js";
import { readManifestFacts, readPublishedSet } from "./cache.js";
import { writeChangelog } from "./changelog.js";
import { diffPackages, isEmpty, packageDiffSummary } from "../core/package-diff.js";

export interface RefreshHooks {
  readonly skipPublish?: (m: Manifest) => string | undefined;
  readonly after: () => string | undefined;
}

/** The hooks for one build; used by graph mode and by `build FILE --refresh`. */
export async function refreshHooks(recipe: LoadedRecipe, outDir: string, publishes: boolean): Promise<RefreshHooks> {
  const previous = await previousBuild(recipe, outDir);
  const old = previous?.manifest;
  return {
    skipPublish: old
      ? (m) =>
          isEmpty(diffPackages(old.packages, m.packages))
            ? `no package changed since the ${previous.source} of ${old.builtAt}: not published or registered`
            : undefined
      : undefined,
    after: () => {
      const now = readManifestFacts(outDir);
      if (now.kind !== "found") return undefined;
      const log = diffPackages(old?.packages ?? [], now.manifest.packages);
      writeChangelog(outDir, old, now.manifest, log);
      const where = path.relative(process.cwd(), path.join(outDir, "changelog.md"));
      if (!old) return `first build (no previous manifest to compare with); ${where}`;
      const since = previous.source === "build" ? "" : ` since the set published at ${previous.where}`;
      if (isEmpty(log)) return `${publishes ? "no package changed: publish and register skipped" : "no package changed"}${since}`;
      return `${packageDiffSummary(log)}${since}; ${where}`;
    },
  };
}

type PreviousBuild =
  { readonly source: "build"; readonly manifest: Manifest } | { readonly source: "published set"; readonly manifest: Manifest; readonly where: string };

async function previousBuild(recipe: LoadedRecipe, outDir: string): Promise<PreviousBuild | undefined> {
  const local = readManifestFacts(outDir);
  if (local.kind === "found") return { source: "build", manifest: local.manifest };
  const published = await readPublishedSet(recipe);
  return published?.kind === "found" ? { source: "published set", manifest: published.manifest, where: published.where } : undefined;
}
