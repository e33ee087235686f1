// bootsmith schema: print the recipe JSON Schema (for editors: yaml-language-server).
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs } from "./args.js";
import { recipeJsonSchema } from "../recipe/schema.js";

export const SCHEMA_ID = "https://bootsmith.dev/schema/recipe-v1.json";

export function schemaDocument(): Record<string, unknown> {
  return { $id: SCHEMA_ID, title: "bootsmith recipe (v1)", ...recipeJsonSchema() };
}

export const schemaCommand: CliCommand = {
  name: "schema",
  summary: "Print the recipe JSON Schema",
  usage: `Usage: bootsmith schema

Prints the JSON Schema of the recipe format. The repository keeps a copy in
schema/recipe.schema.json; recipes reference it with a first line such as
  # yaml-language-server: $schema=../schema/recipe.schema.json`,
  async run(args) {
    // Takes nothing: a mistyped option or a file name (`schema -o x.json`) is said, not ignored.
    const { positionals } = parseCommandArgs("schema", args, {});
    if (positionals.length > 0)
      throw new UserError(
        `bootsmith schema: takes no arguments, got ${JSON.stringify(positionals.join(" "))}; redirect its output: bootsmith schema > recipe.schema.json`,
      );
    process.stdout.write(`${JSON.stringify(schemaDocument(), null, 2)}\n`);
    return EXIT.ok;
  },
};
