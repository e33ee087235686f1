// bootsmith plan: print exactly what `build` would run, as a bash script or as JSON.
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe } from "../recipe/load.js";
import { formatWarnings } from "../recipe/errors.js";
import { plan } from "../plan/planner.js";
import { renderPlan } from "../plan/render.js";
import { makeRedactor } from "../exec/reporters/redact.js";
import { secretValues } from "../builder/secrets.js";
import { planOptions } from "../builder/options.js";

export const planCommand: CliCommand = {
  name: "plan",
  summary: "Print the commands a build would run (bash or --json)",
  usage: `Usage: bootsmith plan RECIPE.yaml [options]

Prints the build plan: numbered steps as a copy-pasteable bash script (every value quoted;
runtime values such as the container mount appear as "$MNT", the chosen kernel as "$KVER").
Nothing is run.

Options:
  --json              print the Plan as JSON
  --out DIR           artifact directory (default ./artifacts/<name>/<tag>)
  --build-id ID       fix the build id (names the working container); default: time + random
  --var KEY=VALUE     set a recipe variable; repeatable
  --no-publish        leave out the publish and register steps
  --storage-root DIR  buildah storage root (BOOTSMITH_STORAGE_ROOT)
  --storage-driver D  buildah storage driver (BOOTSMITH_STORAGE_DRIVER)
  --isolation I       buildah run isolation: chroot (default), oci, rootless (BOOTSMITH_ISOLATION)
  -h, --help          this help`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("plan", args, {
      json: { type: "boolean" },
      out: { type: "string" },
      "build-id": { type: "string" },
      var: { type: "string", multiple: true },
      "no-publish": { type: "boolean" },
      "storage-root": { type: "string" },
      "storage-driver": { type: "string" },
      isolation: { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith plan: name exactly one recipe file, e.g. bootsmith plan recipes/debian-12-live.yaml");
    const recipe = loadRecipe(positionals[0]!, { vars: parseVarOptions(values.var) });
    process.stderr.write(formatWarnings(recipe.warnings));
    const thePlan = plan(
      recipe,
      planOptions(recipe, {
        outDir: values.out,
        buildId: values["build-id"],
        publish: !values["no-publish"],
        storageRoot: values["storage-root"],
        storageDriver: values["storage-driver"],
        isolation: values.isolation,
      }),
    );
    // The plan shows every command with its arguments: the recipe's secrets become ***.
    const scrub = makeRedactor([...secretValues(), ...recipe.secrets]);
    process.stdout.write(values.json ? `${JSON.stringify(thePlan, (_key, value: unknown) => (typeof value === "string" ? scrub(value) : value), 2)}\n` : scrub(renderPlan(thePlan)));
    return EXIT.ok;
  },
};
