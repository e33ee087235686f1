// The build session for one recipe: check the host can build, take the output directory's
// lock, open the reporters (console, build.log, JUnit), make sure a parent image exists, walk
// the plan (build, publish, register) with cleanup on failure or Ctrl-C, and print the summary.
// `bootsmith build FILE` runs one session (buildFile); graph mode runs one per recipe.
import path from "node:path";
import { BootsmithError, EXIT, UserError } from "../core/errors.js";
import { MANIFEST_FILE, type Manifest, type PackageRecord } from "../core/manifest.js";
import { formatBytes } from "../core/format.js";
import { CleanupStack } from "../exec/cleanup.js";
import { teeReporter, type Reporter } from "../exec/events.js";
import { createLogFileReporter, createReporter, redact } from "../exec/reporters/index.js";
import { isInterruptedError, withInterruptHandling } from "../exec/signals.js";
import { isCommandError, run } from "../exec/run.js";
import { expandArches, loadRecipe, localImageRef, type LoadedRecipe } from "../recipe/load.js";
import { formatWarnings } from "../recipe/errors.js";
import { plan as makePlan } from "../plan/planner.js";
import type { Plan, Step } from "../steps/types.js";
import { requireTokenEnv } from "../register/auth.js";
import { blockingProblems, buildStorageArgs, defaultOutDir, detectBuildHost, hostPlanOptions, type BuildSessionOptions } from "../builder/options.js";
import type { HostFacts } from "../builder/host.js";
import { secretValues } from "../builder/secrets.js";
import { lockOutputDir } from "../builder/output-lock.js";
import { ensurePrivateRoot } from "../builder/work-dir.js";
import { executePlan, StepFailedError, type BuildResult } from "./execute-plan.js";
import { decide, gatherFacts } from "./cache.js";
import { createJunitReporter } from "./junit.js";
import { lockedVerifier } from "./lockfile.js";
import { refreshHooks } from "./refresh.js";
import { recipeEntryAt } from "./publish-targets.js";
import type { Signer } from "../sign/gpg.js";
import { openRecipeSigner } from "./recipe-signer.js";

export interface BuildFileOptions extends BuildSessionOptions {
  readonly vars: Readonly<Record<string, string>>;
  readonly outDir?: string;
  readonly buildId?: string;
  readonly junitFile?: string;
  /** Skip the build when it is up to date (--if-changed). */
  readonly ifChanged: boolean;
  /** --check-published with --if-changed: an image in the registry, or a published set, with the current key counts. */
  readonly checkPublished: boolean;
  /** Rebuild, write the changelog, publish only when a package changed (--refresh). */
  readonly refresh: boolean;
  /** Fail when the packages differ from the lock file (--locked). */
  readonly locked: boolean;
  /** false: --no-commit (see PlanOptions.commit). */
  readonly commit?: boolean;
  /** `file` loaded with `vars` already (cli/build.ts loads it to choose the mode): not read again. */
  readonly recipe?: LoadedRecipe;
}

/** `bootsmith build RECIPE.yaml`: one recipe, its parents are not built. */
export async function buildFile(file: string, options: BuildFileOptions): Promise<number> {
  // On a parent built for several architectures, its parent chain of this recipe's architecture.
  const recipe = expandArches(options.recipe ?? loadRecipe(file, { vars: options.vars }))[0]!;
  process.stderr.write(formatWarnings(recipe.warnings));
  const verify = options.locked ? lockedVerifier(recipe) : undefined;
  const outDir = options.outDir !== undefined ? path.resolve(options.outDir) : defaultOutDir(recipe);
  if (options.ifChanged && !options.refresh && !(await needsBuild(recipe, outDir, options))) return EXIT.ok;
  // One file with --refresh (the nightly GitLab jobs): its parents are not rebuilt, but the
  // changelog and the publish-only-when-changed rule apply as in graph mode.
  const refresh = options.refresh
    ? await refreshHooks(recipe, outDir, options.publish && recipe.spec.publish.length + recipe.spec.register.length > 0)
    : undefined;
  const code = await buildRecipe(recipe, { ...options, outDir, skipPublish: refresh?.skipPublish, verify });
  const detail = code === EXIT.ok ? refresh?.after() : undefined;
  if (detail) process.stderr.write(`${recipe.spec.name}: --refresh: ${detail}\n`);
  return code;
}

