// bootsmith artifacts: the steps of a build that bootsmith performs on the output directory, as
// commands a person can run (`bootsmith plan` prints them; the build logs them). Not in the
// main help: it is the plan's vocabulary, documented in docs/plan.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe } from "../recipe/load.js";
import { verifyInitramfsKernel } from "../builder/initramfs.js";
import { readKernelRecord } from "../builder/kernel.js";
import { writeManifest } from "../builder/manifest-writer.js";
import { detectTools } from "../builder/host-tools.js";
import { sourceDateEpochFrom } from "../builder/options.js";
import { silentReporter } from "../exec/events.js";

const usage = `Usage: bootsmith artifacts verify-initramfs FILE KVER
       bootsmith artifacts write-manifest DIR --recipe RECIPE [--var K=V]... [--image-id ID]
                                              [--kernel-record FILE] [--packages FILE]

The steps of a build that bootsmith performs itself on the output directory, exactly as
\`bootsmith build\` does them:

  verify-initramfs  check that the initramfs FILE holds lib/modules/KVER (an initramfs made
                    for another kernel cannot load its modules); exit 1 when it does not
  write-manifest    hash DIR's artifacts and write DIR/manifest.json (written last: its presence
                    means the set is complete), from the recipe (loaded with the same --var
                    values), the committed image's id, the kernel record written by
                    \`bootsmith rootfs select-kernel --record\` and the package list the build's
                    list-packages step saved. SOURCE_DATE_EPOCH is recorded when set. Step
                    timings exist only in a build's own manifest.`;

export const artifactsCommand: CliCommand = {
  name: "artifacts",
  summary: "Steps a build does on its output: verify-initramfs, write-manifest",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("artifacts", args, {
      recipe: { type: "string" },
      var: { type: "string", multiple: true },
      "image-id": { type: "string" },
      "kernel-record": { type: "string" },
      packages: { type: "string" },
    });
    const [sub, ...rest] = positionals;
    switch (sub) {
      case "verify-initramfs": {
        if (rest.length !== 2) throw new UserError("bootsmith artifacts verify-initramfs: expected FILE KVER");
        await verifyInitramfsKernel(rest[0]!, rest[1]!);
        return EXIT.ok;
      }
      case "write-manifest": {
        if (rest.length !== 1 || !values.recipe) throw new UserError("bootsmith artifacts write-manifest: expected DIR --recipe RECIPE");
        const recipe = loadRecipe(values.recipe, { vars: parseVarOptions(values.var) });
        const tools = await detectTools(process.env.PATH, silentReporter);
        const manifest = await writeManifest({
          recipe,
          outDir: path.resolve(rest[0]!),
          imageId: values["image-id"] || undefined,
          kernel: values["kernel-record"] ? readKernelRecord(values["kernel-record"]) : undefined,
          packages: values.packages ? readFileSync(values.packages, "utf8") : "",
          tools: Object.fromEntries(tools.filter((t) => t.version).map((t) => [t.name, t.version!])),
          timings: [],
          sourceDateEpoch: sourceDateEpochFrom(process.env),
        });
        process.stdout.write(
          `${path.join(path.resolve(rest[0]!), "manifest.json")}: ${Object.keys(manifest.artifacts).length} artifacts, ${manifest.packages.length} packages\n`,
        );
        return EXIT.ok;
      }
      default:
        throw new UserError(
          `bootsmith artifacts: ${sub === undefined ? "name a subcommand" : `unknown subcommand "${sub}"`}: verify-initramfs or write-manifest\n${usage}`,
        );
    }
  },
};
