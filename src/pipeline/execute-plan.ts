// The build session's step walker: run a plan's steps in order, time them, and do what follows
// a build: publish the artifacts and register them for boot. The builder performs the build
// actions (builder/execute.ts); publishing and registration are their own stages, so the
// orchestration that strings them together lives here, above all three.
import path from "node:path";
import type { Action, Plan, Step } from "../steps/types.js";
import type { Manifest, PackageRecord } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import type { Registration } from "../recipe/schema.js";
import {
  isBuildAction,
  newBuildState,
  performBuildAction,
  preloadActionModules,
  runsLongProgram,
  type BuildContext,
  type BuildState,
} from "../builder/execute.js";
import { prepareOutDir } from "../builder/output-dir.js";
import { parsePackageList } from "../builder/packages.js";
import { publish, writePublishedRecord } from "../publish/index.js";
import { internalCommand, isInternalAction } from "../plan/commands.js";
import { resolveArg } from "../steps/args.js";
import { renderCommand } from "../exec/quote.js";
import { BootsmithError, EXIT } from "../core/errors.js";
import { StepsBeside } from "./beside-steps.js";
import { withEndpointOrigin } from "./publish-targets.js";

/** The builder's context, plus what publishing, registering and the session's checks need. */
export interface ExecuteContext extends BuildContext {
  /** buildah global options (storage), for the registry publisher's push. */
  readonly buildahGlobalArgs: readonly string[];
  /** Where registration records are kept (rollback); default per register/register.ts. */
  readonly stateDir?: string;
  /**
   * Asked once the manifest is written, before the first publish/register step: a reason to skip
   * publishing and registering (the nightly refresh when no package changed), or undefined.
   */
  readonly skipPublish?: (manifest: Manifest) => string | undefined;
  /**
   * Asked once the installed packages are known (after the step that records them, before the
   * squashfs, the commit and any publish step; without such a step, after the manifest): throws to
   * fail the build through the normal failure path (`build --locked` on drift).
   */
  readonly verify?: (packages: readonly PackageRecord[]) => void;
}

export interface BuildResult {
  readonly manifest: Manifest;
  readonly outDir: string;
  readonly published: readonly PublishedImage[];
  readonly durationMs: number;
}

/** A step failed; carries the step for the summary and the original error as cause. */
export class StepFailedError extends BootsmithError {
  constructor(
    readonly step: Step,
    cause: unknown,
  ) {
    super(`step ${step.id} failed: ${cause instanceof Error ? cause.message : String(cause)}`, EXIT.failed, { cause });
    this.name = "StepFailedError";
  }
}

export async function executePlan(plan: Plan, ctx: ExecuteContext): Promise<BuildResult> {
  const started = Date.now();
  const state = newBuildState();
  const published: PublishedImage[] = [];
  const keepOutput = prepareOutDir(plan, ctx);
  // Started once the first step that runs a long program has started it: the load then runs while it does.
  const preloadStep = plan.steps.find(runsLongProgram);
  const preloadBeside = (step: Step): void => {
    if (step === preloadStep) preloadActionModules(plan);
  };
  const order = new Map(plan.steps.map((s, i) => [s.id, i]));
  const beside = new StepsBeside();
  let skipPublish: string | undefined;
  let verified = false;
  try {
    for (const [index, step] of plan.steps.entries()) {
      await beside.before(step.id);
      ctx.reporter.emit({ type: "step-start", step: step.id, title: step.title, index: index + 1, total: plan.steps.length });
      if (state.manifest && ctx.skipPublish && step.actions.some((a) => !isBuildAction(a))) {
        skipPublish ??= ctx.skipPublish(state.manifest);
        if (skipPublish) {
          ctx.reporter.emit({ type: "message", level: "info", text: `${step.id} skipped: ${skipPublish}` });
          ctx.reporter.emit({ type: "step-end", step: step.id, status: "skipped", durationMs: 0 });
          continue;
        }
      }
      if (step.besideUntil) {
        beside.start(step.id, step.besideUntil, ctx.signal, (signal) => runStep(step, { ...ctx, signal }, state, published, order));
        preloadBeside(step);
        continue;
      }
      const running = runStep(step, ctx, state, published, order);
      preloadBeside(step);
      await running;
      const listed = step.actions.some((a) => (a.kind === "exec" && a.capture === "PACKAGES") || a.kind === "write-manifest");
      if (ctx.verify && !verified && listed) {
        verified = true;
        ctx.verify(packagesSoFar(state));
      }
    }
    await beside.finish();
  } catch (error) {
    await beside.stopAll();
    throw error;
  }
  if (!state.manifest) throw new Error("internal: the plan has no write-manifest step");
  keepOutput();
  return { manifest: state.manifest, outDir: plan.outDir, published, durationMs: Date.now() - started };
}

