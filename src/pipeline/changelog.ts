// The nightly refresh's question: did the rebuild change any package? The comparison is
// `bootsmith diff`'s package diff (core/package-diff.ts); this module writes its answer as
// changelog.md / changelog.json next to the manifest.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Manifest } from "../core/manifest.js";
import { isEmpty, packageDiffMarkdown, type PackageDiff } from "../core/package-diff.js";

export function changelogMarkdown(name: string, before: Pick<Manifest, "builtAt"> | undefined, after: Pick<Manifest, "builtAt">, log: PackageDiff): string {
  const lines = [`# ${name}: packages ${before ? `${before.builtAt} → ${after.builtAt}` : `first build ${after.builtAt}`}`, "", ...packageDiffMarkdown(log)];
  if (isEmpty(log)) lines.push("No package changed.", "");
  return lines.join("\n");
}

/** Write changelog.md and changelog.json into the output directory. */
export function writeChangelog(outDir: string, before: Manifest | undefined, after: Manifest, log: PackageDiff): void {
  writeFileSync(path.join(outDir, "changelog.md"), changelogMarkdown(after.name, before, after, log));
  writeFileSync(
    path.join(outDir, "changelog.json"),
    `${JSON.stringify({ name: after.name, from: before?.builtAt ?? null, to: after.builtAt, ...log }, null, 2)}\n`,
  );
}
