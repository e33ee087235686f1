// bootsmith lock: write a recipe's lock file (RECIPE.lock.json, next to the recipe) from the
// package list of its last build's manifest, for `bootsmith build --locked`.
import { existsSync } from "node:fs";
import path from "node:path";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { defaultOutDir } from "../builder/options.js";
import { MANIFEST_FILE } from "../core/manifest.js";
import { readManifestFacts } from "../pipeline/cache.js";
import { collectRecipeFiles, linkRecipes, loadRecipes } from "../pipeline/graph.js";
import { diffPackages, packageDiffSummary } from "../core/package-diff.js";
import { lockFilePath, lockFromManifest, readLockFile, writeLockFile, type LockFile } from "../pipeline/lockfile.js";

export const lockCommand: CliCommand = {
  name: "lock",
  summary: "Write a recipe's lock file of resolved package versions from its last build",
  usage: `Usage: bootsmith lock RECIPE.yaml [--out DIR] [--var KEY=VALUE]…
       bootsmith lock DIR | RECIPE.yaml… | LIST [--out ROOT] [--var KEY=VALUE]…

Writes RECIPE.lock.json next to each recipe (recipes/x.yaml → recipes/x.lock.json): the
packages (name, epoch, version, release, arch) of the recipe's last build, read from the
manifest.json in its output directory. Commit it with the recipe; then
\`bootsmith build RECIPE --locked\` fails, before anything is published or registered, when
a build installs other packages or versions (added, removed or changed). To accept new
versions: build without --locked (--no-publish), run \`bootsmith lock\` again, commit.

Options:
  --out DIR           the build's output directory (default ./artifacts/<name>/<primary tag>);
                      with several recipes the root, as for \`bootsmith build\`: ROOT/<name>/<tag>
  --var KEY=VALUE     set a recipe variable (as for the build); repeatable
  -h, --help          this help

Exit codes: 0 written, 2 no build yet (or bad recipe or options).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("lock", args, {
      out: { type: "string" },
      var: { type: "string", multiple: true },
    });
    if (positionals.length === 0)
      throw new UserError("bootsmith lock: name the recipe whose last build to lock, e.g. bootsmith lock recipes/debian-12-live.yaml");
    const files = collectRecipeFiles(positionals);
    const single = positionals.length === 1 && files.length === 1 && files[0] === path.resolve(positionals[0]!);
    const vars = parseVarOptions(values.var);
    const planned: { file: string; lock: LockFile; from: string; note?: string }[] = [];
    const problems: string[] = [];
    // Read as build reads the tree: two recipes of one name (one output directory, so one build
    // locked twice) are refused before anything is written.
    const recipes = loadRecipes(files, { vars });
    linkRecipes(recipes);
    for (const recipe of recipes) {
      if (recipe.spec.arches)
        throw new UserError(
          `${recipe.file}: a recipe with arches: (${recipe.spec.arches.join(", ")}) has no per-architecture lock file yet; lock one recipe per architecture (arch:)`,
        );
      const shown = path.relative(process.cwd(), recipe.file) || recipe.file;
      const outDir = single ? path.resolve(values.out ?? defaultOutDir(recipe)) : defaultOutDir(recipe, values.out);
      const where = path.relative(process.cwd(), path.join(outDir, MANIFEST_FILE)) || path.join(outDir, MANIFEST_FILE);
      const facts = readManifestFacts(outDir);
      if (facts.kind === "missing") {
        const out = values.out !== undefined ? ` --out ${single ? values.out : path.relative(process.cwd(), outDir) || outDir}` : "";
        problems.push(`${recipe.spec.name}: no build to lock: ${where} does not exist; build it first: bootsmith build ${shown}${out} --no-publish`);
        continue;
      }
      if (facts.kind === "unreadable") {
        problems.push(`${recipe.spec.name}: ${where} is unreadable (${facts.error}); build again`);
        continue;
      }
      const manifest = facts.manifest;
      if (manifest.name !== recipe.spec.name) {
        problems.push(`${recipe.spec.name}: ${where} is a build of "${manifest.name}", not of ${shown}`);
        continue;
      }
      const note =
        manifest.inputDigest !== recipe.inputDigest
          ? `warning: ${where} (built ${manifest.builtAt}) is a build of an earlier version of ${shown} (key ${manifest.inputDigest.slice(0, 12)}, now ${recipe.inputDigest.slice(0, 12)}); its packages are locked: rebuild and lock again to lock the current recipe`
          : undefined;
      planned.push({
        file: lockFilePath(recipe.file),
        lock: lockFromManifest(manifest),
        from: `${where} (built ${manifest.builtAt})`,
        ...(note ? { note } : {}),
      });
    }
    if (problems.length > 0) throw new UserError(problems.join("\n"));
    for (const { file, lock, from, note } of planned) {
      const previous = existsSync(file) ? safeRead(file) : undefined;
      writeLockFile(file, lock);
      const change = previous ? `; ${packageDiffSummary(diffPackages(previous.packages, lock.packages))} since the previous lock` : "";
      if (note) process.stderr.write(`${note}\n`);
      process.stdout.write(`${lock.recipe}: wrote ${path.relative(process.cwd(), file) || file}: ${lock.packages.length} packages from ${from}${change}\n`);
    }
    return EXIT.ok;
  },
};

/** The lock file being replaced, for the "what changed" line; a broken one is simply replaced. */
function safeRead(file: string): LockFile | undefined {
  try {
    return readLockFile(file);
  } catch {
    return undefined;
  }
}
