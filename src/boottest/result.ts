// What a boot test reports: the result, how one node's outcome (marker, failure line, QEMU exit,
// timeout, interruption) becomes one, and how a storm's nodes add up to one.
import type { ProcessExit } from "../exec/run.js";
import type { CheckResult } from "./checks.js";
import type { ConsoleVerdict, FailureReason } from "./console-watch.js";
import type { PreflightResult } from "./preflight.js";
import type { Accel } from "./qemu.js";
import { peakThroughput, type BootBreakdown } from "./timeline.js";

export type BootFailureReason =
  FailureReason | "preflight" | "timeout" | "qemu-exited" | "qemu-not-started" | "bootscript-unreachable" | "interrupted" | "check-failed";

export interface BootTestResult {
  readonly ok: boolean;
  /** Set when !ok. */
  readonly reason?: BootFailureReason;
  /** One line: what passed, or why it failed. */
  readonly message: string;
  /** QEMU start to the marker line, when it passed. */
  readonly bootSeconds?: number;
  readonly markerLine?: string;
  readonly preflight?: PreflightResult;
  /** Last console lines (ANSI stripped), for failure reports. */
  readonly consoleTail: readonly string[];
  /** Path of the kept console log (kept on failure or when consoleLog was given). */
  readonly consoleLog?: string;
  readonly accel?: Accel;
  /** What DHCP handed to iPXE (guest view). */
  readonly bootfileUrl?: string;
  /** Kernel params of the generated script (not known in bootscript mode). */
  readonly params?: string;
  readonly elapsedSeconds: number;
  /** Every check run in the node, in run order (empty when none ran). */
  readonly checks: readonly CheckResult[];
  /** Where the boot's time went (phases add up to breakdown.totalSeconds). */
  readonly breakdown?: BootBreakdown;
  /** Loopback URLs of a fetched boot script that were pointed at 10.0.2.2 for the guest. */
  readonly rewrittenUrls?: readonly string[];
  /** The test NIC's MAC. */
  readonly mac?: string;
  /**
   * Set when no guest ran: the attempt failed on the host's side first (the preflight refused,
   * the boot script could not be fetched, QEMU is missing or refused its options, or QEMU showed
   * nothing at all). Such a run says nothing about the image, so it does not replace the record
   * of the last real boot (manifest.json bootTest.lastRun, boot-test.json).
   */
  readonly nothingBooted?: true;
  /** With --nodes N > 1: every node's own result (this result is the storm's). */
  readonly nodeResults?: readonly BootTestResult[];
  readonly storm?: StormSummary;
}

/** A boot storm's summary (--nodes N > 1). */
export interface StormSummary {
  readonly nodes: number;
  /** First QEMU start to the last node's end. */
  readonly totalSeconds: number;
  /** The artifact server's highest throughput over one second, all nodes together. */
  readonly peakBytesPerSecond: number;
  readonly bytesServed: number;
}

/** How a node's wait ended. */
export type Outcome<T> = { kind: "verdict"; verdict: T } | { kind: "exited"; exit: ProcessExit } | { kind: "timeout" } | { kind: "aborted" };

export type ResultBase = Pick<
  BootTestResult,
  "preflight" | "consoleTail" | "accel" | "bootfileUrl" | "params" | "consoleLog" | "checks" | "breakdown" | "rewrittenUrls"
>;

/**
 * `guestRan`: the guest printed on its console or fetched from the artifact server. Without that,
 * QEMU ending or the timeout passing is the host's failure, not the image's (nothingBooted).
 */
