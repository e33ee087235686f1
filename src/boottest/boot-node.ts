// One QEMU node of a boot test, from start to verdict: its argv (netboot through iPXE, or QEMU's
// direct kernel boot for aarch64), the console watched for the marker or a known failure, then
// the checks' reports, judged into the node's result.
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import { start, type ProcessExit, type RunningProcess } from "../exec/run.js";
import { CheckFrameParser } from "./check-frames.js";
import { SETTLE_SECONDS } from "./check-harness.js";
import { judge, type NodeCheck } from "./checks.js";
import { ConsoleWatcher, DEFAULT_MARKER, stripAnsi, type ConsoleVerdict } from "./console-watch.js";
import { BOOT_TEST_DEFAULTS, BOOT_TEST_STEP, type BootTestOptions } from "./options.js";
import type { PreflightResult } from "./preflight.js";
import { qemuAarch64DirectBootArgv, qemuBinary, qemuNetbootArgv, type Accel } from "./qemu.js";
import { round1, toResult, type BootTestResult, type Outcome, type ResultBase } from "./result.js";
import type { BootTimeline } from "./timeline.js";

export interface NodeContext {
  readonly opts: BootTestOptions;
  readonly reporter: Reporter;
  readonly info: (text: string) => void;
  readonly cleanup: CleanupStack;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly timeoutMs: number;
  readonly marker: RegExp | undefined;
  readonly checks: readonly NodeCheck[];
  readonly preflightResult: PreflightResult | undefined;
  readonly params: string | undefined;
  readonly fetchedScript: { text: string; rewritten: string[] } | undefined;
  readonly elapsed: () => number;
  /** Whether the artifact server has had a request yet (a guest's firmware fetched its script, or a node its rootfs). */
  readonly serverHeardFromGuest: () => boolean;
  /** aarch64: QEMU loads kernel and initramfs itself (no iPXE); node K's kernel command line. */
  readonly direct?: {
    readonly kernel: string;
    readonly initrd: string;
    /** The check harness, appended to the initramfs (QEMU takes one -initrd; concatenated cpio archives are one initramfs). */
    readonly harness: Buffer | undefined;
    readonly firmware: string | undefined;
    readonly params: (node: number) => string;
  };
}

export interface NodeSpec {
  readonly index: number;
  readonly timeline: BootTimeline;
  readonly mac: string;
  readonly bootfileUrl: string;
  readonly consoleLog: string | undefined;
}

