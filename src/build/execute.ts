// Execute a Plan: walk its steps in order, run each action, keep the runtime values (mount
// point, kernel version), register undos on the cleanup stack, time every step and write the
// manifest. The plan says what; this module only does it.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import type { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import { run } from "../exec/run.js";
import { resolveArg } from "../plan/args.js";
import type { Action, CaptureName, Plan, PlannedCommand, RuntimeVar, Step } from "../plan/types.js";
import { baseRef, compressionArgs } from "../plan/planner.js";
import { selectKernel, type SelectedKernel } from "./kernel.js";
import { removeLeftovers } from "./leftovers.js";
import { resolveInRoot } from "./rootfs-path.js";
import { parsePackageList } from "./packages.js";
import { listInitramfs } from "../boottest/initramfs.js";
import { sha256File } from "../publish/hash.js";
import { ARTIFACT_FILES, MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest, type PackageRecord, type StepTiming } from "./manifest.js";
import { publish } from "../publish/index.js";
import type { PublishedImage } from "../publish/types.js";
import { registerPublished } from "../boot/register.js";
import { inputDigests } from "../pipeline/inputs.js";

export interface ExecuteContext {
  readonly recipe: LoadedRecipe;
  readonly reporter: Reporter;
  readonly cleanup: CleanupStack;
  readonly signal?: AbortSignal;
  /** Tool name → version, recorded in the manifest. */
  readonly tools: Readonly<Record<string, string>>;
  readonly sourceDateEpoch?: number;
  /** buildah global options (storage), for the registry publisher's push. */
  readonly buildahGlobalArgs: readonly string[];
  /** Where registration records are kept (rollback); default per boot/register.ts. */
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
export class StepFailedError extends Error {
  constructor(
    readonly step: Step,
    cause: unknown,
  ) {
    super(`step ${step.id} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StepFailedError";
  }
}

interface State {
  values: Partial<Record<RuntimeVar, string>>;
  captures: Partial<Record<CaptureName, string>>;
  kernel?: SelectedKernel;
  undos: Map<string, { command: PlannedCommand; drop: () => void }>;
  timings: StepTiming[];
  published: PublishedImage[];
  manifest?: Manifest;
}

export async function executePlan(plan: Plan, ctx: ExecuteContext): Promise<BuildResult> {
  const started = Date.now();
  const state: State = { values: {}, captures: {}, undos: new Map(), timings: [], published: [] };
  const keepOutput = prepareOutDir(plan, ctx);
  let skipPublish: string | undefined;
  let verified = false;
  for (const [index, step] of plan.steps.entries()) {
    ctx.reporter.emit({ type: "step-start", step: step.id, title: step.title, index: index + 1, total: plan.steps.length });
    const t0 = Date.now();
    if (state.manifest && ctx.skipPublish && step.actions.some((a) => a.kind === "publish" || a.kind === "register")) {
      skipPublish ??= ctx.skipPublish(state.manifest);
      if (skipPublish) {
        ctx.reporter.emit({ type: "message", level: "info", text: `${step.id} skipped: ${skipPublish}` });
        ctx.reporter.emit({ type: "step-end", step: step.id, status: "skipped", durationMs: 0 });
        continue;
      }
    }
    try {
      for (const action of step.actions) await perform(action, step, plan, ctx, state);
    } catch (error) {
      const durationMs = Date.now() - t0;
      ctx.reporter.emit({ type: "step-end", step: step.id, status: "failed", durationMs, error: error instanceof Error ? error.message : String(error) });
      throw new StepFailedError(step, error);
    }
    const durationMs = Date.now() - t0;
    state.timings.push({ step: step.id, seconds: Math.round(durationMs / 100) / 10 });
    ctx.reporter.emit({ type: "step-end", step: step.id, status: "ok", durationMs });
    const listed = step.actions.some((a) => (a.kind === "exec" && a.capture === "PACKAGES") || a.kind === "write-manifest");
    if (ctx.verify && !verified && listed) {
      verified = true;
      ctx.verify(state.manifest?.packages ?? parsePackageList(state.captures.PACKAGES ?? ""));
    }
  }
  if (!state.manifest) throw new Error("internal: the plan has no write-manifest step");
  keepOutput();
  return { manifest: state.manifest, outDir: plan.outDir, published: state.published, durationMs: Date.now() - started };
}

/**
 * A rebuild replaces the output directory's artifacts. The old manifest goes first (its
 * presence means "complete"), and a failed build removes what it wrote.
 */
function prepareOutDir(plan: Plan, ctx: ExecuteContext): () => void {
  mkdirSync(plan.outDir, { recursive: true });
  mkdirSync(plan.workDir, { recursive: true });
  const owned = [MANIFEST_FILE, ...Object.values(ARTIFACT_FILES)].map((f) => path.join(plan.outDir, f));
  for (const f of owned) rmSync(f, { force: true });
  const removeWork = async () => rmSync(plan.workDir, { recursive: true, force: true });
  const dropWork = ctx.cleanup.push("remove the work directory", removeWork);
  const dropPartial = ctx.cleanup.push("remove partial artifacts", async () => {
    for (const f of owned) rmSync(f, { force: true });
  });
  /** On success: keep the artifacts, remove the work directory now. */
  return () => {
    dropPartial();
    dropWork();
    void removeWork();
  };
}

async function perform(action: Action, step: Step, plan: Plan, ctx: ExecuteContext, state: State): Promise<void> {
  const runCtx = { step: step.id, reporter: ctx.reporter, signal: ctx.signal };
  switch (action.kind) {
    case "exec": {
      const result = await run(resolveCommand(action.command, state), runCtx);
      if (action.capture === "MNT") state.values.MNT = result.stdout.trim();
      else if (action.capture) state.captures[action.capture] = result.stdout;
      if (action.undo) {
        const undoCommand = action.undo.command;
        const resolved = resolveCommand(undoCommand, state);
        const drop = ctx.cleanup.push(action.undo.id, async () => {
          await run(resolved, { step: "cleanup", reporter: ctx.reporter });
        });
        state.undos.set(action.undo.id, { command: undoCommand, drop });
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
      mkdirSync(path.dirname(action.path), { recursive: true });
      writeFileSync(action.path, action.content);
      chmodSync(action.path, action.mode);
      return;
    case "select-kernel": {
      const kernel = selectKernel(resolveArg(action.root, state.values), action.version);
      state.kernel = kernel;
      state.values.KVER = kernel.version;
      state.values.KERNEL_IMAGE = kernel.image;
      ctx.reporter.emit({ type: "message", level: "info", text: `kernel ${kernel.version} (${kernel.image})` });
      return;
    }
    case "copy-out": {
      const root = state.values.MNT;
      if (!root) throw new Error("internal: copy-out before the container was mounted");
      const inner = resolveArg(action.from, state.values).slice(root.length);
      const source = resolveInRoot(root, inner);
      if (!existsSync(source)) throw new Error(`${inner} does not exist in the image`);
      mkdirSync(path.dirname(action.to), { recursive: true });
      copyFileSync(source, `${action.to}.partial`);
      chmodSync(`${action.to}.partial`, 0o644);
      renameSync(`${action.to}.partial`, action.to);
      return;
    }
    case "verify-initramfs": {
      const kver = state.values.KVER;
      if (!kver) throw new Error("internal: verify-initramfs before a kernel was selected");
      const { entries } = await listInitramfs(action.file, { ctx: runCtx });
      const versions = new Set(entries.map((e) => /^(?:usr\/)?lib\/modules\/([^/]+)/.exec(e.name)?.[1]).filter((v): v is string => v !== undefined));
      if (!versions.has(kver)) {
        const found = versions.size > 0 ? `it has modules for ${[...versions].join(", ")}` : "it has no kernel modules at all";
        throw new Error(`${action.file} does not match kernel ${kver}: ${found}; check boot.initramfs.args and any --kver the recipe passes to dracut`);
      }
      return;
    }
    case "clean-leftovers": {
      const removed = removeLeftovers(resolveArg(action.root, state.values), action.paths, action.ifEmpty);
      if (removed.length > 0) ctx.reporter.emit({ type: "message", level: "info", text: `removed leftovers: ${removed.join(", ")}` });
      return;
    }
    case "write-manifest": {
      const manifest = await buildManifest(plan, ctx, state);
      const file = path.join(action.dir, MANIFEST_FILE);
      writeFileSync(`${file}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(`${file}.partial`, file);
      state.manifest = manifest;
      return;
    }
    case "publish": {
      const outcome = await publish(plan.outDir, action.target, { reporter: ctx.reporter, signal: ctx.signal, cleanup: ctx.cleanup, registry: { buildahGlobalArgs: ctx.buildahGlobalArgs } });
      state.published.push(...outcome.images);
      for (const image of outcome.images) {
        const urls = Object.entries(image.urls).map(([role, url]) => `${role} ${url}`).join(", ");
        ctx.reporter.emit({ type: "message", level: "info", text: `published ${image.name}:${image.tag} to ${image.target}${urls ? `: ${urls}` : ""}` });
      }
      return;
    }
    case "register": {
      const r = action.registration;
      const image = pickPublished(state.published, r.from, plan.recipe.tags[0]);
      const boot = ctx.recipe.spec.boot;
      if (!boot) throw new Error("internal: register without boot artifacts");
      const target = r.type === "bss" ? { type: "bss" as const, url: r.url, tokenEnv: r.tokenEnv, caFile: r.caFile } : { type: "boot-service" as const, url: r.url, name: r.name, groups: r.groups, priority: r.priority, legacy: r.legacy, tokenEnv: r.tokenEnv, caFile: r.caFile };
      const result = await registerPublished(image, boot.params, { macs: r.macs, hosts: r.hosts, nids: r.nids }, target, {
        extraParams: r.params,
        stateDir: ctx.stateDir,
        log: (line) => ctx.reporter.emit({ type: "message", level: "info", text: line }),
      });
      ctx.reporter.emit({ type: "message", level: "info", text: result.written ? `registered with ${r.type} at ${r.url}${result.stateFile ? ` (rollback record ${result.stateFile})` : ""}` : `${r.type} already up to date` });
      return;
    }
  }
}

function pickPublished(published: readonly PublishedImage[], from: string | undefined, tag: string | undefined): PublishedImage {
  const candidates = published.filter((p) => (from ? p.target === from : p.target !== "registry") && p.urls.kernel && p.urls.initrd && p.urls.rootfs);
  const image = candidates.find((p) => p.tag === tag) ?? candidates[0];
  if (!image) {
    throw new Error(`registration needs the image published to S3 or a local directory with a public URL first${from ? ` (from: ${from})` : ""}: add such a publish target before register`);
  }
  return image;
}

function resolveCommand(cmd: PlannedCommand, state: State) {
  return {
    file: cmd.file,
    args: cmd.args.map((a) => resolveArg(a, state.values)),
    // Only the plan's own variables: run() logs them with the command, and execa adds them to
    // the inherited environment (which must never be printed: CI variables hold secrets).
    env: cmd.env,
    timeoutMs: cmd.timeoutSeconds !== undefined ? cmd.timeoutSeconds * 1000 : undefined,
  };
}

async function buildManifest(plan: Plan, ctx: ExecuteContext, state: State): Promise<Manifest> {
  const spec = ctx.recipe.spec;
  const artifacts: Partial<Record<ArtifactRole, ArtifactRecord>> = {};
  for (const [role, file] of Object.entries(ARTIFACT_FILES) as [ArtifactRole, string][]) {
    const p = path.join(plan.outDir, file);
    if (!existsSync(p)) continue;
    artifacts[role] = { file, sha256: await sha256File(p), size: statSync(p).size };
  }
  const from = spec.from;
  const base: Manifest["base"] =
    from === "scratch" ? { kind: "scratch" } : "image" in from ? { kind: "image", ref: from.image } : { kind: "recipe", name: ctx.recipe.parent?.spec.name ?? from.recipe, ref: baseRef(ctx.recipe) };
  const boot = spec.boot;
  const comp = boot ? compressionArgs(boot.rootfs) : undefined;
  return {
    schemaVersion: 1,
    name: spec.name,
    tags: spec.tags,
    arch: spec.arch,
    inputDigest: ctx.recipe.inputDigest,
    inputs: inputDigests(ctx.recipe),
    recipeFile: path.relative(process.cwd(), ctx.recipe.file) || ctx.recipe.file,
    base,
    image: { ref: plan.image, ...(state.captures.IMAGE_ID ? { id: state.captures.IMAGE_ID.trim() } : {}) },
    ...(state.kernel ? { kernel: { version: state.kernel.version, ...(state.kernel.squashfsCompressors ? { squashfsCompressors: state.kernel.squashfsCompressors } : {}) } } : {}),
    ...(boot ? { initramfs: { modules: boot.initramfs.modules }, rootfs: { compression: comp!.compression, ...(comp!.level !== undefined ? { level: comp!.level } : {}) }, params: boot.params, bootTest: { ...(boot.test.marker ? { marker: boot.test.marker } : {}), timeoutSeconds: boot.test.timeout } } : {}),
    artifacts,
    packages: parsePackageList(state.captures.PACKAGES ?? ""),
    packageManager: plan.packageManager,
    tools: ctx.tools,
    timings: [...state.timings],
    builtAt: new Date().toISOString(),
    ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}),
  };
}
