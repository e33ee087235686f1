// What this machine can do for a build, found by trying rather than assuming: the buildah
// storage driver that really mounts here, the isolation that really runs, root or user
// namespaces, free disk, and which tools are installed at which versions. The build uses
// `buildahArgs` and `isolation` for every buildah call and copies `tools` into the manifest;
// `bootsmith doctor` prints `checks`.
import { existsSync } from "node:fs";
import { mkdir, readFile, statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { userInfo } from "node:os";
import { silentReporter, type Reporter } from "../exec/events.js";
import { isStaticElf } from "./elf.js";
import { assessPrivilege, type PrivilegeVerdict } from "./host-privilege.js";
import { shortReason } from "./host-probe.js";
import { cachedProbeBuildah } from "./probe-cache.js";
import { detectTools, findOnPath, type ToolFacts } from "./host-tools.js";
import { resolveStorage, STORAGE_DRIVERS, STORAGE_ENV } from "./storage.js";
import { didYouMean } from "../recipe/errors.js";
import { formatBytes } from "../core/format.js";

/** Environment variables that override detection (documented in `bootsmith doctor --help`). */
export const HOST_ENV = {
  storageRoot: STORAGE_ENV.root,
  storageDriver: STORAGE_ENV.driver,
  isolation: "BOOTSMITH_ISOLATION",
} as const;
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

  // Root, run root and the driver asked for or recorded: as every other command resolves them.
  const storage = await resolveStorage(
    { root: options.storageRoot, runRoot: options.runRoot, driver: options.storageDriver },
    { env, buildah, reporter, signal, versionCacheDir: options.versionCacheDir },
  );
  const { root: storageRoot, runRoot, requestedDriver, recordedDriver: recorded } = storage;

  const requestedIsolation = options.isolation ?? env[HOST_ENV.isolation];
  const isolation = requestedIsolation ?? DEFAULT_ISOLATION;
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
