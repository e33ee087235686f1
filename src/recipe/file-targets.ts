// Which image paths the files: entries write, in order, so that an entry a later one replaces
// entirely is said when the recipe loads: buildah copies them one after the other, and the
// earlier file would be lost without a word. Overlays stay allowed: a directory copied over
// another merges with it, and a file listed after a directory overrides one of its files (the
// directory still brings the others). A file listed before a directory that holds the same
// path is the mistake: the directory's copy replaces it.
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import type { RecipeIssue } from "./errors.js";
import type { FileSpec } from "./schema.js";
import { issueAt, type YamlSource } from "./source.js";

/**
 * Issues for entries that replace an earlier one. `hostSources` are the resolved `src` paths by
 * index, `directories` the indices among them that are directories; an entry whose src did not
 * resolve is skipped (it has its own issue).
 */
export function checkFileOverwrites(
  source: YamlSource,
  files: readonly FileSpec[],
  hostSources: ReadonlyMap<number, string>,
  directories: ReadonlySet<number>,
): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  /** Image path → the single-file entry that wrote it last. */
  const written = new Map<string, number>();
  const lineOf = (j: number) => issueAt(source, ["files", j], "").line;
  files.forEach((f, i) => {
    const host = hostSources.get(i);
    if (f.src !== undefined && host === undefined) return;
    const dest = path.posix.normalize(f.dest);
    if (host !== undefined && directories.has(i)) {
      // buildah copies a directory's contents into dest.
      for (const rel of filesIn(host)) {
        const target = path.posix.join(dest, rel);
        const j = written.get(target);
        if (j === undefined) continue;
        written.delete(target);
        issues.push(
          issueAt(
            source,
            ["files", i, "src"],
            `${f.src} holds ${rel}, which replaces ${target} written by files[${j}] (line ${lineOf(j)}): list files[${j}] after this directory (to override its copy), or remove it`,
          ),
        );
      }
      return;
    }
    // A dest ending in / is a directory the file is copied into under its own name.
    const target = host !== undefined && dest.endsWith("/") ? path.posix.join(dest, path.basename(host)) : dest.replace(/(.)\/+$/, "$1");
    const j = written.get(target);
    if (j !== undefined)
      issues.push(
        issueAt(
          source,
          ["files", i, "dest"],
          `${target} is written by files[${j}] (line ${lineOf(j)}) too, and this copy replaces it: remove one of them, or merge them into one file`,
        ),
      );
    written.set(target, i);
  });
  return issues;
}

/** The paths of the files (and symbolic links, copied as links) under `dir`, relative to it, with / separators. */
function filesIn(dir: string, prefix = ""): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const rel = prefix ? `${prefix}/${entry}` : entry;
      return lstatSync(path.join(dir, entry)).isDirectory() ? filesIn(path.join(dir, entry), rel) : [rel];
    });
}
