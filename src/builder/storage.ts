// Which buildah storage a command works on: one answer for every command that touches local
// images (build and its host detection, build --if-changed's cache decision, plan, publish,
// export --with-image, artifacts remove-superseded), so that what `build` committed is what
// they find. Root: the flag, else $BOOTSMITH_STORAGE_ROOT, else buildah's default. Run root: the
// flag, else the one bootsmith keeps for a custom root (runRootFor), else buildah's default:
// c/storage keeps mount and lock state there, so one graph root must always be opened with the
// same run root. Driver: the flag, else $BOOTSMITH_STORAGE_DRIVER, else the driver the root
// records; a root that records none holds no images yet, and the build detects one (host.ts).
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { userInfo } from "node:os";
import { silentReporter, type Reporter } from "../exec/events.js";
import { run } from "../exec/run.js";
import { UserError } from "../core/errors.js";
import { didYouMean } from "../recipe/errors.js";
import { findOnPath } from "./host-tools.js";
import { cachedVersion, DEFAULT_VERSION_CACHE_DIR, rememberVersion } from "./version-cache.js";

export const STORAGE_ENV = { root: "BOOTSMITH_STORAGE_ROOT", driver: "BOOTSMITH_STORAGE_DRIVER" } as const;

export const STORAGE_DRIVERS = ["overlay", "vfs", "btrfs", "zfs"] as const;

/** What the command line says; every field left out falls back as the header says. */
export interface StorageFlags {
  readonly root?: string;
  readonly runRoot?: string;
  readonly driver?: string;
}

export interface ResolvedStorage {
  readonly root: string;
  readonly runRoot: string;
  /** The driver the flag or $BOOTSMITH_STORAGE_DRIVER asks for, unchecked. */
  readonly requestedDriver?: string;
  /** Where the requested driver came from, for messages: `--storage-driver X` or `BOOTSMITH_STORAGE_DRIVER=X`. */
  readonly requestedBy?: string;
  /** The driver the root already holds storage of (c/storage refuses to open it with another). */
  readonly recordedDriver?: string;
  /** requestedDriver, else recordedDriver; undefined: nothing in the root yet, nothing asked for. */
  readonly driver?: string;
}

export interface ResolveStorageOptions {
  /** BOOTSMITH_STORAGE_*, PATH and what buildah's defaults depend on (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The buildah to ask for its defaults (default: the one on PATH). */
  readonly buildah?: string;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  /** Where buildah's default paths are remembered (version-cache.ts); unset: ask buildah every time. */
  readonly versionCacheDir?: string;
}

export async function resolveStorage(flags: StorageFlags, options: ResolveStorageOptions = {}): Promise<ResolvedStorage> {
  const env = options.env ?? process.env;
  const uid = process.getuid?.() ?? 0;
  const configuredRoot = flags.root ?? nonEmpty(env[STORAGE_ENV.root]);
  // buildah's defaults are needed unless both paths are given; a configured root that is the
  // default one keeps the default run root (buildah and podman open it with that one).
  const defaults =
    configuredRoot !== undefined && flags.runRoot !== undefined
      ? undefined
      : await defaultStorage(options.buildah ?? (await findOnPath("buildah", env.PATH)), uid, env, options);
  const root = resolve(configuredRoot ?? defaults!.root);
  const runRoot = resolve(flags.runRoot ?? (root === resolve(defaults!.root) ? defaults!.runRoot : runRootFor(root, uid, env)));
  const fromEnv = nonEmpty(env[STORAGE_ENV.driver]);
  const requestedDriver = flags.driver ?? fromEnv;
  const requestedBy = flags.driver !== undefined ? `--storage-driver ${flags.driver}` : fromEnv !== undefined ? `${STORAGE_ENV.driver}=${fromEnv}` : undefined;
  const recordedDriver = recordedDriverOf(root);
  const driver = requestedDriver ?? recordedDriver;
  return {
    root,
    runRoot,
    ...(requestedDriver !== undefined ? { requestedDriver, requestedBy } : {}),
    ...(recordedDriver !== undefined ? { recordedDriver } : {}),
    ...(driver !== undefined ? { driver } : {}),
  };
}

/** buildah's global options for that storage: `--root R --runroot RR [--storage-driver D]`. */
export function storageArgs(storage: Pick<ResolvedStorage, "root" | "runRoot" | "driver">): string[] {
  return ["--root", storage.root, "--runroot", storage.runRoot, ...(storage.driver !== undefined ? ["--storage-driver", storage.driver] : [])];
}

/**
 * The global options of a command that reads the build's images, checked: an unknown driver or
 * one the root cannot be opened with is bad input (exit 2), said before buildah's own error.
 */
export async function imageStorageArgs(flags: StorageFlags, options: ResolveStorageOptions = {}): Promise<string[]> {
  const storage = await checkedStorage(flags, options);
  // buildah would lay an unused root out for its default driver and then say "image not known";
  // said here instead, with what to do, and the root left as it was.
  if (storage.driver === undefined)
    throw new UserError(
      `${storage.root} holds no images: no build has used it (it has no ${STORAGE_DRIVERS.map((d) => `${d}-layers`).join(", ")}); ` +
        `give the storage the build used (--root, or ${STORAGE_ENV.root} as it was for the build)`,
    );
  return storageArgs(storage);
}

/**
 * For a cache lookup of the build's images (build --if-changed, a graph's decisions): the
 * options of imageStorageArgs, or undefined when the storage holds no images yet (its root
 * records no driver and none is asked for). buildah would lay such a root out for its own
 * default driver on the lookup's first call, before the build's storage check (host.ts) chose
 * the driver that works there; the check would then find that one "already used" and keep it.
 */