/** One step's actions, timed; its timing is kept in plan order (a step beside may end later). */
async function runStep(step: Step, ctx: ExecuteContext, state: BuildState, published: PublishedImage[], order: ReadonlyMap<string, number>): Promise<void> {
  const t0 = Date.now();
  try {
    for (const action of step.actions) {
      // What bootsmith does itself is logged as the command that does the same by hand, the
      // line `bootsmith plan` prints for it (programs are logged by exec/run.ts).
      if (isInternalAction(action)) {
        const cmd = internalCommand(action);
        ctx.reporter.emit({
          type: "command",
          step: step.id,
          command: renderCommand(
            cmd.file,
            cmd.args.map((a) => resolveArg(a, state.values)),
          ),
        });
      }
      if (isBuildAction(action)) await performBuildAction(action, step, ctx, state);
      else await deliver(action, step, ctx, published);
    }
  } catch (error) {
    const durationMs = Date.now() - t0;
    ctx.reporter.emit({ type: "step-end", step: step.id, status: "failed", durationMs, error: error instanceof Error ? error.message : String(error) });
    throw new StepFailedError(step, error);
  }
  const durationMs = Date.now() - t0;
  state.timings.push({ step: step.id, seconds: Math.round(durationMs / 100) / 10 });
  state.timings.sort((a, b) => (order.get(a.step) ?? 0) - (order.get(b.step) ?? 0));
  ctx.reporter.emit({ type: "step-end", step: step.id, status: "ok", durationMs });
}

function packagesSoFar(state: BuildState): readonly PackageRecord[] {
  return state.manifest?.packages ?? parsePackageList(state.captures.PACKAGES ?? "");
}

type DeliveryAction = Extract<Action, { readonly kind: "publish" } | { readonly kind: "register" }>;

/**
 * Publish the output directory and keep the primary tag's record, or register the image a
 * publish step recorded: what `bootsmith publish … --record FILE` and `bootsmith register FILE …`
 * do.
 */
async function deliver(action: DeliveryAction, step: Step, ctx: ExecuteContext, published: PublishedImage[]): Promise<void> {
  switch (action.kind) {
    case "publish": {
      // The plan's target (what `bootsmith plan` printed), told which recipe line its endpoint is on.
      const outcome = await publish(action.dir, withEndpointOrigin(ctx.recipe, action.entry, action.target), {
        reporter: ctx.reporter,
        signal: ctx.signal,
        cleanup: ctx.cleanup,
        // The build's key signs the pushed image too (the same key as SHA256SUMS.sig).
        registry: { buildahGlobalArgs: action.storage, ...(ctx.signer ? { signer: ctx.signer } : {}) },
      });
      published.push(...outcome.images);
      for (const image of outcome.images) {
        const urls = Object.entries(image.urls)
          .map(([role, url]) => `${role} ${url}`)
          .join(", ");
        ctx.reporter.emit({ type: "message", level: "info", text: `published ${image.name}:${image.tag} to ${image.target}${urls ? `: ${urls}` : ""}` });
      }
      const primary = outcome.images[0];
      if (!primary) throw new Error(`${step.id}: nothing was published (the manifest lists no tags)`);
      writePublishedRecord(action.record, primary);
      return;
    }
    case "register": {
      const { loadRegisterSource } = await import("../register/source.js");
      const { image } = await loadRegisterSource(action.source);
      const line = await registerForRecipe(action.registration, image, action.paramsTemplate, {
        recipeFile: ctx.recipe.file,
        ...(ctx.stateDir !== undefined ? { stateDir: ctx.stateDir } : {}),
        log: (text) => ctx.reporter.emit({ type: "message", level: "info", text }),
      });
      ctx.reporter.emit({ type: "message", level: "info", text: line });
      return;
    }
  }
}

/**
 * Register a published image as a recipe's `register:` entry says: the build's register step,
 * and a recipe built for several architectures after its combined publish. Returns the line
 * that says what happened.
 */
export async function registerForRecipe(
  r: Registration,
  image: PublishedImage,
  paramsTemplate: string,
  options: { readonly recipeFile: string; readonly stateDir?: string; readonly log: (line: string) => void },
): Promise<string> {
  // Loaded here: the clients and the set verifier are ~20 modules a build that registers nothing need not load.
  const [{ registerPublished }, { fromRecipeRegistration }, { redactUrl }] = await Promise.all([
    import("../register/register.js"),
    import("../register/targets.js"),
    import("../register/http.js"),
  ]);
  const { target, selectors, extraParams } = fromRecipeRegistration(r);
  const result = await registerPublished(image, paramsTemplate, selectors, target, {
    extraParams,
    stateDir: options.stateDir,
    // A recipe's key path is relative to the recipe, like its files.
    ...(r.verify ? { verifyKey: path.resolve(path.dirname(options.recipeFile), r.verify.key) } : {}),
    log: options.log,
  });
  return result.written
    ? `registered${image.arch ? ` ${image.arch}` : ""} with ${r.type} at ${redactUrl(r.url)}${result.stateFile ? ` (rollback record ${result.stateFile})` : ""}`
    : `${r.type} already up to date`;
}