/** One QEMU node from start to verdict: marker (or failure), then its checks. */
export async function bootNode(ctx: NodeContext, node: NodeSpec): Promise<BootTestResult> {
  const { opts, reporter, cleanup, accel, memoryMiB, timeoutMs, marker, checks, preflightResult, params, fetchedScript, elapsed } = ctx;
  const info = (opts.nodes ?? 1) > 1 ? (text: string) => ctx.info(`node ${node.index + 1}: ${text}`) : ctx.info;
  const { bootfileUrl, mac } = node;
  let keepLog = node.consoleLog !== undefined;
  let consoleLog = node.consoleLog;
  // A kept log is written under a new name and renamed over the old one once a guest ran: QEMU
  // would truncate the old file in place, changing every hard-linked copy of the artifact
  // directory (cp -al), and an attempt where nothing booted keeps the last real boot's log.
  let qemuLog = consoleLog;
  if (consoleLog) {
    await mkdir(path.dirname(path.resolve(consoleLog)), { recursive: true });
    const partial = `${consoleLog}.partial-${process.pid}`;
    qemuLog = partial;
    cleanup.push("remove the unfinished console log", () => rm(partial, { force: true }));
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-boot-test-"));
    consoleLog = path.join(dir, "console.log");
    qemuLog = consoleLog;
    cleanup.push("remove the console log", async () => {
      if (!keepLog) await rm(dir, { recursive: true, force: true });
    });
  }
  const watcher = new ConsoleWatcher({ marker, markerTarget: opts.markerTarget });
  const frames = new CheckFrameParser();
  let decide: (v: ConsoleVerdict) => void = () => {};
  const decided = new Promise<ConsoleVerdict>((resolve) => (decide = resolve));
  let checksFinished: (v: true) => void = () => {};
  const allChecksReported = new Promise<true>((resolve) => (checksFinished = resolve));
  const cpus = opts.cpus ?? BOOT_TEST_DEFAULTS.cpus;
  let argv: string[];
  if (ctx.direct) {
    const d = ctx.direct;
    let initrd = d.initrd;
    if (d.harness) {
      initrd = path.join(path.dirname(consoleLog), `initrd-with-checks.node${node.index + 1}.img.partial-${process.pid}`);
      // The kernel reads a cpio that follows a compressed archive only at a 4-byte boundary
      // ("invalid magic at start of compressed archive" otherwise; zero bytes are skipped), as
      // iPXE's page-aligned initrds are.
      const image = await readFile(d.initrd);
      await writeFile(initrd, Buffer.concat([image, Buffer.alloc((4 - (image.length % 4)) % 4), d.harness]));
      const file = initrd;
      cleanup.push("remove the initramfs with the check harness", () => rm(file, { force: true }));
    }
    argv = qemuAarch64DirectBootArgv({
      kernel: d.kernel,
      initrd,
      params: d.params(node.index + 1),
      firmware: d.firmware,
      accel,
      memoryMiB,
      cpus,
      consoleLog: qemuLog,
      mac,
    });
  } else argv = qemuNetbootArgv({ bootfileUrl, accel, memoryMiB, cpus, consoleLog: qemuLog, mac });
  const qemuStarted = performance.now();
  const tl = node.timeline;
  tl.begin(qemuStarted);
  let guestPrinted = false;
  const qemu: RunningProcess = start(
    { file: qemuBinary(ctx.direct ? "aarch64" : "x86_64"), args: argv },
    { step: BOOT_TEST_STEP, reporter, signal: opts.signal },
    {
      report: opts.showConsole,
      onLine: (line, stream) => {
        // stderr is QEMU itself (warnings, "terminating on signal"), not the guest.
        if (stream === "stderr") return;
        guestPrinted = true;
        const at = performance.now();
        const clean = stripAnsi(line).replace(/\r/g, "");
        tl.console(clean, at);
        for (const frame of frames.line(clean)) {
          if (frame.kind === "start") tl.checkStarted(frame.name, at);
          if (frame.kind === "end") tl.checkEnded(frame.name, at);
          if (frame.kind === "done") {
            tl.checksDone(at);
            checksFinished(true);
          }
        }
        const before = watcher.verdict.kind;
        const v = watcher.feed(line + "\n");
        if (before === "pending" && v.kind === "success") tl.marker(at);
        if (v.kind !== "pending") decide(v);
      },
    },
  );
  cleanup.push("stop QEMU", async () => {
    await qemu.stop(3_000);
  });

  let outcome = await race(decided, qemu.exited, timeoutMs, opts.signal);
  const bootSeconds = round1((performance.now() - qemuStarted) / 1000);
  // Up: now the checks, within their own budget (the runner first waits for systemd to settle).
  let checksTimedOut = false;
  if (outcome.kind === "verdict" && outcome.verdict.kind === "success" && checks.length > 0) {
    info(`up after ${bootSeconds} s; waiting for the checks in the node`);
    const budgetMs = (SETTLE_SECONDS + checks.reduce((sum, c) => sum + c.timeout + 5, 0) + 60) * 1000;
    const after = await race(allChecksReported, qemu.exited, budgetMs, opts.signal);
    if (after.kind === "aborted") outcome = after;
    checksTimedOut = after.kind === "timeout";
    if (after.kind === "exited") info("QEMU exited before every check reported");
  }
  const endedAt = performance.now();
  await qemu.stop(3_000);
  const guestRan = guestPrinted || ctx.serverHeardFromGuest();
  if (qemuLog !== consoleLog) {
    if (guestRan) await rename(qemuLog, consoleLog);
    else keepLog = false;
  }
  // Checks are judged only when the node came up; otherwise they never ran (the boot's failure says why).
  const cameUp = outcome.kind === "verdict" && outcome.verdict.kind === "success";
  const checkResults = cameUp ? checks.map((c) => judge(c, frames.report(c.name))) : [];
  for (const c of checkResults) info(`check ${c.name}: ${c.status.toUpperCase()} ${c.message}`);
  const breakdown = tl.breakdown(endedAt);
  const base: ResultBase = {
    preflight: preflightResult,
    consoleTail: watcher.tail,
    accel,
    bootfileUrl,
    params,
    consoleLog,
    checks: checkResults,
    breakdown,
    ...(fetchedScript && fetchedScript.rewritten.length > 0 ? { rewrittenUrls: fetchedScript.rewritten } : {}),
  };
  const waitedFor = `/${(marker ?? DEFAULT_MARKER).source}/${opts.markerTarget ? " or multi-user.target" : ""}`;
  let result = toResult(outcome, bootSeconds, timeoutMs, waitedFor, qemu.outputTail, base, elapsed(), guestRan);
  const failed = checkResults.filter((c) => c.status === "fail");
  if (result.ok && failed.length > 0) {
    const names = failed.map((c) => c.name).join(", ");
    const why = checksTimedOut ? " (the checks did not all report within their time budget)" : "";
    const details = failed.length === 1 ? failed[0]!.message : failed.map((c) => `${c.name}: ${c.message}`).join("; ");
    result = {
      ...result,
      ok: false,
      reason: "check-failed",
      message: `booted in ${bootSeconds} s, but ${failed.length === 1 ? "check" : "checks"} ${names} failed${why} (${details})`,
    };
  } else if (result.ok && checkResults.length > 0) {
    const passed = checkResults.filter((c) => c.status === "pass").length;
    const skipped = checkResults.filter((c) => c.status === "skip").length;
    result = { ...result, message: `${result.message}; ${passed} ${passed === 1 ? "check" : "checks"} passed${skipped ? `, ${skipped} skipped` : ""}` };
  }
  keepLog ||= !result.ok && guestRan;
  return keepLog ? { ...result, mac } : { ...result, mac, consoleLog: undefined };
}

/** The MAC of node `index`: the base MAC with its last byte counted up. */
export function nodeMac(base: string, index: number): string {
  if (index === 0) return base;
  const bytes = base.split(":").map((b) => parseInt(b, 16));
  bytes[5] = (bytes[5]! + index) % 256;
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

async function race<T>(decided: Promise<T>, exited: Promise<ProcessExit>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race<Outcome<T>>([
      decided.then((verdict) => ({ kind: "verdict", verdict })),
      exited.then((exit) => ({ kind: "exited", exit })),
      new Promise<Outcome<T>>((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      }),
      new Promise<Outcome<T>>((resolve) => {
        if (!signal) return;
        onAbort = () => resolve({ kind: "aborted" });
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