/** --if-changed: say why and return false when the build is up to date. */
async function needsBuild(recipe: LoadedRecipe, outDir: string, options: BuildFileOptions): Promise<boolean> {
  // The storage the build below would use: the image check must look where it commits.
  const globalArgs = await buildStorageArgs(options);
  const facts = await gatherFacts(recipe, outDir, { globalArgs, checkPublished: options.checkPublished, rebuild: false });
  // One file's build commits its image (a child built from its own file later needs it) unless
  // --no-commit; a published set with the key is enough, as it is for the registry's image.
  const decision = decide(
    recipe,
    outDir,
    facts,
    options.commit === false ? {} : { imageNeededBy: "this build (one recipe's build commits its image)", imageIsByProduct: true },
  );
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
  /** See PlanOptions.commit: graph mode commits only images something needs; one file, unless --no-commit. */
  readonly commit?: boolean;
  /** --refresh: image bases are pulled again (PlanOptions.pullBase). */
  readonly refresh?: boolean;
}

export async function buildRecipe(recipe: LoadedRecipe, options: BuildRecipeOptions): Promise<number> {
  const started = Date.now();
  const console = options.console ?? createReporter({ mode: options.progress, verbose: options.verbose });
  const host = options.host ?? (await detectBuildHost(options));
  const opts = hostPlanOptions(recipe, options, host);
  const thePlan = makePlan(recipe, opts);
  const failed = blockingProblems(host, thePlan);
  if (failed.length > 0) {
    await console.close();
    throw new UserError(
      `this host cannot build yet:\n${failed.map((c) => `  ✗ ${c.title}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ""}`).join("\n")}\nRun \`bootsmith doctor\` for the full report.`,
      EXIT.failed,
    );
  }
  // The signing key is proven before anything is built (exit 2 when it cannot sign); its private
  // GNUPGHOME is on the build's cleanup stack, so a failure or Ctrl-C removes it too.
  const cleanup = new CleanupStack();
  let signer: Signer | undefined;
  try {
    requireRegistrationTokens(recipe, thePlan);
    signer = opts.sign ? await openRecipeSigner(recipe, options, cleanup) : undefined;
  } catch (error) {
    await console.close();
    throw error;
  }
  // One build per output directory: taken before build.log is opened or any artifact removed.
  let releaseLock: () => void;
  try {
    ensurePrivateRoot(path.dirname(thePlan.workDir)); // bad input (exit 2) before anything starts
    releaseLock = lockOutputDir(thePlan.outDir);
  } catch (error) {
    await signer?.close();
    await console.close();
    throw error;
  }
  try {
    return await buildLocked(recipe, options, { started, console, host, opts, thePlan, cleanup, signer });
  } finally {
    await signer?.close();
    releaseLock();
  }
}

