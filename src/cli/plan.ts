// bootsmith plan: print exactly what `build` would run, as a bash script or as JSON.
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { expandArches, loadRecipe, registrationTargetType } from "../recipe/load.js";
import path from "node:path";
import { publishTargetArgs, registrationArgs, signArgs } from "../plan/commands.js";
import { renderCommand } from "../exec/quote.js";
import { formatWarnings } from "../recipe/errors.js";
import { unusedVarWarnings } from "../recipe/unused-vars.js";
import { plan } from "../plan/planner.js";
import { renderPlan } from "../plan/render.js";
import type { Plan } from "../steps/types.js";
import { planWithCommands } from "../plan/commands.js";
import { blockingProblems, detectBuildHost, hostPlanOptions, multiArchDir, planOptions, type BuildSettings } from "../builder/options.js";
import type { LoadedRecipe } from "../recipe/load.js";
import type { PlanOptions } from "../plan/planner.js";
import { resolveStorage, storageArgs } from "../builder/storage.js";
import { makeRedactor } from "../exec/reporters/redact.js";
import { secretValues } from "../builder/secrets.js";

export const planCommand: CliCommand = {
  name: "plan",
  summary: "Print the commands a build would run (bash or --json)",
  usage: `Usage: bootsmith plan RECIPE.yaml [options]

Prints the build plan: numbered steps as a copy-pasteable bash script (every value quoted;
runtime values such as the container mount appear as "$MNT", the chosen kernel as "$KVER").
It is what \`bootsmith build\` runs, command for command: the buildah storage options and
isolation come from the same host detection (flags, BOOTSMITH_*, or what works here), and the
steps bootsmith performs itself appear as \`bootsmith rootfs …\`, \`bootsmith artifacts …\`,
\`bootsmith publish …\` and \`bootsmith register …\` (docs/plan.md). The build logs the same
lines in build.log. When the host cannot be checked (no buildah, no root), the header says so
and the storage options are the configured ones only. Nothing is built.

Options:
  --json              print the Plan as JSON; every action carries its command
  --out DIR           artifact directory (default ./artifacts/<name>/<tag>)
  --build-id ID       fix the build id (names the working container); default: time + random
  --var KEY=VALUE     set a recipe variable; repeatable
  --no-publish        leave out the publish and register steps
  --no-commit         no buildah commit, as \`build --no-commit\` and graph mode's builds of
                      recipes nothing builds on (see \`bootsmith build --help\`)
  --refresh           as \`build --refresh\` plans it: a from: {image: …} base is pulled again
                      (--pull=always; without it --pull=missing uses the local copy)
  --storage-root DIR  buildah storage root (BOOTSMITH_STORAGE_ROOT; default: buildah's own;
                      a root given either way gets its own run root, /run/bootsmith/runroot-<hash>)
  --storage-driver D  buildah storage driver (BOOTSMITH_STORAGE_DRIVER; default: the one the
                      root already holds, else detected)
  --isolation I       buildah run isolation: chroot (default), oci, rootless (BOOTSMITH_ISOLATION)
  -h, --help          this help`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("plan", args, {
      json: { type: "boolean" },
      out: { type: "string" },
      "build-id": { type: "string" },
      var: { type: "string", multiple: true },
      "no-publish": { type: "boolean" },
      "no-commit": { type: "boolean" },
      refresh: { type: "boolean" },
      "storage-root": { type: "string" },
      "storage-driver": { type: "string" },
      isolation: { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith plan: name exactly one recipe file, e.g. bootsmith plan recipes/debian-12-live.yaml");
    const vars = parseVarOptions(values.var);
    const loaded = loadRecipe(positionals[0]!, { vars });
    process.stderr.write(formatWarnings(loaded.warnings) + unusedVarWarnings(vars, [loaded]));
    const variants = expandArches(loaded);
    const settings: BuildSettings = {
      outDir: values.out,
      buildId: values["build-id"],
      publish: !values["no-publish"],
      ...(values["no-commit"] ? { commit: false } : {}),
      ...(values.refresh ? { refresh: true } : {}),
      storageRoot: values["storage-root"],
      storageDriver: values["storage-driver"],
      isolation: values.isolation,
    };
    // The plan shows every command with its arguments: the recipe's secrets become ***.
    const scrub = makeRedactor([...secretValues(), ...loaded.secrets]);
    const json = (value: unknown) => `${JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? scrub(v) : v), 2)}\n`;
    if (variants.length === 1) {
      const recipe = variants[0]!;
      const { header, plan: thePlan } = await hostSettings(recipe, settings);
      process.stdout.write(values.json ? json({ host: header, ...planWithCommands(thePlan) }) : scrub(renderPlan(thePlan, { header })));
      return EXIT.ok;
    }
    // Several architectures: one plan per architecture (each its own directory), then what runs
    // once all are built.
    const combinedDir = values.out !== undefined ? path.resolve(values.out) : multiArchDir(loaded);
    const plans = [];
    let storage: readonly string[] = [];
    let sign: PlanOptions["sign"];
    for (const recipe of variants) {
      const { options, header, plan: archPlan } = await hostSettings(recipe, { ...settings, outDir: path.join(combinedDir, recipe.spec.arch) });
      storage = options.buildah.globalArgs;
      sign = options.sign;
      plans.push({ arch: recipe.spec.arch, header, plan: archPlan });
    }
    const after = afterArchitectures(loaded, combinedDir, settings.publish !== false, storage, sign);
    if (values.json) {
      process.stdout.write(json({ arches: plans.map((p) => ({ arch: p.arch, host: p.header, ...planWithCommands(p.plan) })), after }));
      return EXIT.ok;
    }
    const parts = plans.map((p, i) =>
      [`# ===== ${loaded.spec.name} for ${p.arch} (${i + 1} of ${plans.length}) =====`, renderPlan(p.plan, { header: p.header })].join("\n"),
    );
    parts.push(
      [
        `# ===== once every architecture (${plans.map((p) => p.arch).join(", ")}) is built =====`,
        ...after.map((c) => `# ${c.description}${c.command ? `\n${c.command}` : ""}`),
      ].join("\n") + "\n",
    );
    process.stdout.write(scrub(parts.join("\n")));
    return EXIT.ok;
  },
};

/** The combined manifest.json and the recipe's publish targets, run after every architecture's build. */
function afterArchitectures(
  recipe: LoadedRecipe,
  dir: string,
  publish: boolean,
  storage: readonly string[],
  sign: PlanOptions["sign"],
): { description: string; command?: string }[] {
  // The combined manifest is bootsmith build's own step (no command of its own).
  const steps: { description: string; command?: string }[] = [
    { description: `bootsmith build writes ${path.join(dir, "manifest.json")}: every architecture's manifest and artifacts with their sha256s` },
  ];
  if (publish)
    for (const target of recipe.spec.publish)
      steps.push({
        description:
          target.type === "registry"
            ? "one manifest list per tag of every architecture's image"
            : "every architecture under <name>/<tag>/<arch>/, then the combined manifest.json",
        // A registry records its digests in the signed sets, which the key then signs again.
        command: renderCommand("bootsmith", [
          "publish",
          dir,
          ...(target.type === "registry" ? [...publishTargetArgs(target, storage), ...(sign ? signArgs(sign) : [])] : publishTargetArgs(target, [])),
        ]),
      });
  // Then each register: entry, its architecture's URLs (published.json) for its nodes.
  if (publish)
    recipe.spec.register.forEach((r, i) =>
      steps.push({
        description: `register[${i}]: the ${r.arch} artifacts (${registrationTargetType(recipe.spec.publish, r)} URLs) with ${r.type}`,
        command: renderCommand("bootsmith", [
          "register",
          dir,
          "--arch",
          r.arch ?? "",
          ...registrationArgs(r),
          "--params-template",
          recipe.spec.boot ? recipe.spec.boot.params : "",
        ]),
      }),
    );
  return steps;
}

/**
 * The plan options `build` would use here, found the same way (builder/options.ts), and header
 * lines that say where the host settings came from, or why they could not be checked, and the
 * plan they give (made once: the host checks also ask which programs it runs).
 */
async function hostSettings(recipe: LoadedRecipe, settings: BuildSettings): Promise<{ options: PlanOptions; header: string[]; plan: Plan }> {
  let problems: string[];
  try {
    const host = await detectBuildHost(settings);
    const options = hostPlanOptions(recipe, settings, host);
    const thePlan = plan(recipe, options);
    problems = blockingProblems(host, thePlan).map((c) => `${c.title}: ${c.detail}`);
    const summary = `host: buildah ${host.buildahArgs.join(" ")}, buildah run --isolation ${host.isolation}`;
    if (problems.length === 0) return { options, header: [summary], plan: thePlan };
    return {
      options,
      plan: thePlan,
      header: [
        summary,
        "host checks failed, so build would refuse to run here (bootsmith doctor says how to fix them):",
        ...problems.map((p) => `  ${p}`),
        "the storage options above are the configured or default ones, not verified",
      ],
    };
  } catch (error) {
    problems = [error instanceof Error ? error.message : String(error)];
  }
  // Detection itself failed (e.g. the storage root's parent cannot be created without root):
  // show the configured settings only, resolved as every command resolves them.
  const storage = await resolveStorage({ root: settings.storageRoot, driver: settings.storageDriver });
  const options = planOptions(recipe, settings, storageArgs(storage));
  return {
    options,
    plan: plan(recipe, options),
    header: [
      `host detection failed: ${problems.join("; ")}`,
      `showing the configured storage options only: buildah ${options.buildah.globalArgs.join(" ")}, isolation ${options.buildah.isolation}`,
    ],
  };
}
