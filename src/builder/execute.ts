// Perform a plan's build actions: run commands, keep the runtime values (mount point, kernel
// version), register undos on the cleanup stack, copy the artifacts out and write the manifest.
// The plan says what; this module only does it. Walking the steps, and the publish/register
// actions that follow a build, belong to the build session in pipeline/execute-plan.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import type { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import { run, type OutputDiagnosis } from "../exec/run.js";
import { dracutDiagnosis } from "./dracut-diagnosis.js";
import { ansibleDiagnosis } from "./ansible-diagnosis.js";
import { failedScriptlets } from "./rpm-scriptlets.js";
import { argParts, resolveArg } from "../steps/args.js";
import { renderCommand } from "../exec/quote.js";
import type { Action, Arg, CaptureName, Plan, PlannedCommand, RuntimeVar, Step, Undo } from "../steps/types.js";
import { selectAndRecordKernel, type SelectedKernel } from "./kernel.js";
import { createAccounts } from "./accounts.js";
import { checkFileOwners } from "./file-owners.js";
import { accountsSummary, internalCommand } from "../plan/commands.js";
import { checkKernelModules } from "./kernel-modules.js";
import { writeNewFile } from "./work-dir.js";
import { removeLeftovers } from "./leftovers.js";
import { describeProcess, secondsSinceBoot, startingStep, stopImageProcesses, type StoppedProcess } from "./image-processes.js";
import { copyOutOfRoot } from "./copy-out.js";
import { tidySupersededImages } from "./superseded-images.js";
import { verifyInitramfsKernel } from "./initramfs.js";
import { writeManifest, type ManifestInputs } from "./manifest-writer.js";
import { IMAGE_MANIFEST_PATH, type Manifest, type ScanRecord, type StepTiming } from "../core/manifest.js";
import type { Signer } from "../sign/gpg.js";
import { signArtifactDir } from "../sign/sign-dir.js";

/**
 * Modules only later steps need, loaded on first use rather than at start-up: the identity step's
 * SBOM writers (CycloneDX, package URLs, SPDX expressions: ~90 modules) and the OpenSCAP report
 * parser. preloadActionModules() loads the ones a plan uses while a long program runs.
 */
const lazyModules = {
  identity: once(() => import("./image-identity.js")),
  openscap: once(() => import("./openscap.js")),
};

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => (loading ??= load());
}

/**
 * Whether a step runs a program long enough to hide a preload behind. Compiling and running the
 * SBOM writers holds the main thread for ~0.1 s; started beside a short program (`buildah from`,
 * ~0.08 s) it delayed that step's end by as much (docs/benchmarks.md, eighth session). The plan
 * bounds the programs that can run long (package installs, copies and commands in the image, the
 * squashfs) with a timeout, and the bookkeeping ones not.
 */
export function runsLongProgram(step: Step): boolean {
  return step.actions.some((a) => a.kind === "exec" && a.command.timeoutSeconds !== undefined);
}

export function preloadActionModules(plan: Plan): void {
  const kinds = new Set(plan.steps.flatMap((s) => s.actions.map((a) => a.kind)));
  // A failed load is reported by the step that awaits it; the preload itself stays silent.
  if (kinds.has("image-identity")) lazyModules.identity().catch(() => {});
  if (kinds.has("scan-verdict")) lazyModules.openscap().catch(() => {});
}

/** What the build actions need besides the plan. */
export interface BuildContext {
  readonly recipe: LoadedRecipe;
  readonly reporter: Reporter;
  readonly cleanup: CleanupStack;
  readonly signal?: AbortSignal;
  /** Tool name → version, recorded in the manifest. */
  readonly tools: Readonly<Record<string, string>>;
  readonly sourceDateEpoch?: number;
  /** Opened (and the key proven) before the build; required when the plan has a sign step. */
  readonly signer?: Signer;
}

/** The actions this module performs; publish and register are the build session's. */
export type BuildAction = Exclude<Action, { readonly kind: "publish" } | { readonly kind: "register" }>;

export function isBuildAction(action: Action): action is BuildAction {
  return action.kind !== "publish" && action.kind !== "register";
}

/** What a build has learnt so far: runtime values, captured outputs, undos, step timings. */
export interface BuildState {
  values: Partial<Record<RuntimeVar, string>>;
  captures: Partial<Record<CaptureName, string>>;
  kernel?: SelectedKernel;
  undos: Map<string, { command: PlannedCommand; drop: () => void }>;
  /** When each program started (seconds since boot), to tell which step started a process left in the image. */
  programStarts: { step: string; at: number }[];
  timings: StepTiming[];
  manifest?: Manifest;
  scan?: ScanRecord;
  /** Fixed at the first manifest written, so the one inside the image and the one beside it agree. */
  builtAt?: Date;
}

export function newBuildState(): BuildState {
  return { values: {}, captures: {}, undos: new Map(), programStarts: [], timings: [] };
}

/**
 * Put an action's undo on the cleanup stack before its command runs: a command killed by Ctrl-C
 * (the terminal signals buildah too) can have done its work, `buildah from` its container, without
 * reporting it, and an undo registered only on success leaked that container. Until confirm()
 * (the command succeeded), a failing undo is silent: there was probably nothing to undo.
 */
