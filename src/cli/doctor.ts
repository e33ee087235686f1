// `bootsmith doctor`: check that this host can build, and say how to fix what it cannot.
import { statfs } from "node:fs/promises";
import { detectHost, HOST_ENV, nearestExisting, type HostCheck, type HostFacts } from "../builder/host.js";
import { foreignArchCheck } from "../builder/binfmt.js";
import { packageCacheDir } from "../builder/options.js";
import { listCachedPackages, packageCacheCheck } from "../builder/package-cache.js";
import { ARCHES, hostArch, type Arch } from "../core/arch.js";
import { silentReporter } from "../exec/events.js";
import type { OutputStream } from "../exec/reporters/stream.js";
import { parseCommandArgs } from "./args.js";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";

const usage = `Usage: bootsmith doctor [--storage-root DIR] [--out DIR] [--arch ARCH] [--json]

Check that this host can build images: buildah and the other tools (with versions), a buildah
storage driver that really mounts here (overlay, else vfs), that \`buildah run\` works with the
chosen isolation, root or user namespaces, free disk in the storage root and output
directory, what the package cache holds (a warning when it outgrows its filesystem's free space),
and that programs of the other architecture run through qemu-user (binfmt_misc
mounted, the qemu entry registered, a static program of that architecture really runs): a
warning unless --arch names it. Every problem is printed with its fix. Exit code 1 when a check
fails.

Options:
  --storage-root DIR  buildah storage root to check (default: buildah's own, or $${HOST_ENV.storageRoot})
  --out DIR           output directory to check for free disk (default ./artifacts)
  --arch ARCH         x86_64 or aarch64: builds for it must work here (a failing emulation
                      check then fails); repeatable
  --json              print the checks and detected settings as one JSON object on stdout

Environment (honoured by build, plan, publish, export and ci too):
  ${HOST_ENV.storageRoot}    buildah storage root (--root); its run root is /run/bootsmith/runroot-<hash>
  ${HOST_ENV.storageDriver}  storage driver instead of detecting one: overlay, vfs, btrfs, zfs
  ${HOST_ENV.isolation}      isolation for \`buildah run\`: chroot (default), oci, rootless

Examples:
  bootsmith doctor
  BOOTSMITH_STORAGE_ROOT=/scratch/containers bootsmith doctor --json
`;

export interface DoctorOptions {
  readonly storageRoot?: string;
  /** Architectures the host must build for: their emulation check fails instead of warning. */
  readonly arches?: readonly Arch[];
  readonly outputDir?: string;
  readonly json?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly out?: OutputStream;
}

const LABEL: Readonly<Record<HostCheck["status"], string>> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export function formatDoctorReport(facts: HostFacts): string {
  const width = Math.max(...facts.checks.map((c) => c.title.length));
  const lines = ["bootsmith doctor: host checks", ""];
  for (const check of facts.checks) {
    lines.push(`  ${LABEL[check.status]}  ${check.title.padEnd(width)}  ${check.detail}`);
    if (check.fix && check.status !== "ok") lines.push(`  ${" ".repeat(4)}  ${" ".repeat(width)}  fix: ${check.fix}`);
  }
  const fails = facts.checks.filter((c) => c.status === "fail").length;
  const warns = facts.checks.filter((c) => c.status === "warn").length;
  lines.push("", `buildah: ${facts.buildahArgs.join(" ")} … run --isolation ${facts.isolation}`);
  lines.push(
    fails > 0
      ? `${fails} check(s) failed, ${warns} warning(s): builds will not work until the failures are fixed.`
      : warns > 0
        ? `ready to build, with ${warns} warning(s).`
        : "ready to build.",
  );
  return lines.join("\n") + "\n";
}

/** The doctor itself, with its environment and output injectable (tests strip PATH). */
export async function runDoctor(options: DoctorOptions = {}): Promise<number> {
  const out = options.out ?? process.stdout;
  const host = await detectHost({ storageRoot: options.storageRoot, outputDir: options.outputDir ?? "artifacts", env: options.env });
  const archChecks = await Promise.all(
    (Object.keys(ARCHES) as Arch[])
      .filter((arch) => arch !== hostArch())
      .map((arch) => foreignArchCheck(arch, { reporter: silentReporter, need: options.arches?.includes(arch) ? "fail" : "warn" })),
  );
  const cacheDir = packageCacheDir(undefined, options.env ?? process.env);
  const cacheFree = await statfs(await nearestExisting(cacheDir)).then(
    (s) => s.bavail * s.bsize,
    () => undefined,
  );
  const checks = [...host.checks, ...archChecks, packageCacheCheck(cacheDir, listCachedPackages(cacheDir), cacheFree)];
  const facts: HostFacts = { ...host, checks, problems: checks.filter((c) => c.status !== "ok"), ok: checks.every((c) => c.status !== "fail") };
  if (options.json) {
    const { checks, problems, ok, buildahArgs, storageRoot, runRoot, storageDriver, isolation, privilege, tools } = facts;
    out.write(
      JSON.stringify({ ok, checks, problems, buildahArgs, storageRoot, runRoot, storageDriver, isolation, privilege: privilege.mode, tools }, null, 2) + "\n",
    );
  } else {
    out.write(formatDoctorReport(facts));
  }
  return facts.ok ? EXIT.ok : EXIT.failed;
}

export const doctorCommand: CliCommand = {
  name: "doctor",
  summary: "Check that this host can build images, and how to fix what is missing",
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs("doctor", args, {
      "storage-root": { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
      arch: { type: "string", multiple: true },
    });
    if (positionals.length > 0)
      throw new UserError(`bootsmith doctor: unexpected argument "${positionals[0]}"\nRun \`bootsmith doctor --help\` for the options.`);
    const arches = (values.arch ?? []).map((a) => {
      if (!(a in ARCHES)) throw new UserError(`bootsmith doctor: --arch ${a}: expected ${Object.keys(ARCHES).join(" or ")}`);
      return a as Arch;
    });
    return runDoctor({ storageRoot: values["storage-root"], outputDir: values.out, json: values.json ?? false, arches });
  },
};
