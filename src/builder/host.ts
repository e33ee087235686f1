// What this machine can do for a build, found by trying rather than assuming: the buildah
// storage driver that really mounts here, the isolation that really runs, root or user
// namespaces, free disk, and which tools are installed at which versions. The build uses
// `buildahArgs` and `isolation` for every buildah call and copies `tools` into the manifest;
// `bootsmith doctor` prints `checks`.
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, statfs } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { userInfo } from "node:os";
import { silentReporter, type Reporter } from "../exec/events.js";
import { run } from "../exec/run.js";
import { isStaticElf } from "./elf.js";
import { assessPrivilege, type PrivilegeVerdict } from "./host-privilege.js";
import { shortReason } from "./host-probe.js";
import { cachedProbeBuildah } from "./probe-cache.js";
import { detectTools, findOnPath, type ToolFacts } from "./host-tools.js";
import { cachedVersion, rememberVersion } from "./version-cache.js";
import { didYouMean } from "../recipe/errors.js";
import { formatBytes } from "../core/format.js";

/** Environment variables that override detection (documented in `bootsmith doctor --help`). */
export const HOST_ENV = {
  storageRoot: "BOOTSMITH_STORAGE_ROOT",
  storageDriver: "BOOTSMITH_STORAGE_DRIVER",
  isolation: "BOOTSMITH_ISOLATION",
} as const;

export const STORAGE_DRIVERS = ["overlay", "vfs", "btrfs", "zfs"] as const;
export const ISOLATIONS = ["chroot", "oci", "rootless"] as const;
/** Tried in order when nothing is configured: overlay is fast, vfs works everywhere. */
const DRIVER_PREFERENCE = ["overlay", "vfs"] as const;
/**
 * chroot by default: the OCI isolation needs a working cgroup setup, which hybrid cgroup v1/v2
 * hosts (and many CI runners) lack, and a boot image build gains nothing from it.
 */
const DEFAULT_ISOLATION = "chroot";

const GiB = 1024 ** 3;
/** A minimal RPM image with a kernel and dracut needs ~1.5 GiB in storage plus the squashfs. */
const DISK_FAIL_BYTES = 2 * GiB;
const DISK_WARN_BYTES = 10 * GiB;

export type CheckStatus = "ok" | "warn" | "fail";

export interface HostCheck {
  /** Stable id, e.g. `tool:mksquashfs`, `storage-driver`, `disk:storage`. */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a warn/fail. */
  readonly fix?: string;
}

export interface HostFacts {
  /** Global buildah options for every call: `--root R --runroot RR --storage-driver D`. */
  readonly buildahArgs: readonly string[];
  readonly storageRoot: string;
  readonly runRoot: string;
  /** The driver that works here (or the configured one, even if it failed: see checks). */
  readonly storageDriver: string;
  /** Value for `buildah run --isolation`. */
  readonly isolation: string;
  readonly privilege: PrivilegeVerdict;
  /** name → version of every tool found, for the manifest's `tools`. */
  readonly tools: Readonly<Record<string, string>>;
  readonly toolDetails: readonly ToolFacts[];
  readonly checks: readonly HostCheck[];
  /** The checks that are warn or fail. */
  readonly problems: readonly HostCheck[];
  /** No check failed. */
  readonly ok: boolean;
}

export interface DetectHostOptions {
  readonly storageRoot?: string;
  readonly runRoot?: string;
  readonly storageDriver?: string;
  readonly isolation?: string;
  /** Where artifacts go, for the free-disk check. */
  readonly outputDir?: string;
  /** PATH and the BOOTSMITH_* overrides are read from here (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives the probe's commands and output (default: silent). */
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  /** Reuse successful buildah probes from this directory (see probe-cache.ts); unset: always probe. */
  readonly probeCacheDir?: string;
  /** Reuse tool versions and buildah's default storage paths read before from this directory (see version-cache.ts); unset: always ask. */
  readonly versionCacheDir?: string;
}

/** " (did you mean …?)" for a mistyped setting, from the recipe validator's edit-distance match. */
function suggestion(value: string, known: readonly string[]): string {
  const close = didYouMean(value, known);
  return close ? ` (did you mean "${close}"?)` : "";
}

