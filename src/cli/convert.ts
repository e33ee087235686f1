// bootsmith convert: write an OpenCHAMI image-builder or image-thrillhouse config as a native
// bootsmith recipe. validate/plan/build read those configs directly; convert is for sites that
// want to move to the native format (and see what changes in meaning, in its header).
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs } from "./args.js";
import { loadRecipe } from "../recipe/load.js";
import { RecipeError } from "../recipe/errors.js";
import { readYamlSource } from "../recipe/source.js";
import { convertForeign } from "../recipe/compat/index.js";
import { emitRecipe } from "../recipe/compat/emit.js";

/** The JSON Schema shipped with bootsmith (package root/schema), for yaml-language-server. */
const SCHEMA_FILE = fileURLToPath(new URL("../../schema/recipe.schema.json", import.meta.url));

export const convertCommand: CliCommand = {
  name: "convert",
  summary: "Convert an OpenCHAMI image-builder or image-thrillhouse config to a bootsmith recipe",
  usage: `Usage: bootsmith convert CONFIG.yaml [-o RECIPE.yaml] [--force] [--release R]

Reads an OpenCHAMI image-builder (options:/repos:/packages:/cmds:) or image-thrillhouse
(meta:/layer:/publish:) config and writes the equivalent bootsmith recipe: building either gives
the same plan. The recipe's header lists what differs from the original tool.
validate, plan and build also read such configs directly; convert is not needed for that.

Options:
  -o, --out FILE   write the recipe to FILE (next to the config when it copies files);
                   default: standard output
  --force          overwrite FILE
  --release R      dnf release (--releasever) for an image-builder config from scratch whose
                   repository URLs do not name it (image-builder took the build host's)
  -h, --help       this help

Exit codes: 0 converted, 2 the config is invalid or uses what bootsmith cannot do.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("convert", args, {
      out: { type: "string", short: "o" },
      force: { type: "boolean" },
      release: { type: "string" },
    });
    if (positionals.length !== 1)
      throw new UserError("bootsmith convert: name exactly one config file, e.g. bootsmith convert rocky-9-base.yaml -o rocky-9-base.bootsmith.yaml");
    const file = path.resolve(positionals[0]!);
    const read = readYamlSource(file);
    if (!read.ok) throw new RecipeError(read.issues);
    const compat = values.release === undefined ? {} : { release: values.release };
    const foreign = convertForeign(read.source, compat);
    if (!foreign)
      throw new UserError(
        `${positionals[0]}: already a bootsmith recipe (no image-builder options: or image-thrillhouse meta:/layer: at the top level); nothing to convert`,
      );
    // Everything the native loader checks (files next to the config, semantics) is reported
    // now, against the original file, rather than when the written recipe is first used.
    const loaded = loadRecipe(file, { vars: {}, compat });

    const out = values.out === undefined ? undefined : path.resolve(values.out);
    if (out && loaded.fileSources.size > 0 && path.dirname(out) !== path.dirname(file)) {
      throw new UserError(
        `bootsmith convert: write the recipe next to ${positionals[0]} (in ${path.dirname(file)}): it copies files whose src: paths are relative to the recipe's directory`,
      );
    }
    if (out && existsSync(out) && !values.force) throw new UserError(`bootsmith convert: ${values.out} exists; pass --force to overwrite it`);
    const base = out ? path.dirname(out) : process.cwd();
    const text = emitRecipe(foreign, {
      schemaRef: path.relative(base, SCHEMA_FILE) || SCHEMA_FILE,
      sourceLabel: path.relative(base, file) || path.basename(file),
    });
    if (!out) {
      process.stdout.write(text);
      return EXIT.ok;
    }
    writeFileSync(out, text);
    const notes = foreign.notes.length === 1 ? "1 note" : `${foreign.notes.length} notes`;
    process.stderr.write(
      `${values.out}: bootsmith recipe for ${loaded.spec.name}:${loaded.spec.tags.join(",")} from the ${foreign.format} config ${positionals[0]} (${notes} on what differs, in its header)\n`,
    );
    return EXIT.ok;
  },
};
