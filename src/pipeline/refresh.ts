// --refresh (the nightly rebuild) around one build: read the previous manifest before the build
// removes it, skip publishing when no package changed, and afterwards write the changelog.
import path from "node:path";
import type { Manifest } from "../core/manifest.js";
import { readManifestFacts } from "./cache.js";
import { writeChangelog } from "./changelog.js";
import { diffPackages, isEmpty, packageDiffSummary } from "../core/package-diff.js";

/** The hooks for one build; used by graph mode and by `build FILE --refresh`. */
export function refreshHooks(outDir: string, publishes: boolean): { skipPublish?: (m: Manifest) => string | undefined; after: () => string | undefined } {
  const previous = readManifestFacts(outDir);
  const old = previous.kind === "found" ? previous.manifest : undefined;
  return {
    skipPublish: old
      ? (m) =>
          isEmpty(diffPackages(old.packages, m.packages)) ? `no package changed since the build of ${old.builtAt}: not published or registered` : undefined
      : undefined,
    after: () => {
      const now = readManifestFacts(outDir);
      if (now.kind !== "found") return undefined;
      const log = diffPackages(old?.packages ?? [], now.manifest.packages);
      writeChangelog(outDir, old, now.manifest, log);
      const where = path.relative(process.cwd(), path.join(outDir, "changelog.md"));
      if (!old) return `first build (no previous manifest to compare with); ${where}`;
      if (isEmpty(log)) return publishes ? "no package changed: publish and register skipped" : "no package changed";
      return `${packageDiffSummary(log)}; ${where}`;
    },
  };
}