async function buildLocked(
  recipe: LoadedRecipe,
  options: BuildRecipeOptions,
  ctx: {
    started: number;
    console: Reporter;
    host: HostFacts;
    opts: ReturnType<typeof hostPlanOptions>;
    thePlan: ReturnType<typeof makePlan>;
    cleanup: CleanupStack;
    signer?: Signer;
  },
): Promise<number> {
  const { started, console, host, opts, thePlan, cleanup, signer } = ctx;
  const logFile = path.join(thePlan.outDir, "build.log");
  const sinks = [
    console,
    createLogFileReporter(logFile),
    ...(options.junitFile ? [createJunitReporter(path.resolve(options.junitFile), `${recipe.spec.name}:${recipe.spec.tags[0]}`)] : []),
  ];
  const reporter: Reporter = redact([...secretValues(), ...recipe.secrets], teeReporter(...sinks));
  reporter.emit({ type: "message", level: "info", text: `building ${recipe.spec.name}:${recipe.spec.tags[0]} → ${thePlan.outDir} (log: ${logFile})` });

  if (recipe.parent) await requireParentImage(recipe, host.buildahArgs, reporter);

  let result: BuildResult | undefined;
  let failure: string | undefined;
  let exitCode: number = EXIT.ok;
  try {
    result = await withInterruptHandling(
      cleanup,
      (signal) =>
        executePlan(thePlan, {
          recipe,
          reporter,
          cleanup,
          signal,
          tools: host.tools,
          buildahGlobalArgs: host.buildahArgs,
          sourceDateEpoch: opts.sourceDateEpoch,
          stateDir: options.stateDir,
          skipPublish: options.skipPublish,
          verify: options.verify,
          signer,
        }),
      reporter,
    );
  } catch (error) {
    exitCode = isInterruptedError(error) ? error.exitCode : EXIT.failed;
    failure = failureText(error, logFile, recipe);
  }
  // A failure's one summary is its failure text (step, command, exit code, last lines, log,
  // what was cleaned up): printed once, under "build failed", not again as an error message.
  reporter.emit({
    type: "summary",
    ok: result !== undefined,
    durationMs: result?.durationMs ?? Date.now() - started,
    lines: result ? summaryLines(result) : (failure ?? `build of ${recipe.spec.name} failed; log: ${logFile}`).split("\n"),
  });
  try {
    await reporter.close();
  } catch (error) {
    // A build that already failed keeps its own exit code and message (a full disk fails the
    // squashfs first, and then the log's last lines): the log's trouble is only a footnote then.
    if (exitCode === EXIT.ok) throw error;
    process.stderr.write(`bootsmith: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return exitCode;
}

async function requireParentImage(recipe: LoadedRecipe, buildahArgs: readonly string[], reporter: Reporter): Promise<void> {
  const parent = recipe.parent!;
  const ref = localImageRef(parent.spec);
  try {
    await run(
      { file: "buildah", args: [...buildahArgs, "inspect", "--type", "image", "--format", "{{.FromImageID}}", ref] },
      { step: "parent", reporter },
      { quiet: true },
    );
  } catch {
    throw new UserError(
      `${recipe.file}: from.recipe: the parent image ${ref} is not built on this host; build it first: bootsmith build ${path.relative(process.cwd(), parent.file)}`,
    );
  }
}

function failureText(error: unknown, logFile: string, recipe: LoadedRecipe): string {
  const cause = error instanceof StepFailedError ? error.cause : error;
  const where = error instanceof StepFailedError ? `step ${error.step.id} (${error.step.title}) failed${stepOrigin(error.step, recipe)}\n` : "";
  const detail = isCommandError(cause)
    ? cause.report
    : cause instanceof BootsmithError && cause.hint
      ? `${cause.message}\nhint: ${cause.hint}`
      : cause instanceof Error
        ? cause.message
        : String(cause);
  // A failure anywhere, publishing included, removes the container, its mount and the partial
  // artifacts (a manifest left behind would make the cache call the image up to date and never
  // publish it) and puts the previous build's artifacts back (builder/output-dir.ts: they carry
  // the previous inputs' key), so the same command is always the way to resume.
  const resume =
    "the working container, its mount and partial artifacts were removed, and the previous build's artifacts (if any) are back; fix the cause and run the same command again";
  return `${where}${detail}\nfull log: ${logFile}\n${resume}`;
}

/** The recipe entry a failed step carries out, with its line: ": commands[1] at recipe.yaml:22:5". */
function stepOrigin(step: Step, recipe: LoadedRecipe): string {
  if (!step.recipePath) return "";
  return `: ${recipeEntryAt(recipe, step.recipePath)}`;
}

function summaryLines(result: BuildResult): string[] {
  const m = result.manifest;
  const lines = [`built ${m.name}:${m.tags.join(",")} as ${m.image.ref}${m.kernel ? `, kernel ${m.kernel.version}` : ""}, ${m.packages.length} packages`];
  for (const a of Object.values(m.artifacts))
    if (a) lines.push(`  ${path.join(result.outDir, a.file)}  ${formatBytes(a.size)}  sha256:${a.sha256.slice(0, 16)}…`);
  lines.push(`  ${path.join(result.outDir, MANIFEST_FILE)}`);
  for (const p of result.published) lines.push(`  published ${p.name}:${p.tag} → ${p.target}${p.urls.rootfs ? ` ${p.urls.rootfs}` : ""}`);
  return lines;
}

/** A registration whose token variable is unset fails now (exit 2), not after the build and its publish. */
function requireRegistrationTokens(recipe: LoadedRecipe, thePlan: Plan): void {
  for (const action of thePlan.steps.flatMap((s) => s.actions))
    if (action.kind === "register" && action.registration.tokenEnv)
      requireTokenEnv(action.registration.tokenEnv, process.env, `${recipe.file}: register to ${action.registration.url}`);
}