export function toResult(
  outcome: Outcome<ConsoleVerdict>,
  bootSeconds: number,
  timeoutMs: number,
  waitedFor: string,
  qemuTail: readonly string[],
  base: ResultBase,
  elapsedSeconds: number,
  guestRan = true,
): BootTestResult {
  const host = guestRan ? {} : { nothingBooted: true as const };
  switch (outcome.kind) {
    case "verdict": {
      const v = outcome.verdict;
      switch (v.kind) {
        case "success":
          return {
            ...base,
            ok: true,
            message: `booted in ${bootSeconds} s (${v.matched === "marker" ? "marker" : "multi-user.target"}: ${v.line.trim()})`,
            bootSeconds,
            markerLine: v.line,
            elapsedSeconds,
          };
        case "failure":
          return { ...base, ok: false, reason: v.reason, message: v.message, elapsedSeconds };
        case "pending":
          throw new Error("a pending verdict cannot decide a boot");
        default: {
          const never: never = v;
          throw new Error(`unhandled verdict ${JSON.stringify(never)}`);
        }
      }
    }
    case "exited": {
      const e = outcome.exit;
      if (e.startError) return { ...base, ok: false, reason: "qemu-not-started", message: e.startError, elapsedSeconds, nothingBooted: true };
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.exitCode}`;
      const stderr = qemuTail.filter((l) => /qemu|error|could not/i.test(l)).slice(-3);
      const said = stderr.length ? `: ${stderr.join(" | ")}` : "";
      return {
        ...base,
        ok: false,
        reason: "qemu-exited",
        message: guestRan
          ? `QEMU ${how} after ${bootSeconds} s before the image reported it was up (the guest powered off or crashed)${said}`
          : `QEMU ${how} after ${bootSeconds} s before any guest ran (nothing on the console, nothing fetched): QEMU refused to run it${said}`,
        elapsedSeconds,
        ...host,
      };
    }
    case "timeout":
      return {
        ...base,
        ok: false,
        reason: "timeout",
        message: guestRan
          ? `no console line matched ${waitedFor} within ${Math.round(timeoutMs / 1000)} s (--timeout): the boot hung, or the image prints another marker (--marker)`
          : `QEMU showed no sign of a guest within ${Math.round(timeoutMs / 1000)} s (nothing on the console, nothing fetched): its firmware never ran (a hung accelerator? try --accel tcg)`,
        elapsedSeconds,
        ...host,
      };
    case "aborted":
      return { ...base, ok: false, reason: "interrupted", message: "interrupted; QEMU and the server were stopped", elapsedSeconds, ...host };
    default: {
      const never: never = outcome;
      throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
    }
  }
}

/** N nodes' results as one: PASS only if every node passed. */
export function stormResult(
  results: readonly BootTestResult[],
  transfers: readonly { startMs: number; endMs: number; bytes: number }[],
  startMs: number,
  endMs: number,
  elapsedSeconds: number,
): BootTestResult {
  // The storm's own: nothing booted only when no node's guest ran.
  const { nothingBooted: _, ...first } = results[0]!;
  const failed = results.map((r, i) => ({ r, n: i + 1 })).filter(({ r }) => !r.ok);
  const storm: StormSummary = {
    nodes: results.length,
    totalSeconds: round1((endMs - startMs) / 1000),
    peakBytesPerSecond: peakThroughput(transfers),
    bytesServed: transfers.reduce((sum, t) => sum + t.bytes, 0),
  };
  const times = results.map((r) => r.bootSeconds).filter((t): t is number => t !== undefined);
  const spread = times.length > 0 ? ` (up in ${Math.min(...times)}–${Math.max(...times)} s)` : "";
  const message =
    failed.length === 0
      ? `${results.length} of ${results.length} nodes up and checked in ${storm.totalSeconds} s${spread}`
      : `${failed.length} of ${results.length} nodes failed: ${failed.map(({ r, n }) => `node ${n} (${r.reason}): ${r.message}`).join("; ")}`;
  return {
    ...first,
    ok: failed.length === 0,
    ...(failed.length > 0 ? { reason: failed[0]!.r.reason } : {}),
    message,
    elapsedSeconds,
    nodeResults: results,
    storm,
    ...(results.every((r) => r.nothingBooted) ? { nothingBooted: true as const } : {}),
  };
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
