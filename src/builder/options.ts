// Everything the planner needs from the host and the command line, gathered in one place so
// that `plan` and `build` make the same plan.
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { LoadedRecipe } from "../recipe/load.js";
import type { PlanOptions } from "../plan/planner.js";
import type { Plan } from "../steps/types.js";
import { UserError } from "../core/errors.js";
import { detectHost, toolCheck, type HostCheck, type HostFacts } from "./host.js";
import { DEFAULT_PROBE_CACHE_DIR } from "./probe-cache.js";
import { DEFAULT_VERSION_CACHE_DIR } from "./version-cache.js";
import { lookupStorageArgs } from "./storage.js";
import { formatSigningKey, parseSigningKey, type SigningKeySpec } from "../sign/key.js";

/** How every build of one `bootsmith build` invocation runs: progress, host storage, publishing. */
export interface BuildSessionOptions {
  readonly publish: boolean;
  readonly progress: "auto" | "tty" | "plain" | "json";
  readonly verbose: boolean;
  readonly storageRoot?: string;
  readonly storageDriver?: string;
  readonly isolation?: string;
  /** Where registration records for rollback are kept. */
  readonly stateDir?: string;
  /** --sign-key (wins over the recipe's signing.key), and the passphrase variable's name. */
  readonly signKey?: string;
  readonly signPassphraseEnv?: string;
}

export interface BuildSettings {
  readonly outDir?: string;
  readonly workRoot?: string;
  readonly cacheDir?: string;
  readonly buildId?: string;
  readonly storageRoot?: string;
  readonly storageDriver?: string;
  readonly isolation?: string;
  readonly publish?: boolean;
  readonly signKey?: string;
  readonly signPassphraseEnv?: string;
  /** Commit the image (default true); see PlanOptions.commit. */
  readonly commit?: boolean;
  /** --refresh: pull image bases again (PlanOptions.pullBase "always"). */
  readonly refresh?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** A recipe's output directory under `root`: <root>/<name>/<primary tag>, root ./artifacts by default. */
export function defaultOutDir(recipe: LoadedRecipe, root = "artifacts"): string {
  const dir = multiArchDir(recipe, root);
  // One architecture of a recipe built for several: <root>/<name>/<tag>/<arch>/, beside the
  // others, under the combined manifest.json (publish/multi-arch.ts).
  return recipe.spec.arches ? path.join(dir, recipe.spec.arch) : dir;
}

/** <root>/<name>/<primary tag>: a single-architecture build's directory, or a multi-architecture build's combined one. */
export function multiArchDir(recipe: LoadedRecipe, root = "artifacts"): string {
  return path.resolve(root, recipe.spec.name, recipe.spec.tags[0] ?? "latest");
}

export function newBuildId(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** `buildah run --isolation`: the setting, else $BOOTSMITH_ISOLATION, else chroot; checked. */
export function isolationFrom(settings: Pick<BuildSettings, "isolation" | "env">): string {
  const isolation = settings.isolation ?? (settings.env ?? process.env).BOOTSMITH_ISOLATION ?? "chroot";
  if (!["chroot", "oci", "rootless"].includes(isolation))
    throw new UserError(`isolation "${isolation}" is not one of chroot, oci, rootless (BOOTSMITH_ISOLATION / --isolation)`);
  return isolation;
}

/**
 * The buildah storage of a build's image, for what reads it without building (the --if-changed
 * cache decision): the root, run root and driver the build's host detection uses
 * (builder/storage.ts), without its driver probe; undefined when the root holds no storage yet
 * (no image to find, and buildah must not lay it out before the build's own check does).
 */
export function buildStorageArgs(settings: Pick<BuildSettings, "storageRoot" | "storageDriver" | "env">): Promise<string[] | undefined> {
  return lookupStorageArgs({ root: settings.storageRoot, driver: settings.storageDriver }, { env: settings.env ?? process.env });
}

/** The host's apt sources, pasted into Debian images by mmdebstrap when a recipe names none. */
export function hostAptSources(): string[] {
  const files: string[] = [];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith(".sources") || f.endsWith(".list")) files.push(path.join(dir, f));
  if (existsSync("/etc/apt/sources.list") && statSync("/etc/apt/sources.list").size > 0) files.push("/etc/apt/sources.list");
  return files;
}

/** Where builds keep package caches: the flag, else $BOOTSMITH_CACHE_DIR, else /var/cache/bootsmith. */
export function packageCacheDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag ?? env.BOOTSMITH_CACHE_DIR ?? "/var/cache/bootsmith");
}

/** SOURCE_DATE_EPOCH, checked: seconds since 1970, or undefined when unset. */
export function sourceDateEpochFrom(env: NodeJS.ProcessEnv): number | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && !/^\d+$/.test(epoch)) throw new UserError(`SOURCE_DATE_EPOCH=${epoch}: expected seconds since 1970 (an integer)`);
  return epoch === undefined ? undefined : Number(epoch);
}

