// bootsmith build: load → plan → execute (→ publish → register), with progress, a build log
// and cleanup on failure or Ctrl-C.
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe, type LoadedRecipe } from "../recipe/load.js";
import { plan as makePlan } from "../plan/planner.js";
import { buildahGlobalArgs, defaultOutDir, planOptions, type BuildSessionOptions } from "../builder/options.js";
import { executePlan, StepFailedError, type BuildResult } from "../pipeline/execute-plan.js";
import { DEFAULT_PROBE_CACHE_DIR } from "../builder/probe-cache.js";
import { detectHost, type HostFacts } from "../builder/host.js";
import { CleanupStack } from "../exec/cleanup.js";
import { teeReporter, type Reporter } from "../exec/events.js";
import { createLogFileReporter, createReporter, redact } from "../exec/reporters/index.js";
import { withInterruptHandling, isInterruptedError } from "../exec/signals.js";
import { isCommandError, run } from "../exec/run.js";
import { secretValues } from "../builder/secrets.js";
import { acquireBuildLock, BuildLockedError } from "../builder/output-lock.js";
import { formatBytes } from "../boottest/preflight.js";
import { buildGraph, refreshHooks } from "../pipeline/build-graph.js";
import { collectRecipeFiles } from "../pipeline/graph.js";
import { decide, readImageFacts, readManifestFacts, readRegistryFacts } from "../pipeline/cache.js";
import { createJunitReporter } from "../pipeline/junit.js";
import type { Manifest, PackageRecord } from "../core/manifest.js";
import { lockedVerifier } from "../pipeline/lockfile.js";

