// Perform a plan's build actions: run commands, keep the runtime values (mount point, kernel
// version), register undos on the cleanup stack, copy the artifacts out and write the manifest.
// The plan says what; this module only does it. Walking the steps, and the publish/register
// actions that follow a build, belong to the build session in pipeline/execute-plan.ts.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import type { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import { run, type OutputDiagnosis } from "../exec/run.js";
import { dracutDiagnosis } from "./dracut-diagnosis.js";
import { resolveArg } from "../steps/args.js";
import type { Action, CaptureName, Plan, PlannedCommand, RuntimeVar, Step } from "../steps/types.js";
import { baseRef, compressionArgs } from "../plan/planner.js";
import { selectKernel, type SelectedKernel } from "./kernel.js";
import { removeLeftovers } from "./leftovers.js";
import { resolveInRoot } from "./rootfs-path.js";
import { parsePackageList } from "./packages.js";
import { listInitramfs } from "./initramfs.js";
import { sha256File } from "../core/hash.js";
import { ARTIFACT_FILES, IMAGE_MANIFEST_PATH, MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest, type StepTiming } from "../core/manifest.js";
import { inputDigests } from "../recipe/inputs.js";
import { readOsRelease, writeImageIdentity, type OsRelease } from "./os-release.js";
import { sbomInput, writeSboms, type SbomInput } from "./sbom/index.js";
import { TOOL_VERSION } from "../core/version.js";
import type { Signer } from "../sign/gpg.js";
import { signArtifactDir } from "../sign/sign-dir.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";

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
  timings: StepTiming[];
  manifest?: Manifest;
  /** The image's os-release, read by the identity step (package URL namespaces). */
  osRelease?: OsRelease;
  /** Fixed once, so the manifest inside the image and the one beside it agree. */
  builtAt?: Date;
}

export function newBuildState(): BuildState {
  return { values: {}, captures: {}, undos: new Map(), timings: [] };
}

/**
 * A rebuild replaces the output directory's artifacts. The old manifest goes first (its
 * presence means "complete"), and a failed build removes what it wrote.
 */
export function prepareOutDir(plan: Plan, ctx: Pick<BuildContext, "cleanup">): () => void {
  mkdirSync(plan.outDir, { recursive: true });
  mkdirSync(plan.workDir, { recursive: true });
  const owned = [MANIFEST_FILE, SUMS_FILE, SIGNATURE_FILE, ...Object.values(ARTIFACT_FILES)].map((f) => path.join(plan.outDir, f));
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

export async function performBuildAction(action: BuildAction, step: Step, plan: Plan, ctx: BuildContext, state: BuildState): Promise<void> {
  const runCtx = { step: step.id, reporter: ctx.reporter, signal: ctx.signal };
  switch (action.kind) {
    case "exec": {
      const result = await run(resolveCommand(action.command, state), runCtx, { diagnosis: action.command.diagnose ? DIAGNOSES[action.command.diagnose] : undefined });
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
    case "image-identity": {
      const root = resolveArg(action.root, state.values);
      state.osRelease = readOsRelease(root);
      state.builtAt = new Date();
      writeSboms(action.dir, sbomFor(plan, ctx, state));
      // The rootfs is made after this step and cannot hold its own digest: this manifest lacks it.
      const inner = resolveInRoot(root, IMAGE_MANIFEST_PATH);
      mkdirSync(path.dirname(inner), { recursive: true });
      writeFileSync(inner, `${JSON.stringify(await buildManifest(plan, ctx, state), null, 2)}\n`, { mode: 0o644 });
      const osRelease = writeImageIdentity(root, { id: action.id, version: action.version });
      ctx.reporter.emit({ type: "message", level: "info", text: `image identity: ${IMAGE_MANIFEST_PATH}, IMAGE_ID=${action.id} IMAGE_VERSION=${action.version} in ${osRelease}` });
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
    case "sign": {
      if (!ctx.signer) throw new Error("internal: the plan signs but no signing key was opened");
      await signArtifactDir(action.dir, ctx.signer, runCtx);
      return;
    }
  }
}

/** Output readers for the programs whose failures the plan marks (PlannedCommand.diagnose). */
const DIAGNOSES: Readonly<Record<NonNullable<PlannedCommand["diagnose"]>, OutputDiagnosis>> = { dracut: dracutDiagnosis };

function resolveCommand(cmd: PlannedCommand, state: BuildState) {
  return {
    file: cmd.file,
    args: cmd.args.map((a) => resolveArg(a, state.values)),
    // Only the plan's own variables: run() logs them with the command, and execa adds them to
    // the inherited environment (which must never be printed: CI variables hold secrets).
    env: cmd.env,
    timeoutMs: cmd.timeoutSeconds !== undefined ? cmd.timeoutSeconds * 1000 : undefined,
  };
}

function sbomFor(plan: Plan, ctx: BuildContext, state: BuildState): SbomInput {
  const spec = ctx.recipe.spec;
  const created = ctx.sourceDateEpoch !== undefined ? new Date(ctx.sourceDateEpoch * 1000) : (state.builtAt ?? new Date());
  const image = { name: spec.name, version: spec.tags[0] ?? "latest", packageManager: plan.packageManager, inputDigest: ctx.recipe.inputDigest, created, toolVersion: TOOL_VERSION };
  const distro = { distroId: state.osRelease?.ID?.toLowerCase(), distroVersion: state.osRelease?.VERSION_ID };
  return sbomInput(image, parsePackageList(state.captures.PACKAGES ?? ""), distro);
}

async function buildManifest(plan: Plan, ctx: BuildContext, state: BuildState): Promise<Manifest> {
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
    ...(boot ? { initramfs: { modules: boot.initramfs.modules, ...(boot.initramfs.drivers.length > 0 ? { drivers: boot.initramfs.drivers } : {}) }, rootfs: { compression: comp!.compression, ...(comp!.level !== undefined ? { level: comp!.level } : {}) }, params: boot.params, bootTest: { ...(boot.test.marker ? { marker: boot.test.marker } : {}), timeoutSeconds: boot.test.timeout, ...(boot.test.checks.length > 0 ? { checks: boot.test.checks } : {}), ...(boot.test.builtinChecks ? {} : { builtinChecks: false }) } } : {}),
    artifacts,
    packages: parsePackageList(state.captures.PACKAGES ?? ""),
    packageManager: plan.packageManager,
    tools: ctx.tools,
    timings: [...state.timings],
    builtAt: (state.builtAt ?? new Date()).toISOString(),
    ...(ctx.sourceDateEpoch !== undefined ? { sourceDateEpoch: ctx.sourceDateEpoch } : {}),
  };
}