/**
 * `storage`: buildah's global options for every buildah call (the host's, see hostPlanOptions;
 * none: buildah's defaults).
 */
export function planOptions(recipe: LoadedRecipe, settings: BuildSettings, storage: readonly string[] = []): PlanOptions {
  const env = settings.env ?? process.env;
  const buildId = settings.buildId ?? newBuildId();
  const workRoot = path.resolve(settings.workRoot ?? env.BOOTSMITH_WORK_DIR ?? "/var/tmp/bootsmith");
  return {
    buildId,
    outDir: path.resolve(settings.outDir ?? defaultOutDir(recipe)),
    workDir: path.join(workRoot, `${recipe.spec.name}-${buildId}`),
    cacheDir: packageCacheDir(settings.cacheDir, env),
    buildah: { globalArgs: storage, isolation: isolationFrom(settings) },
    hostAptSources: hostAptSources(),
    cores: availableParallelism(),
    sourceDateEpoch: sourceDateEpochFrom(env),
    publish: settings.publish ?? true,
    sign: signingFor(recipe, settings),
    ...(settings.commit === false ? { commit: false } : {}),
    ...(settings.refresh ? { pullBase: "always" as const } : {}),
  };
}

/** Host checks that make a build impossible (others, like a missing qemu, only limit boot-test). */
const BLOCKING_CHECKS = ["tool:buildah", "storage-driver", "isolation", "privilege"];

/**
 * The host as a build sees it: storage root, driver and isolation from the flags, the
 * BOOTSMITH_* environment or detection. `build` and `plan` both call this, so the plan shows the
 * storage options the build will use.
 */
export function detectBuildHost(settings: Pick<BuildSettings, "storageRoot" | "storageDriver" | "isolation" | "outDir">): Promise<HostFacts> {
  return detectHost({
    storageRoot: settings.storageRoot,
    storageDriver: settings.storageDriver,
    isolation: settings.isolation,
    outputDir: settings.outDir,
    probeCacheDir: DEFAULT_PROBE_CACHE_DIR,
    versionCacheDir: DEFAULT_VERSION_CACHE_DIR,
  });
}

/**
 * The checks that stop a build on this host: the host-wide ones, and with the plan, any tool the
 * plan runs that is missing or broken (mmdebstrap for an apt recipe from scratch, mksquashfs when
 * there is a rootfs): found before the build starts, not after minutes of package installs.
 */
export function blockingProblems(host: HostFacts, plan?: Plan): HostCheck[] {
  const runs = new Set(plan ? plannedPrograms(plan) : []);
  return host.checks.flatMap((c) => {
    if (c.status === "fail" && BLOCKING_CHECKS.some((id) => c.id.startsWith(id))) return [c];
    if (c.status === "ok" || !c.id.startsWith("tool:") || !runs.has(c.id.slice("tool:".length))) return [];
    // An optional tool this plan runs is required here: say so (not "optional"), with its package.
    const tool = host.toolDetails.find((t) => `tool:${t.name}` === c.id);
    return [tool ? toolCheck(tool, true) : c];
  });
}

function plannedPrograms(plan: Plan): string[] {
  return plan.steps.flatMap((s) => s.actions.flatMap((a) => (a.kind === "exec" ? [path.basename(a.command.file)] : [])));
}

/** Plan options for a build on `host`: every buildah call gets the host's storage options and isolation. */
export function hostPlanOptions(recipe: LoadedRecipe, settings: BuildSettings, host: HostFacts): PlanOptions {
  return planOptions(recipe, { ...settings, isolation: host.isolation }, host.buildahArgs);
}

/**
 * The key that signs the set, as `bootsmith artifacts sign` takes it: --sign-key wins (a file
 * relative to the working directory), else the recipe's signing.key (a file relative to the
 * recipe). A value that is no key at all is bad input, reported before anything runs (exit 2).
 */
export function signingFor(recipe: LoadedRecipe, settings: Pick<BuildSettings, "signKey" | "signPassphraseEnv">): PlanOptions["sign"] {
  const flag = settings.signKey;
  const key = flag ?? recipe.spec.signing?.key;
  if (key === undefined) return undefined;
  let spec: SigningKeySpec;
  try {
    spec = parseSigningKey(key, flag !== undefined ? process.cwd() : path.dirname(recipe.file));
  } catch (error) {
    throw new UserError(`${signingKeySource(recipe, settings)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const passphraseEnv = settings.signPassphraseEnv ?? recipe.spec.signing?.passphraseEnv;
  return { key: formatSigningKey(spec), ...(passphraseEnv !== undefined ? { passphraseEnv } : {}) };
}

/** Where the signing key was given, for messages: --sign-key or the recipe's signing.key. */
export function signingKeySource(recipe: LoadedRecipe, settings: Pick<BuildSettings, "signKey">): string {
  return settings.signKey !== undefined ? "--sign-key" : `${recipe.file}: signing.key`;
}