function registerUndo(undo: Undo, state: BuildState, ctx: BuildContext): { confirm: () => void } {
  const resolved = resolveCommand(undo.command, state);
  let confirmed = false;
  const drop = ctx.cleanup.push(undo.id, async () => {
    if (undo.stopProcessesIn) await stopBeforeUndo(undo.stopProcessesIn, state, ctx);
    try {
      await run(resolved, { step: "cleanup", reporter: ctx.reporter }, confirmed ? {} : { quiet: true });
    } catch (error) {
      if (confirmed) throw error;
    }
  });
  state.undos.set(undo.id, { command: undo.command, drop });
  return { confirm: () => void (confirmed = true) };
}

export async function performBuildAction(action: BuildAction, step: Step, ctx: BuildContext, state: BuildState): Promise<void> {
  const runCtx = { step: step.id, reporter: ctx.reporter, signal: ctx.signal };
  switch (action.kind) {
    case "exec": {
      const undo = action.undo ? registerUndo(action.undo, state, ctx) : undefined;
      state.programStarts.push({ step: step.id, at: secondsSinceBoot() });
      const result = await run(resolveCommand(action.command, state), runCtx, {
        diagnosis: action.command.diagnose ? DIAGNOSES[action.command.diagnose]() : undefined,
      });
      undo?.confirm();
      if (action.command.warnOn === "rpm-scriptlets")
        for (const failure of failedScriptlets(result.stdout, action.command.file, result.exitCode))
          ctx.reporter.emit({ type: "message", level: "warn", text: `[${step.id}] ${failure}` });
      if (action.capture === "MNT" || action.capture === "IMAGE_ID" || action.capture === "BASE_IMAGE_ID") state.values[action.capture] = result.stdout.trim();
      if (action.capture) state.captures[action.capture] = result.stdout;
      if (action.saveTo) {
        mkdirSync(path.dirname(action.saveTo), { recursive: true });
        writeFileSync(action.saveTo, result.stdout);
      }
      return;
    }
    case "release": {
      const undo = state.undos.get(action.undoId);
      if (!undo) throw new Error(`internal: nothing registered to release as ${action.undoId}`);
      await run(resolveCommand(undo.command, state), runCtx);
      undo.drop();
      state.undos.delete(action.undoId);
      return;
    }
    case "write-file":
      writeNewFile(action.path, action.content, action.mode);
      return;
    // The actions below are what `bootsmith rootfs …` / `bootsmith artifacts …` do (cli/rootfs.ts,
    // cli/artifacts.ts): the same functions, with the arguments the plan renders.
    case "create-accounts":
      createAccounts(resolveArg(action.root, state.values), action.groups, action.users, action.base);
      ctx.reporter.emit({
        type: "message",
        level: "info",
        text: `accounts: ${accountsSummary(action.groups, action.users)}`,
      });
      return;
    case "check-owners":
      checkFileOwners(resolveArg(action.root, state.values), action.recipe, action.owners);
      return;
    case "select-kernel": {
      const kernel = selectAndRecordKernel(resolveArg(action.root, state.values), action.version, action.record);
      state.kernel = kernel;
      state.values.KVER = kernel.version;
      state.values.KERNEL_IMAGE = kernel.image;
      ctx.reporter.emit({ type: "message", level: "info", text: `kernel ${kernel.version} (${kernel.image})` });
      return;
    }
    case "check-kernel-modules": {
      const kver = resolveArg(action.kver, state.values);
      const modules = await checkKernelModules(resolveArg(action.root, state.values), kver, runCtx);
      ctx.reporter.emit({ type: "message", level: "info", text: `kernel modules for ${kver}: ${modules.map((m) => m.file).join(", ")}` });
      return;
    }
    case "copy-out":
      copyOutOfRoot(resolveArg(action.root, state.values), resolveArg(action.path, state.values), action.to);
      return;
    case "verify-initramfs":
      await verifyInitramfsKernel(action.file, resolveArg(action.kver, state.values), { ctx: runCtx });
      return;
    case "stop-processes":
      reportStopped(await stopImageProcesses(resolveArg(action.root, state.values)), step.id, state, ctx);
      return;
    case "clean-leftovers": {
      const removed = removeLeftovers(resolveArg(action.root, state.values), action.paths, action.ifEmpty);
      if (removed.length > 0) ctx.reporter.emit({ type: "message", level: "info", text: `removed leftovers: ${removed.join(", ")}` });
      return;
    }
    case "image-identity": {
      const root = resolveArg(action.root, state.values);
      const { writeIdentity } = await lazyModules.identity();
      const { osRelease, sbomSha256 } = await writeIdentity({
        root,
        id: action.id,
        version: action.version,
        manifest: manifestInputs(ctx, state, action.dir),
        ctx: runCtx,
      });
      state.values.SBOM_CDX_SHA256 = sbomSha256.sbomCycloneDx;
      state.values.SBOM_SPDX_SHA256 = sbomSha256.sbomSpdx;
      ctx.reporter.emit({
        type: "message",
        level: "info",
        text: `image identity: ${IMAGE_MANIFEST_PATH}, IMAGE_ID=${action.id} IMAGE_VERSION=${action.version} in ${osRelease}; SBOM sha256 cyclonedx ${sbomSha256.sbomCycloneDx} spdx ${sbomSha256.sbomSpdx}`,
      });
      return;
    }
    case "scan-verdict": {
      // The record is written before the verdict, so a failed threshold still explains itself.
      const { judgeScan } = await lazyModules.openscap();
      const record = judgeScan(action, action.record);
      state.scan = record;
      const failed = Object.entries(record.failedBySeverity)
        .map(([severity, n]) => `${n} ${severity}`)
        .join(", ");
      ctx.reporter.emit({
        type: "message",
        level: "info",
        text: `openscap: ${record.results.pass ?? 0} passed, ${record.results.fail ?? 0} failed${failed ? ` (${failed})` : ""}${record.remediated ? `, after remediation of ${record.failedBeforeRemediation ?? 0} failed rule(s)` : ""}; ${record.counted} of severity ${record.failOn.severity}+ (max ${record.failOn.max})`,
      });
      return;
    }
    case "write-manifest":
      state.manifest = await writeManifest({
        ...manifestInputs(ctx, state, action.dir),
        ...(action.imageId ? { imageId: resolveArg(action.imageId, state.values) } : { notCommitted: true }),
        ...(action.baseImageId ? { baseImageId: resolveArg(action.baseImageId, state.values) } : {}),
      });
      return;
    case "remove-superseded": {
      // Housekeeping after the commit: a failure is a warning, the build has made its image.
      const outcome = await tidySupersededImages(action.recipe, action.storage, ctx.signal);
      if (outcome) ctx.reporter.emit({ type: "message", ...outcome });
      return;
    }
    case "sign": {
      if (!ctx.signer) throw new Error("internal: the plan signs but no signing key was opened");
      await signArtifactDir(action.dir, ctx.signer, runCtx);
      return;
    }
  }
}