export const buildCommand: CliCommand = {
  name: "build",
  summary: "Build a recipe: artifacts, manifest, committed image (then publish/register)",
  usage: `Usage: bootsmith build RECIPE.yaml [options]
       bootsmith build DIR | RECIPE.yaml… | LIST [graph options] [options]

Runs the recipe's plan (see \`bootsmith plan\`) with buildah, dnf/mmdebstrap, dracut and
mksquashfs. Leaves in the output directory:
  vmlinuz, initramfs.img, rootfs.squashfs   boot artifacts (unless boot: false)
  manifest.json                             sha256/size of each artifact, packages, kernel, timings
  build.log                                 every command and its output
and commits the container as localhost/bootsmith/<name>:<tag>. Then publishes to the
recipe's publish targets and registers boot parameters (unless --no-publish).
A failure or Ctrl-C removes the working container, its mount and partial artifacts.

Options:
  --out DIR           output directory (default ./artifacts/<name>/<primary tag>)
  --var KEY=VALUE     set a recipe variable; repeatable
  --no-publish        build only: skip the publish and register steps
  --progress MODE     auto (default), tty, plain or json (one JSON event per line on stdout)
  --json              same as --progress json
  -v, --verbose       plain mode: print every output line
  --storage-root DIR  buildah storage root (BOOTSMITH_STORAGE_ROOT)
  --storage-driver D  overlay or vfs (BOOTSMITH_STORAGE_DRIVER; default: detected)
  --isolation I       buildah run isolation (BOOTSMITH_ISOLATION; default chroot)
  --state-dir DIR     where registration records for rollback are kept
  --junit FILE        write a JUnit report, one testcase per step (graph mode: a directory,
                      one <name>.xml per recipe)
  --if-changed        one recipe: skip the build when it is up to date (see below)
  --locked            fail (exit 1, nothing published or registered) when the installed
                      packages differ from the recipe's lock file, RECIPE.lock.json next to the
                      recipe (written by \`bootsmith lock\`); exit 2 when there is none
  -h, --help          this help

Graph mode (a directory, several files, a list file (.txt, or YAML with recipes:), or any of
these options): recipes are built parents first, each child on its parent's committed image;
independent recipes in parallel. A recipe is up to date, and skipped, when the manifest.json in
its output directory and the image label io.bootsmith.input-digest carry its current key
(recipe, copied files, parent key, bootsmith version). Parents that are not named are built when
they are not up to date. --out is the root: each recipe goes to <out>/<name>/<primary tag>.
  --jobs N            parallel builds (default: the number of cores)
  --only NAME         build NAME (repeatable) and whichever of its ancestors are not up to date
  --since GIT_REF     build recipes whose file or copied files changed since GIT_REF (git diff,
                      plus untracked files), their descendants, and ancestors not up to date
  --explain           print, per recipe, whether it would be rebuilt and which input changed
                      (old → new); builds nothing
  --refresh           rebuild even when up to date (nightly: pick up package updates); writes
                      changelog.md/json (packages added, removed, changed since the previous
                      build) and skips publish/register when no package changed
  --force             same as --refresh, for one-off rebuilds
  --check-registry    also ask each recipe's registry target (skopeo inspect): an image there
                      with the current key counts as up to date; it is pulled by digest when
                      a child is built here (with --if-changed: for one file, no pull)
A single file without these options always builds (unless --if-changed). With --refresh a single
file is rebuilt alone (its parents are not), with the changelog and publish rule above.

Environment: SOURCE_DATE_EPOCH makes the squashfs and image timestamps reproducible;
BOOTSMITH_WORK_DIR (default /var/tmp/bootsmith), BOOTSMITH_CACHE_DIR (/var/cache/bootsmith).
Exit codes: 0 built (or up to date), 1 a step failed, 2 bad recipe or options, 130/143 interrupted.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("build", args, {
      out: { type: "string" },
      var: { type: "string", multiple: true },
      "no-publish": { type: "boolean" },
      progress: { type: "string" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      "storage-root": { type: "string" },
      "storage-driver": { type: "string" },
      isolation: { type: "string" },
      "state-dir": { type: "string" },
      "build-id": { type: "string" },
      junit: { type: "string" },
      "if-changed": { type: "boolean" },
      jobs: { type: "string" },
      only: { type: "string", multiple: true },
      since: { type: "string" },
      explain: { type: "boolean" },
      refresh: { type: "boolean" },
      force: { type: "boolean" },
      "check-registry": { type: "boolean" },
      locked: { type: "boolean" },
    });
    if (positionals.length === 0) throw new UserError("bootsmith build: name a recipe file, a directory of recipes or a list, e.g. bootsmith build recipes/debian-12-live.yaml");
    const mode = values.json ? "json" : (values.progress ?? "auto");
    if (!["auto", "tty", "plain", "json"].includes(mode)) throw new UserError(`--progress ${mode}: expected auto, tty, plain or json`);
    const graphMode = positionals.length > 1 || !isPlainRecipeFile(positionals[0]!) || [values.jobs, values.only, values.since, values.explain, values.force].some((v) => v !== undefined) || (values.refresh === true && positionals.length > 1) || (values["check-registry"] === true && !values["if-changed"]);
    const session: BuildSessionOptions = {
      publish: !values["no-publish"],
      progress: mode as BuildSessionOptions["progress"],
      verbose: values.verbose ?? false,
      storageRoot: values["storage-root"],
      storageDriver: values["storage-driver"],
      isolation: values.isolation,
      stateDir: values["state-dir"],
    };
    if (graphMode) {
      if (values["build-id"] !== undefined) throw new UserError("--build-id names one build; it cannot be used with several recipes");
      return buildGraph(positionals, {
        vars: parseVarOptions(values.var),
        outRoot: values.out,
        jobs: values.jobs,
        only: values.only,
        since: values.since,
        explain: values.explain ?? false,
        refresh: values.refresh ?? false,
        force: values.force ?? false,
        checkRegistry: values["check-registry"] ?? false,
        locked: values.locked ?? false,
        junitDir: values.junit,
        ...session,
      }, buildRecipe);
    }
    const recipe = loadRecipe(positionals[0]!, { vars: parseVarOptions(values.var) });
    const verify = values.locked ? lockedVerifier(recipe) : undefined;
    if (values["if-changed"] && !values.refresh && !(await needsBuild(recipe, values.out, values))) return EXIT.ok;
    // One file with --refresh (the nightly GitLab jobs): its parents are not rebuilt, but the
    // changelog and the publish-only-when-changed rule apply as in graph mode.
    const refresh = values.refresh ? refreshHooks(path.resolve(values.out ?? defaultOutDir(recipe)), !values["no-publish"] && recipe.spec.publish.length + recipe.spec.register.length > 0) : undefined;
    const code = await buildRecipe(recipe, {
      ...session,
      outDir: values.out,
      buildId: values["build-id"],
      junitFile: values.junit,
      skipPublish: refresh?.skipPublish,
      verify,
    });
    const detail = code === 0 ? refresh?.after() : undefined;
    if (detail) process.stderr.write(`${recipe.spec.name}: --refresh: ${detail}\n`);
    return code;
  },
};

/** A recipe file, as opposed to a directory or a list of recipes (graph mode). */
function isPlainRecipeFile(arg: string): boolean {
  try {
    if (!statSync(arg).isFile()) return false;
    const files = collectRecipeFiles([arg]);
    return files.length === 1 && files[0] === path.resolve(arg);
  } catch {
    return true; // let the loader report a missing file the usual way
  }
}

/** --if-changed: say why and return false when the build is up to date. */
async function needsBuild(recipe: LoadedRecipe, outDir: string | undefined, settings: { "storage-root"?: string; "storage-driver"?: string; "check-registry"?: boolean }): Promise<boolean> {
  const dir = path.resolve(outDir ?? defaultOutDir(recipe));
  const manifest = readManifestFacts(dir);
  const { globalArgs } = buildahGlobalArgs({ storageRoot: settings["storage-root"], storageDriver: settings["storage-driver"] });
  const image = manifest.kind === "found" && manifest.manifest.inputDigest === recipe.inputDigest ? await readImageFacts(recipe, globalArgs) : ({ kind: "unchecked" } as const);
  const registry = settings["check-registry"] ? await readRegistryFacts(recipe) : undefined;
  const decision = decide(recipe, dir, { manifest, image, ...(registry ? { registry } : {}) });
  process.stderr.write(`${recipe.spec.name}: ${decision.build ? "building" : "skipped"}: ${decision.reasons.join("; ")}\n`);
  return decision.build;
}

export interface BuildRecipeOptions extends BuildSessionOptions {
  readonly outDir?: string;
  readonly buildId?: string;
  /** Human-facing reporter (default: from progress); graph mode passes a prefixing one. */
  readonly console?: Reporter;
  /** Detected once per graph run; detected here otherwise. */
  readonly host?: HostFacts;
  readonly junitFile?: string;
  /** See ExecuteContext.skipPublish (graph mode's --refresh: publish only when packages changed). */
  readonly skipPublish?: (manifest: Manifest) => string | undefined;
  /** See ExecuteContext.verify (--locked: fail on packages that differ from the lock file). */
  readonly verify?: (packages: readonly PackageRecord[]) => void;
}

export async function buildRecipe(recipe: LoadedRecipe, options: BuildRecipeOptions): Promise<number> {
  const started = Date.now();
  const console = options.console ?? createReporter({ mode: options.progress, verbose: options.verbose });
  const host = options.host ?? await detectHost({ storageRoot: options.storageRoot, storageDriver: options.storageDriver, isolation: options.isolation, outputDir: options.outDir, probeCacheDir: DEFAULT_PROBE_CACHE_DIR });
  const failed = host.checks.filter((c) => c.status === "fail" && BLOCKING_CHECKS.some((id) => c.id.startsWith(id)));
  if (failed.length > 0) {
    await console.close();
    throw new UserError(`this host cannot build yet:\n${failed.map((c) => `  ✗ ${c.title}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}`).join("\n")}\nRun \`bootsmith doctor\` for the full report.`, EXIT.failed);
  }
  const opts = planOptions(recipe, { ...options, storageRoot: host.storageRoot, storageDriver: host.storageDriver, isolation: host.isolation });
  const thePlan = makePlan(recipe, { ...opts, buildah: { globalArgs: host.buildahArgs, isolation: host.isolation } });
  // One build per output directory: taken before build.log is opened or any artifact removed.
  let releaseLock: () => void;
  try {
    mkdirSync(thePlan.outDir, { recursive: true });
    releaseLock = acquireBuildLock(thePlan.outDir);
  } catch (error) {
    await console.close();
    if (error instanceof BuildLockedError) throw new UserError(error.message, EXIT.failed);
    throw error;
  }
  try {
    return await buildLocked(recipe, options, { started, console, host, opts, thePlan });
  } finally {
    releaseLock();
  }
}