/** The path itself, or its nearest existing ancestor: where a directory not made yet will live. */
export async function nearestExisting(path: string): Promise<string> {
  let current = resolve(path);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

async function diskCheck(id: string, label: string, path: string): Promise<HostCheck> {
  const existing = await nearestExisting(path);
  try {
    const stats = await statfs(existing);
    const free = stats.bavail * stats.bsize;
    const detail = `${formatBytes(free)} free at ${existing}${existing === resolve(path) ? "" : ` (for ${path})`}`;
    const fix = `free space on that filesystem, or choose another ${label} location`;
    if (free < DISK_FAIL_BYTES) return { id, title: `free disk (${label})`, status: "fail", detail, fix };
    if (free < DISK_WARN_BYTES) return { id, title: `free disk (${label})`, status: "warn", detail, fix };
    return { id, title: `free disk (${label})`, status: "ok", detail };
  } catch (error) {
    return { id, title: `free disk (${label})`, status: "warn", detail: `cannot check ${existing}: ${shortReason(error)}` };
  }
}

/**
 * A tool's check. `requiredHere`: a recipe's plan runs it, so it is required for that build
 * whatever its need on the host in general (an apt recipe and mmdebstrap).
 */
export function toolCheck(tool: ToolFacts, requiredHere = false): HostCheck {
  const id = `tool:${tool.name}`;
  const need = requiredHere ? "required by this recipe" : tool.need;
  const status = requiredHere || tool.need === "required" ? "fail" : "warn";
  if (tool.version) return { id, title: tool.name, status: "ok", detail: `${tool.version} (${tool.path})` };
  if (tool.path) {
    return {
      id,
      title: tool.name,
      status,
      detail: `${tool.path} does not run: ${tool.error}`,
      fix: `reinstall it: apt-get install --reinstall ${tool.package}`,
    };
  }
  return {
    id,
    title: tool.name,
    status,
    detail: `missing (${need}: ${tool.purpose})`,
    fix: `apt-get install ${tool.package}`,
  };
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
 * `cacheDir`, once per buildah binary and storage configuration, see version-cache.ts), fall back
 * to its defaults.
 */
async function defaultStorage(
  buildah: string | undefined,
  uid: number,
  env: Readonly<Record<string, string | undefined>>,
  reporter: Reporter,
  signal?: AbortSignal,
  cacheDir?: string,
): Promise<{ root: string; runRoot: string }> {
  if (buildah) {
    const key = cacheDir !== undefined ? storageConfigKey(uid, env) : [];
    const cached = cacheDir !== undefined ? cachedVersion(cacheDir, buildah, STORAGE_INFO_ARGS, key) : undefined;
    try {
      const answer =
        cached ?? (await run({ file: buildah, args: STORAGE_INFO_ARGS, timeoutMs: 30_000 }, { step: "host", reporter, signal }, { quiet: true })).stdout.trim();
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

/**
 * A run root for a custom storage root. It holds mount and lock state that a reboot
 * invalidates, so it belongs on /run (tmpfs), one per storage root.
 */
export function runRootFor(storageRoot: string, uid: number, env: Readonly<Record<string, string | undefined>>): string {
  const base = uid === 0 ? "/run" : (env.XDG_RUNTIME_DIR ?? `/tmp/bootsmith-${uid}`);
  const id = createHash("sha256").update(resolve(storageRoot)).digest("hex").slice(0, 12);
  return join(base, "bootsmith", `runroot-${id}`);
}

/** A driver already recorded in the storage root: c/storage refuses to open it with another. */
function existingDriver(storageRoot: string): string | undefined {
  return STORAGE_DRIVERS.find((driver) => existsSync(join(storageRoot, `${driver}-layers`)));
}

async function findStaticBusybox(pathVar: string | undefined): Promise<string | undefined> {
  const candidates = [await findOnPath("busybox", pathVar), "/bin/busybox", "/usr/bin/busybox"];
  for (const candidate of candidates) if (candidate && (await isStaticElf(candidate))) return candidate;
  return undefined;
}

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

export async function detectHost(options: DetectHostOptions = {}): Promise<HostFacts> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const signal = options.signal;
  const uid = process.getuid?.() ?? 0;
  const checks: HostCheck[] = [];

  const toolDetails = await detectTools(env.PATH, reporter, signal, options.versionCacheDir);
  checks.push(...toolDetails.map((t) => toolCheck(t)));
  const buildah = toolDetails.find((t) => t.name === "buildah" && t.version)?.path;

  const user = (() => {
    try {
      return userInfo().username;
    } catch {
      return String(uid);
    }
  })();
  const privilege = assessPrivilege({
    uid,
    user,
    unprivilegedUsernsClone: await readOptional("/proc/sys/kernel/unprivileged_userns_clone"),
    maxUserNamespaces: await readOptional("/proc/sys/user/max_user_namespaces"),
    subuid: await readOptional("/etc/subuid"),
    newuidmap: (await findOnPath("newuidmap", env.PATH)) !== undefined,
  });
  checks.push({
    id: "privilege",
    title: "root or user namespaces",
    status: privilege.mode === "unavailable" ? "fail" : "ok",
    detail: privilege.detail,
    fix: privilege.fixes.length > 0 ? privilege.fixes.join("; ") : undefined,
  });

  const configuredRoot = options.storageRoot ?? env[HOST_ENV.storageRoot];
  const defaults = configuredRoot ? undefined : await defaultStorage(buildah, uid, env, reporter, signal, options.versionCacheDir);
  const storageRoot = resolve(configuredRoot ?? defaults!.root);
  const runRoot = resolve(options.runRoot ?? defaults?.runRoot ?? runRootFor(storageRoot, uid, env));

  const requestedDriver = options.storageDriver ?? env[HOST_ENV.storageDriver];
  const requestedIsolation = options.isolation ?? env[HOST_ENV.isolation];
  const isolation = requestedIsolation ?? DEFAULT_ISOLATION;
  const recorded = existingDriver(storageRoot);
  const candidates: string[] = requestedDriver ? [requestedDriver] : recorded ? [recorded] : [...DRIVER_PREFERENCE];
  let storageDriver = candidates[0]!;

  const driverSource = requestedDriver ? "configured" : recorded ? `already used by ${storageRoot}` : "detected";
  if (requestedDriver && !(STORAGE_DRIVERS as readonly string[]).includes(requestedDriver)) {
    checks.push({
      id: "storage-driver",
      title: "buildah storage driver",
      status: "fail",
      detail: `unknown storage driver "${requestedDriver}"${suggestion(requestedDriver, STORAGE_DRIVERS)}`,
      fix: `set ${HOST_ENV.storageDriver} to one of ${STORAGE_DRIVERS.join(", ")}, or unset it to detect`,
    });
  } else if (requestedIsolation && !(ISOLATIONS as readonly string[]).includes(requestedIsolation)) {
    checks.push({
      id: "isolation",
      title: "buildah run isolation",
      status: "fail",
      detail: `unknown isolation "${requestedIsolation}"${suggestion(requestedIsolation, ISOLATIONS)}`,
      fix: `set ${HOST_ENV.isolation} to one of ${ISOLATIONS.join(", ")}, or unset it (default ${DEFAULT_ISOLATION})`,
    });
  } else if (requestedDriver && recorded && recorded !== requestedDriver) {
    checks.push({
      id: "storage-driver",
      title: "buildah storage driver",
      status: "fail",
      detail: `${storageRoot} already holds ${recorded} storage; buildah cannot open it with ${requestedDriver}`,
      fix: `use ${HOST_ENV.storageDriver}=${recorded}, or a fresh ${HOST_ENV.storageRoot} for ${requestedDriver}`,
    });
  } else if (!buildah) {
    checks.push({
      id: "storage-driver",
      title: "buildah storage driver",
      status: "fail",
      detail: "not checked: buildah is missing",
      fix: "apt-get install buildah",
    });
  } else {
    const parent = dirname(storageRoot);
    await mkdir(parent, { recursive: true });
    const busybox = await findStaticBusybox(env.PATH);
    const failures: string[] = [];
    let isolationResult: { ok?: boolean; error?: string } = {};
    let found = false;
    for (const driver of candidates) {
      const result = await cachedProbeBuildah({ buildah, driver, isolation, parent, busybox, reporter, signal, cacheDir: options.probeCacheDir });
      if (result.driverError) {
        failures.push(`${driver}: ${result.driverError}`);
        continue;
      }
      storageDriver = driver;
      isolationResult = { ok: result.isolationOk, error: result.isolationError };
      found = true;
      break;
    }
    if (found) {
      const fellBack = failures.length > 0 ? ` (${failures.join("; ")})` : "";
      checks.push({ id: "storage-driver", title: "buildah storage driver", status: "ok", detail: `${storageDriver}, ${driverSource}${fellBack}` });
      if (isolationResult.ok === true) {
        checks.push({ id: "isolation", title: "buildah run isolation", status: "ok", detail: `${isolation}: buildah run works` });
      } else if (isolationResult.ok === false) {
        checks.push({
          id: "isolation",
          title: "buildah run isolation",
          status: "fail",
          detail: `${isolation}: ${isolationResult.error}`,
          fix:
            isolation === DEFAULT_ISOLATION
              ? "check that the storage root allows executables (not mounted noexec)"
              : `use ${HOST_ENV.isolation}=${DEFAULT_ISOLATION}`,
        });
      } else {
        checks.push({
          id: "isolation",
          title: "buildah run isolation",
          status: "warn",
          detail: `${isolation}: not verified (no static busybox to run in a test container)`,
          fix: "apt-get install busybox-static",
        });
      }
    } else {
      checks.push({
        id: "storage-driver",
        title: "buildah storage driver",
        status: "fail",
        detail: `no storage driver works in ${parent}: ${failures.join("; ")}`,
        fix: requestedDriver
          ? `unset ${HOST_ENV.storageDriver} to detect one, or try ${HOST_ENV.storageDriver}=vfs`
          : `set ${HOST_ENV.storageRoot} to a directory on a local filesystem (ext4, xfs)`,
      });
    }
  }

  checks.push(await diskCheck("disk:storage", "storage root", storageRoot));
  if (options.outputDir) checks.push(await diskCheck("disk:output", "output directory", options.outputDir));

  const tools = Object.fromEntries(toolDetails.filter((t) => t.version).map((t) => [t.name, t.version!]));
  const problems = checks.filter((c) => c.status !== "ok");
  return {
    buildahArgs: ["--root", storageRoot, "--runroot", runRoot, "--storage-driver", storageDriver],
    storageRoot,
    runRoot,
    storageDriver,
    isolation,
    privilege,
    tools,
    toolDetails,
    checks,
    problems,
    ok: !checks.some((c) => c.status === "fail"),
  };
}
