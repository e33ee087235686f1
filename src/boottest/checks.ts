// Checks that run inside the booted node: the recipe's boot.test.checks, `--check NAME=SCRIPT`
// from the command line, and bootsmith's built-in ones. This module says what to run and judges
// the results; check-harness.ts delivers them to the node and check-frames.ts reads the results
// back from the serial console. Verdicts are made here on the host (exit code, stdout regex), so
// the node only reports facts and a regex means the same as everywhere else in bootsmith.
import type { BootCheckRecord, Manifest } from "../core/manifest.js";
import { UserError } from "../core/errors.js";
import { CHECK_NAME } from "../recipe/schema.js";
import { usesLiveRoot } from "./preflight.js";
import { firstLine } from "../core/format.js";

/** One check as the harness runs it: a shell script for /bin/sh inside the node. */
export interface NodeCheck {
  readonly name: string;
  /** The body of a /bin/sh script (argv checks become an `exec` line). */
  readonly script: string;
  readonly expect: { readonly exit: number; readonly stdout?: string };
  readonly timeout: number;
  /** Built-in checks may report "does not apply here" (exit 77) and are then skipped. */
  readonly builtin: boolean;
}

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly builtin: boolean;
  /** Exit code in the node (124: stopped at its timeout), absent when no result reached the console. */
  readonly exitCode?: number;
  /** As measured in the node. */
  readonly seconds?: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it failed or was skipped, one line. */
  readonly message: string;
}

/** Exit code a built-in check uses for "does not apply to this image" (automake's SKIP code). */
export const SKIP_EXIT = 77;
/** coreutils timeout(1)'s exit code when it stopped the command. */
export const TIMEOUT_EXIT = 124;
const DEFAULT_TIMEOUT = 60;

/** POSIX shell single quoting: the text comes back verbatim inside the node's /bin/sh. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A recipe check (or one given on the command line) as a script for the node. */
export function fromRecord(check: BootCheckRecord): NodeCheck {
  const script = check.run ? `exec ${check.run.map(shQuote).join(" ")}` : `set -e\n${check.script ?? ""}`;
  return { name: check.name, script, expect: check.expect, timeout: check.timeout, builtin: false };
}

/** A check given wrongly (bad --check, a name used twice): bad input, exit 2. */
export class CheckOptionError extends UserError {}

/** `--check NAME=SCRIPT`: a shell script run with /bin/sh -ec in the node, passing on exit 0. */
export function parseCheckOption(option: string): BootCheckRecord {
  const eq = option.indexOf("=");
  const name = eq < 0 ? option : option.slice(0, eq);
  const script = eq < 0 ? "" : option.slice(eq + 1);
  if (!CHECK_NAME.test(name))
    throw new CheckOptionError(
      `--check ${JSON.stringify(option)}: the name before "=" must be one word (letters, digits, . _ -), e.g. --check 'sshd=systemctl is-active ssh'`,
    );
  if (script.trim() === "")
    throw new CheckOptionError(`--check ${JSON.stringify(option)}: give a shell command after "=", e.g. --check '${name}=systemctl is-active ssh'`);
  return { name, script, expect: { exit: 0 }, timeout: DEFAULT_TIMEOUT };
}

/** What the built-in checks need to know about the image under test. */
export interface BuiltinContext {
  /** The kernel params as booted (root=live: makes the live-root check apply). */
  readonly params?: string;
  readonly manifest?: Manifest;
}

/**
 * bootsmith's own checks, each only where it applies:
 * - system-running: `systemctl is-system-running` is "running"; "degraded" lists the failed units;
 * - image-id: IMAGE_ID/IMAGE_VERSION from /etc/os-release when the image carries them (skipped
 *   otherwise), IMAGE_ID equal to the manifest's image name when there is a manifest;
 * - live-root: / is the overlay over the squashfs dracut mounted at /run/rootfsbase, and that
 *   squashfs has the published size (when the params boot root=live: and the size is known);
 * - kernel-modules: every driver the recipe's initramfs config asked for (--add-drivers) is loaded
 *   or built into the kernel (when it asked for any).
 */