export async function lookupStorageArgs(flags: StorageFlags, options: ResolveStorageOptions = {}): Promise<string[] | undefined> {
  const storage = await checkedStorage(flags, options);
  return storage.driver === undefined ? undefined : storageArgs(storage);
}

/** The resolved storage; an unknown driver or one the root cannot be opened with is bad input (exit 2). */
async function checkedStorage(flags: StorageFlags, options: ResolveStorageOptions): Promise<ResolvedStorage> {
  const storage = await resolveStorage(flags, { versionCacheDir: DEFAULT_VERSION_CACHE_DIR, ...options });
  const problem = driverProblem(storage);
  if (problem) throw new UserError(`${storage.requestedBy}: ${problem.detail}; ${problem.fix}`);
  return storage;
}

/** What is wrong with the requested driver (unknown, or not the one the root holds), or undefined. */
export function driverProblem(storage: ResolvedStorage): { detail: string; fix: string } | undefined {
  const { requestedDriver: requested, recordedDriver: recorded } = storage;
  if (requested === undefined) return undefined;
  if (!(STORAGE_DRIVERS as readonly string[]).includes(requested)) {
    const close = didYouMean(requested, STORAGE_DRIVERS);
    return { detail: `unknown storage driver${close ? ` (did you mean "${close}"?)` : ""}`, fix: `use one of ${STORAGE_DRIVERS.join(", ")}` };
  }
  if (recorded !== undefined && recorded !== requested)
    return {
      detail: `${storage.root} holds ${recorded} storage, which buildah cannot open with ${requested}`,
      fix: `use ${recorded} (or leave the driver unset)`,
    };
  return undefined;
}

/**
 * A run root for a custom storage root. It holds mount and lock state that a reboot
 * invalidates, so it belongs on /run (tmpfs), one per storage root.
 */
export function runRootFor(storageRoot: string, uid: number, env: Readonly<Record<string, string | undefined>>): string {
  const base = uid === 0 ? "/run" : (env.XDG_RUNTIME_DIR ?? `/tmp/bootsmith-${uid}`);
  const id = createHash("sha256").update(resolve(storageRoot)).digest("hex").slice(0, 12);
  return join(base, "bootsmith", `runroot-${id}`);
}

/** A driver already recorded in the storage root (its <driver>-layers directory). */
function recordedDriverOf(storageRoot: string): string | undefined {
  return STORAGE_DRIVERS.find((driver) => existsSync(join(storageRoot, `${driver}-layers`)));
}

/** An empty variable (`BOOTSMITH_STORAGE_ROOT=` in a CI file) counts as unset. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

const STORAGE_INFO_ARGS = ["info", "--format", "{{.store.GraphRoot}}\t{{.store.RunRoot}}"] as const;

/**
 * What buildah's default storage paths depend on besides its binary: the user, the variables
 * containers/storage reads, and its storage.conf files (each one's identity, or null when absent,
 * and the identity of the directories that hold them, so a file created there changes the key).
 */
function storageConfigKey(uid: number, env: Readonly<Record<string, string | undefined>>): unknown[] {
  const vars = ["CONTAINERS_STORAGE_CONF", "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "STORAGE_DRIVER", "STORAGE_OPTS"];
  const home = env.HOME ?? "";
  const files = [
    env.CONTAINERS_STORAGE_CONF,
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
    join(env.XDG_CONFIG_HOME ?? join(home, ".config"), "containers/storage.conf"),
  ].filter((f): f is string => f !== undefined);
  const identity = (p: string) => {
    try {
      const s = statSync(p);
      return [p, s.ino, s.size, s.mtimeMs];
    } catch {
      return [p, null];
    }
  };
  const paths = [...new Set(files.flatMap((f) => [f, dirname(f)]))];
  return [uid, vars.map((v) => env[v] ?? null), paths.map(identity)];
}

/**
 * Where buildah keeps things when nobody says otherwise: ask it (`buildah info`, ~0.1 s; with
 * `versionCacheDir`, once per buildah binary and storage configuration, see version-cache.ts),
 * fall back to its defaults.
 */
async function defaultStorage(
  buildah: string | undefined,
  uid: number,
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveStorageOptions,
): Promise<{ root: string; runRoot: string }> {
  const cacheDir = options.versionCacheDir;
  if (buildah) {
    const key = cacheDir !== undefined ? storageConfigKey(uid, env) : [];
    const cached = cacheDir !== undefined ? cachedVersion(cacheDir, buildah, STORAGE_INFO_ARGS, key) : undefined;
    try {
      const ctx = { step: "host", reporter: options.reporter ?? silentReporter, signal: options.signal };
      const answer = cached ?? (await run({ file: buildah, args: STORAGE_INFO_ARGS, timeoutMs: 30_000 }, ctx, { quiet: true })).stdout.trim();
      const [root, runRoot] = answer.split("\t");
      if (root && runRoot) {
        if (cacheDir !== undefined && cached === undefined) rememberVersion(cacheDir, buildah, STORAGE_INFO_ARGS, answer, key);
        return { root, runRoot };
      }
    } catch {
      // A broken storage.conf: the conventional defaults below still give doctor something to check.
    }
  }
  if (uid === 0) return { root: "/var/lib/containers/storage", runRoot: "/run/containers/storage" };
  const home = env.HOME ?? userInfo().homedir;
  return {
    root: join(env.XDG_DATA_HOME ?? join(home, ".local/share"), "containers/storage"),
    runRoot: join(env.XDG_RUNTIME_DIR ?? `/tmp/containers-user-${uid}`, "containers"),
  };
}