/**
 * The failure path's stop before an unmount (Undo.stopProcessesIn): what the steps left running
 * in the root would keep the unmount and `buildah rm` from their work. A step that failed after
 * starting a daemon thus leaves neither the daemon nor the mount nor the container. Logged as the
 * command that does it, like the undo's own; a failure is reported and the undo goes on.
 */
async function stopBeforeUndo(rootArg: Arg, state: BuildState, ctx: BuildContext): Promise<void> {
  if (argParts(rootArg).some((p) => typeof p !== "string" && state.values[p.var] === undefined)) return; // never mounted
  const root = resolveArg(rootArg, state.values);
  const cmd = internalCommand({ kind: "stop-processes", root });
  ctx.reporter.emit({
    type: "command",
    step: "cleanup",
    command: renderCommand(
      cmd.file,
      cmd.args.map((a) => resolveArg(a, state.values)),
    ),
  });
  try {
    reportStopped(await stopImageProcesses(root), "cleanup", state, ctx);
  } catch (error) {
    ctx.reporter.emit({ type: "message", level: "error", text: `[cleanup] ${error instanceof Error ? error.message : String(error)}` });
  }
}

function reportStopped(stopped: readonly StoppedProcess[], stepId: string, state: BuildState, ctx: BuildContext): void {
  for (const p of stopped) {
    const by = startingStep(p, state.programStarts);
    ctx.reporter.emit({
      type: "message",
      level: "warn",
      text: `[${stepId}] stopped a process left running in the image${by ? ` by step ${by}` : ""} (${p.by}): ${describeProcess(p)}`,
    });
  }
}

/** Output readers for the programs whose failures the plan marks (PlannedCommand.diagnose), one per run. */
const DIAGNOSES: Readonly<Record<NonNullable<PlannedCommand["diagnose"]>, () => OutputDiagnosis>> = {
  dracut: () => dracutDiagnosis,
  ansible: ansibleDiagnosis,
};

function resolveCommand(cmd: PlannedCommand, state: BuildState) {
  return {
    file: cmd.file,
    args: cmd.args.map((a) => resolveArg(a, state.values)),
    // Only the plan's own variables: run() logs them with the command, and execa adds them to
    // the inherited environment (which must never be printed: CI variables hold secrets).
    env: cmd.env,
    timeoutMs: cmd.timeoutSeconds !== undefined ? cmd.timeoutSeconds * 1000 : undefined,
    ...(cmd.acceptExitCodes ? { acceptExitCodes: cmd.acceptExitCodes } : {}),
  };
}

function manifestInputs(ctx: BuildContext, state: BuildState, outDir: string): ManifestInputs {
  state.builtAt ??= new Date();
  return {
    builtAt: state.builtAt,
    recipe: ctx.recipe,
    outDir,
    kernel: state.kernel,
    packages: state.captures.PACKAGES ?? "",
    tools: ctx.tools,
    timings: state.timings,
    sourceDateEpoch: ctx.sourceDateEpoch,
    ...(state.scan ? { scan: state.scan } : {}),
  };
}