async function buildLocked(recipe: LoadedRecipe, options: BuildRecipeOptions, ctx: { started: number; console: Reporter; host: HostFacts; opts: ReturnType<typeof planOptions>; thePlan: ReturnType<typeof makePlan> }): Promise<number> {
  const { started, console, host, opts, thePlan } = ctx;
  const logFile = path.join(thePlan.outDir, "build.log");
  const sinks = [console, createLogFileReporter(logFile), ...(options.junitFile ? [createJunitReporter(path.resolve(options.junitFile), `${recipe.spec.name}:${recipe.spec.tags[0]}`)] : [])];
  const reporter: Reporter = redact(secretValues(), teeReporter(...sinks));
  reporter.emit({ type: "message", level: "info", text: `building ${recipe.spec.name}:${recipe.spec.tags[0]} → ${thePlan.outDir} (log: ${logFile})` });

  if (recipe.parent) await requireParentImage(thePlan.image, recipe, host.buildahArgs, reporter);

  const cleanup = new CleanupStack();
  let result: BuildResult | undefined;
  let exitCode: number = EXIT.ok;
  try {
    result = await withInterruptHandling(cleanup, (signal) => executePlan(thePlan, { recipe, reporter, cleanup, signal, tools: host.tools, buildahGlobalArgs: host.buildahArgs, sourceDateEpoch: opts.sourceDateEpoch, stateDir: options.stateDir, skipPublish: options.skipPublish, verify: options.verify }), reporter);
  } catch (error) {
    exitCode = isInterruptedError(error) ? error.exitCode : EXIT.failed;
    reporter.emit({ type: "message", level: "error", text: failureText(error, logFile) });
  }
  reporter.emit({ type: "summary", ok: result !== undefined, durationMs: result?.durationMs ?? Date.now() - started, lines: result ? summaryLines(result) : [`build of ${recipe.spec.name} failed; log: ${logFile}`] });
  await reporter.close();
  return exitCode;
}

