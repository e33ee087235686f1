// bootsmith validate: load and check recipes without planning side effects.
import { statSync } from "node:fs";
import path from "node:path";
import { EXIT } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe, type LoadedRecipe } from "../recipe/load.js";
import { unusedVarWarnings } from "../recipe/unused-vars.js";
import { formatWarnings, RecipeError } from "../recipe/errors.js";
import { UserError } from "../core/errors.js";
import { collectRecipeFiles, isSingleRecipeFile, linkRecipes } from "../pipeline/graph.js";

export const validateCommand: CliCommand = {
  name: "validate",
  summary: "Check recipes: schema, variables, files, parents",
  usage: `Usage: bootsmith validate RECIPE.yaml|DIR|LIST... [--var KEY=VALUE]...

Checks each recipe strictly (unknown keys, types, MACs, xnames, tags, URLs, variables, files,
parent recipes, initramfs modules that cannot work on the image's family) and reports every
problem with file:line:column and the path inside the recipe. Warnings (a module whose packages
no layer names) are printed but do not fail. Nothing is built and no command is run.
A directory (searched for recipes) or a list file is read as build reads it, and the recipes
given are checked as one tree, as a build of them would be: two of one name or image fail.

Options:
  --var KEY=VALUE   set a recipe variable (overrides vars:); repeatable
  -h, --help        this help

Exit codes: 0 all valid, 2 at least one recipe is invalid.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("validate", args, { var: { type: "string", multiple: true } });
    if (positionals.length === 0) throw new UserError("bootsmith validate: name at least one recipe file, e.g. bootsmith validate recipes/debian-12-live.yaml");
    const vars = parseVarOptions(values.var);
    let failed = 0;
    const loaded: LoadedRecipe[] = [];
    // A parent shared by several recipes given is read once.
    const known = new Map<string, LoadedRecipe>();
    for (const file of positionals.flatMap(recipeFilesOf)) {
      try {
        const recipe = loadRecipe(file, { vars, loaded: known });
        loaded.push(recipe);
        // An OpenCHAMI config builds with some differences in meaning; convert lists them.
        const converted = recipe.converted
          ? `, an OpenCHAMI ${recipe.converted.format} config: \`bootsmith convert ${file}\` shows it as a recipe, with ${recipe.converted.notes.length} differences from ${recipe.converted.format}`
          : "";
        process.stderr.write(formatWarnings(recipe.warnings));
        process.stdout.write(
          `${file}: ok (${recipe.spec.name}:${recipe.spec.tags.join(",")}${recipe.parent ? `, on ${recipe.parent.spec.name}` : ""}${converted})\n`,
        );
      } catch (error) {
        if (!(error instanceof RecipeError)) throw error;
        failed++;
        process.stderr.write(`${error.message}\n`);
      }
    }
    try {
      // What graph builds refuse of a tree (two recipes of one name or image) fails here too.
      linkRecipes(loaded);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failed++;
      process.stderr.write(`${error.message}\n`);
    }
    process.stderr.write(unusedVarWarnings(vars, loaded));
    return failed === 0 ? EXIT.ok : EXIT.usage;
  },
};

/**
 * The recipe files an argument names: itself (as given, so a missing one is reported by the
 * loader), or the recipes of a directory or list file, shown under the path given.
 */
function recipeFilesOf(arg: string): string[] {
  if (isSingleRecipeFile(arg)) return [arg];
  const base = statSync(arg).isDirectory() ? arg : path.dirname(arg);
  return collectRecipeFiles([arg]).map((file) => path.join(base, path.relative(path.resolve(base), file)));
}
