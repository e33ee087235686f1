// bootsmith validate: load and check recipes without planning side effects.
import { EXIT } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe, type LoadedRecipe } from "../recipe/load.js";
import { unusedVarWarnings } from "../recipe/unused-vars.js";
import { formatWarnings, RecipeError } from "../recipe/errors.js";
import { UserError } from "../core/errors.js";

export const validateCommand: CliCommand = {
  name: "validate",
  summary: "Check recipes: schema, variables, files, parents",
  usage: `Usage: bootsmith validate RECIPE.yaml... [--var KEY=VALUE]...

Checks each recipe strictly (unknown keys, types, MACs, xnames, tags, URLs, variables, files,
parent recipes, initramfs modules that cannot work on the image's family) and reports every
problem with file:line:column and the path inside the recipe. Warnings (a module whose packages
no layer names) are printed but do not fail. Nothing is built and no command is run.

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
    for (const file of positionals) {
      try {
        const recipe = loadRecipe(file, { vars });
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
    process.stderr.write(unusedVarWarnings(vars, loaded));
    return failed === 0 ? EXIT.ok : EXIT.usage;
  },
};
