// The programs bootsmith drives, where Debian gets them, and how to read their versions. The
// versions go into every build manifest (`tools`), so a changed tool explains a changed image.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Reporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import { cachedVersion, rememberVersion } from "./version-cache.js";

export interface ToolSpec {
  readonly name: string;
  /** Debian package that provides it, for the fix text. */
  readonly package: string;
  readonly versionArgs: readonly string[];
  /** Environment for the version probe (beyond the inherited one). */
  readonly versionEnv?: Readonly<Record<string, string>>;
  /** First capture group is the version. */
  readonly versionPattern: RegExp;
  /** required: builds cannot work without it (doctor fails); optional: one feature needs it. */
  readonly need: "required" | "optional";
  /** What it is for, shown when it is missing. */
  readonly purpose: string;
}

export const TOOLS: readonly ToolSpec[] = [
  { name: "buildah", package: "buildah", versionArgs: ["--version"], versionPattern: /version (\S+)/, need: "required", purpose: "builds every image" },
  {
    name: "mksquashfs",
    package: "squashfs-tools",
    versionArgs: ["-version"],
    versionPattern: /version (\S+)/,
    need: "required",
    purpose: "makes rootfs.squashfs",
  },
  {
    name: "unsquashfs",
    package: "squashfs-tools",
    versionArgs: ["-version"],
    versionPattern: /version (\S+)/,
    need: "optional",
    purpose: "inspects built squashfs images",
  },
  {
    name: "skopeo",
    package: "skopeo",
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/,
    need: "optional",
    purpose: "publishing to and inspecting OCI registries",
  },
  {
    name: "dnf",
    package: "dnf",
    versionArgs: ["--version"],
    versionPattern: /^(\d[\w.+~-]*)/m,
    need: "optional",
    purpose: "RPM-based recipes (Rocky, Alma, Fedora…)",
  },
  // Even `zypper --version` appends to the host's /var/log/zypper.log unless told otherwise.
  {
    name: "zypper",
    package: "zypper",
    versionArgs: ["--version"],
    versionEnv: { ZYPP_LOGFILE: "/dev/null" },
    versionPattern: /zypper (\S+)/,
    need: "optional",
    purpose: "SUSE recipes from scratch (SLES, openSUSE)",
  },
  {
    name: "rpm",
    package: "rpm",
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/i,
    need: "optional",
    purpose: "RPM-based recipes and their package lists",
  },
  {
    name: "mmdebstrap",
    package: "mmdebstrap",
    versionArgs: ["--version"],
    versionPattern: /mmdebstrap (\S+)/,
    need: "optional",
    purpose: "Debian-based recipes",
  },
  {
    name: "qemu-system-x86_64",
    package: "qemu-system-x86",
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/,
    need: "optional",
    purpose: "boot tests (bootsmith boot-test)",
  },
  {
    name: "qemu-system-aarch64",
    package: "qemu-system-arm",
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/,
    need: "optional",
    purpose: "boot tests of aarch64 images",
  },
  {
    name: "createrepo_c",
    package: "createrepo-c",
    versionArgs: ["--version"],
    versionPattern: /Version: (\S+)/,
    need: "optional",
    purpose: "local RPM repositories (tests, fixtures)",
  },
  {
    name: "docker-registry",
    package: "docker-registry",
    versionArgs: ["--version"],
    versionPattern: /(\d+\.\d+[\w.+~-]*)/,
    need: "optional",
    purpose: "a local OCI registry for publish tests",
  },
];

export interface ToolFacts {
  readonly name: string;
  readonly package: string;
  readonly need: ToolSpec["need"];
  readonly purpose: string;
  /** Absolute path, when found on PATH. */
  readonly path?: string;
  /** Parsed version; "unknown" when it runs but prints no version we recognise. */
  readonly version?: string;
  /** Why it is unusable though present (the version command failed). */
  readonly error?: string;
}

/**
 * `which`: the first executable `name` on `pathVar`, without starting a process. access(2) is
 * called synchronously: a dozen tools times the PATH's directories cost ~30 ms as promises, a
 * millisecond or two as system calls.
 */
export async function findOnPath(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next directory
    }
  }
  return undefined;
}

export async function detectTool(
  spec: ToolSpec,
  pathVar: string | undefined,
  reporter: Reporter,
  signal?: AbortSignal,
  versionCacheDir?: string,
): Promise<ToolFacts> {
  const base = { name: spec.name, package: spec.package, need: spec.need, purpose: spec.purpose };
  const path = await findOnPath(spec.name, pathVar);
  if (!path) return base;
  const cached = versionCacheDir !== undefined ? cachedVersion(versionCacheDir, path, spec.versionArgs) : undefined;
  if (cached !== undefined) return { ...base, path, version: cached };
  const found = await readVersion(spec, base, path, reporter, signal);
  if (versionCacheDir !== undefined && found.version !== undefined && found.version !== "unknown")
    rememberVersion(versionCacheDir, path, spec.versionArgs, found.version);
  return found;
}

async function readVersion(spec: ToolSpec, base: ToolFacts, path: string, reporter: Reporter, signal?: AbortSignal): Promise<ToolFacts> {
  try {
    const { stdout } = await run(
      { file: path, args: spec.versionArgs, ...(spec.versionEnv ? { env: spec.versionEnv } : {}), timeoutMs: 20_000 },
      { step: "host", reporter, signal },
      { quiet: true },
    );
    return { ...base, path, version: spec.versionPattern.exec(stdout)?.[1] ?? "unknown" };
  } catch (error) {
    // Some tools (unsquashfs -version) print their version and exit 1: a version is proof enough.
    const printed = isCommandError(error) && error.processExitCode !== 127 ? spec.versionPattern.exec(error.outputTail.join("\n"))?.[1] : undefined;
    if (printed) return { ...base, path, version: printed };
    return { ...base, path, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Every tool of TOOLS; with `versionCacheDir`, versions read before for the same binary are reused (version-cache.ts). */
export async function detectTools(pathVar: string | undefined, reporter: Reporter, signal?: AbortSignal, versionCacheDir?: string): Promise<ToolFacts[]> {
  return Promise.all(TOOLS.map((spec) => detectTool(spec, pathVar, reporter, signal, versionCacheDir)));
}