export function builtinChecks(ctx: BuiltinContext): NodeCheck[] {
  const checks: NodeCheck[] = [];
  const add = (name: string, script: string) => checks.push({ name, script, expect: { exit: 0 }, timeout: 30, builtin: true });
  add(
    "system-running",
    [
      "state=$(systemctl is-system-running || true)",
      'echo "systemctl is-system-running: $state"',
      'case "$state" in',
      "  running) exit 0 ;;",
      '  degraded) echo "failed units:"; systemctl --failed --no-legend --plain --no-pager; exit 1 ;;',
      '  *) echo "jobs still queued:"; systemctl list-jobs --no-legend --no-pager; exit 1 ;;',
      "esac",
    ].join("\n"),
  );
  const expectId = ctx.manifest?.name;
  add(
    "image-id",
    [
      "IMAGE_ID= IMAGE_VERSION=",
      ". /etc/os-release",
      `[ -n "$IMAGE_ID" ] || { echo "/etc/os-release has no IMAGE_ID: the image does not carry one"; exit ${SKIP_EXIT}; }`,
      'echo "IMAGE_ID=$IMAGE_ID IMAGE_VERSION=$IMAGE_VERSION"',
      ...(expectId
        ? [`[ "$IMAGE_ID" = ${shQuote(expectId)} ] || { echo ${shQuote(`expected IMAGE_ID=${expectId} (the manifest's image name)`)}; exit 1; }`]
        : []),
    ].join("\n"),
  );
  if (usesLiveRoot(ctx.params)) {
    const size = ctx.manifest?.artifacts.rootfs?.size;
    add(
      "live-root",
      [
        "root=$(findmnt -n -o FSTYPE,SOURCE /)",
        "base=$(findmnt -n -o FSTYPE,SOURCE /run/rootfsbase || true)",
        'echo "/: $root"',
        'echo "/run/rootfsbase: ${base:-not mounted}"',
        '[ "${root%% *}" = overlay ] || { echo "/ is not an overlay: the node does not run on the live root"; exit 1; }',
        '[ "${base%% *}" = squashfs ] || { echo "no squashfs at /run/rootfsbase: the overlay is not over the live image"; exit 1; }',
        ...(size !== undefined
          ? [
              'bytes=$(blockdev --getsize64 "${base#* }")',
              'echo "squashfs device ${base#* }: $bytes bytes"',
              `[ "$bytes" = ${size} ] || { echo "expected ${size} bytes (the published rootfs.squashfs)"; exit 1; }`,
            ]
          : []),
      ].join("\n"),
    );
  }
  const drivers = ctx.manifest?.initramfs?.drivers ?? [];
  if (drivers.length > 0) {
    add(
      "kernel-modules",
      [
        `set -- ${drivers.map(shQuote).join(" ")}`,
        'builtin=/lib/modules/$(uname -r)/modules.builtin; missing=""',
        'for m in "$@"; do',
        '  u=$(echo "$m" | tr - _); d=$(echo "$m" | tr _ -)',
        '  if grep -q "^$u " /proc/modules; then echo "$m: loaded"',
        '  elif grep -qE "/($u|$d)\\.ko" "$builtin" 2>/dev/null; then echo "$m: built in"',
        '  else echo "$m: NOT loaded and not built in"; missing="$missing $m"; fi',
        "done",
        '[ -z "$missing" ]',
      ].join("\n"),
    );
  }
  return checks;
}

/** Checks in run order: built-ins first (is the node sound?), then the image's, then the command line's. */
export function resolveChecks(opts: {
  recipe?: readonly BootCheckRecord[];
  extra?: readonly BootCheckRecord[];
  builtins: boolean;
  ctx: BuiltinContext;
}): NodeCheck[] {
  const all = [...(opts.builtins ? builtinChecks(opts.ctx) : []), ...[...(opts.recipe ?? []), ...(opts.extra ?? [])].map(fromRecord)];
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.name))
      throw new CheckOptionError(
        `two checks are named ${JSON.stringify(c.name)}${c.builtin ? "" : " (built-in names: system-running, image-id, live-root, kernel-modules)"}: rename one`,
      );
    seen.add(c.name);
  }
  return all;
}

/** What the node reported for one check (see check-frames.ts). */
export interface CheckReport {
  readonly exitCode: number;
  readonly milliseconds: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Some output chunks never reached the console. */
  readonly incomplete: boolean;
}

/** PASS/FAIL/SKIP for one check from what the node reported (undefined: nothing came back). */
export function judge(check: NodeCheck, report: CheckReport | undefined): CheckResult {
  const base = { name: check.name, builtin: check.builtin };
  if (!report)
    return { ...base, status: "fail", stdout: "", stderr: "", message: "no result reached the console (the node stopped, or the boot-test timed out first)" };
  const facts = { ...base, exitCode: report.exitCode, seconds: report.milliseconds / 1000, stdout: report.stdout, stderr: report.stderr };
  const cut = report.incomplete ? " (part of its output was lost on the console)" : "";
  if (check.builtin && report.exitCode === SKIP_EXIT) return { ...facts, status: "skip", message: firstLine(report.stdout) || "does not apply to this image" };
  if (report.exitCode === TIMEOUT_EXIT && check.expect.exit !== TIMEOUT_EXIT)
    return { ...facts, status: "fail", message: `stopped after its timeout of ${check.timeout} s${cut}` };
  if (report.exitCode !== check.expect.exit) return { ...facts, status: "fail", message: `exit code ${report.exitCode}, expected ${check.expect.exit}${cut}` };
  if (check.expect.stdout !== undefined && !new RegExp(check.expect.stdout, "m").test(report.stdout)) {
    return { ...facts, status: "fail", message: `stdout does not match /${check.expect.stdout}/${cut}` };
  }
  return { ...facts, status: "pass", message: "passed" };
}