/** Host checks that make a build impossible (others, like a missing qemu, only limit boot-test). */
const BLOCKING_CHECKS = ["tool:buildah", "storage-driver", "isolation", "privilege"];

async function requireParentImage(_image: string, recipe: LoadedRecipe, buildahArgs: readonly string[], reporter: Reporter): Promise<void> {
  const parent = recipe.parent!;
  const ref = `localhost/bootsmith/${parent.spec.name}:${parent.spec.tags[0]}`;
  try {
    await run({ file: "buildah", args: [...buildahArgs, "inspect", "--type", "image", "--format", "{{.FromImageID}}", ref] }, { step: "parent", reporter }, { quiet: true });
  } catch {
    throw new UserError(`${recipe.file}: from.recipe: the parent image ${ref} is not built on this host; build it first: bootsmith build ${path.relative(process.cwd(), parent.file)}`);
  }
}

function failureText(error: unknown, logFile: string): string {
  const cause = error instanceof StepFailedError ? error.cause : error;
  const where = error instanceof StepFailedError ? `step ${error.step.id} (${error.step.title}) failed\n` : "";
  const detail = isCommandError(cause) ? cause.report : cause instanceof Error ? cause.message : String(cause);
  // A failure anywhere, publishing included, removes the container, its mount and the partial
  // artifacts (a manifest left behind would make the cache call the image up to date and never
  // publish it), so the same command is always the way to resume.
  const resume = "the working container, its mount and partial artifacts were removed; fix the cause and run the same command again";
  return `${where}${detail}\nfull log: ${logFile}\n${resume}`;
}

function summaryLines(result: BuildResult): string[] {
  const m = result.manifest;
  const lines = [`built ${m.name}:${m.tags.join(",")} as ${m.image.ref}${m.kernel ? `, kernel ${m.kernel.version}` : ""}, ${m.packages.length} packages`];
  for (const a of Object.values(m.artifacts)) if (a) lines.push(`  ${path.join(result.outDir, a.file)}  ${formatBytes(a.size)}  sha256:${a.sha256.slice(0, 16)}…`);
  lines.push(`  ${path.join(result.outDir, "manifest.json")}`);
  for (const p of result.published) lines.push(`  published ${p.name}:${p.tag} → ${p.target}${p.urls.rootfs ? ` ${p.urls.rootfs}` : ""}`);
  return lines;
}
