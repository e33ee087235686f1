// The boot-time breakdown: where the seconds of a netboot went. Two sources on one clock (the
// host's performance.now(), with QEMU's start as 0): the artifact server's access log (when the
// iPXE script, kernel, initramfs and squashfs were fetched, bytes and seconds) and the arrival of
// known serial-console lines (kernel start, /init, switch-root, marker, each check). Phases run
// from one milestone to the next, so they add up to the total; a milestone that never showed up
// (e.g. the script came from a BSS, not our server) folds its time into the next phase.
import type { CompletedRequest } from "../serve/static-server.js";

export type FetchRole = "script" | "kernel" | "initrd" | "harness" | "rootfs";

export interface Phase {
  readonly name: string;
  /** Seconds since QEMU started, at the phase's end. */
  readonly endSeconds: number;
  readonly seconds: number;
  /** For downloads: the bytes served and the transfer's own duration. */
  readonly bytes?: number;
  readonly transferSeconds?: number;
}

export interface BootBreakdown {
  readonly phases: readonly Phase[];
  /** QEMU start to the end of the last phase. */
  readonly totalSeconds: number;
  /** The longest time the console said nothing while no download ran, when it was notable. */
  readonly longestSilence?: Silence;
}

/**
 * A stretch with no console line: where a stalled boot stalled. A phase only says "system start
 * to marker took 225 s"; the lines around the silence name what the node was doing.
 */
export interface Silence {
  readonly seconds: number;
  /** Seconds since QEMU started, when the silence began. */
  readonly fromSeconds: number;
  /** The part of the silence a download of the boot files explains. */
  readonly downloadingSeconds: number;
  /** The last line before it (none: QEMU's start). */
  readonly after?: string;
  /** The first line after it (none: the boot-test stopped first). */
  readonly until?: string;
}

/** Silences shorter than this (unexplained by downloads) are a normal TCG boot's pauses. */
export const NOTABLE_SILENCE_MS = 15_000;
const SILENCE_LINE_CHARS = 160;

interface Gap {
  readonly fromMs: number;
  readonly toMs: number;
  readonly after?: string;
  readonly until?: string;
}

interface Fetch {
  readonly startMs: number;
  readonly endMs: number;
  readonly bytes: number;
}

// Console lines that mark a boot milestone (ANSI stripped).
const KERNEL_TIMESTAMP = /\[\s*(\d+\.\d{6})\]/;
const INIT_START = /Run \/init as init process|Welcome to .*\(Initramfs\)/;
const SWITCH_ROOT = /Starting .*Switch Root|Switching root\./;

export class BootTimeline {
  private t0 = Number.POSITIVE_INFINITY;
  private readonly fetches = new Map<FetchRole, Fetch>();
  private kernelStartMs?: number;
  private initStartMs?: number;
  private switchRootMs?: number;
  private markerMs?: number;
  private readonly checks: { name: string; startMs?: number; endMs?: number }[] = [];
  private checksDoneMs?: number;
  private lastLine?: { text: string; atMs: number };
  /** Console gaps of at least NOTABLE_SILENCE_MS, before downloads are taken out. */
  private readonly gaps: Gap[] = [];

  /** QEMU started (performance.now()): the zero of every phase; earlier requests are ignored. */
  begin(qemuStartMs: number): void {
    this.t0 = qemuStartMs;
  }

  /** A finished request of the artifact server, classified by what it fetched. */
  fetched(role: FetchRole, r: Pick<CompletedRequest, "startMs" | "endMs" | "bytes" | "method" | "status" | "complete">): void {
    if (r.method !== "GET" || r.status >= 400 || r.startMs < this.t0) return;
    const before = this.fetches.get(role);
    // The largest transfer wins (livenet may probe before it downloads), then the latest.
    if (!before || r.bytes >= before.bytes) this.fetches.set(role, { startMs: r.startMs, endMs: r.endMs, bytes: r.bytes });
  }

  /** A console line (ANSI stripped) that arrived at `atMs`. */
  console(line: string, atMs: number): void {
    this.noteGap(line, atMs);
    const ts = this.initStartMs === undefined ? KERNEL_TIMESTAMP.exec(line) : null;
    if (ts) {
      // The kernel's clock starts after it decompressed itself. A line stamped `ts` arrived at
      // or after ts seconds past that start; lines buffered before the serial console came up
      // arrive late, so the smallest difference is the best estimate.
      const start = atMs - Number(ts[1]) * 1000;
      if (this.kernelStartMs === undefined || start < this.kernelStartMs) this.kernelStartMs = start;
    }
    if (this.initStartMs === undefined && INIT_START.test(line)) this.initStartMs = atMs;
    if (this.switchRootMs === undefined && SWITCH_ROOT.test(line)) this.switchRootMs = atMs;
  }

  private noteGap(line: string, atMs: number): void {
    if (atMs < this.t0 || line.trim() === "") return;
    const fromMs = this.lastLine?.atMs ?? this.t0;
    if (atMs - fromMs >= NOTABLE_SILENCE_MS) this.gaps.push({ fromMs, toMs: atMs, ...(this.lastLine ? { after: this.lastLine.text } : {}), until: line });
    this.lastLine = { text: line, atMs };
  }

  /** The longest gap once the downloads' time is taken out of each, if that is notable. */
  private longestSilence(endMs: number): Silence | undefined {
    const fromMs = this.lastLine?.atMs ?? this.t0;
    // The silence still running when the boot-test stopped (a hang) has no line after it.
    const trailing: Gap[] = endMs - fromMs >= NOTABLE_SILENCE_MS ? [{ fromMs, toMs: endMs, ...(this.lastLine ? { after: this.lastLine.text } : {}) }] : [];
    let best: { gap: Gap; unexplainedMs: number } | undefined;
    for (const gap of [...this.gaps, ...trailing]) {
      const unexplainedMs = gap.toMs - gap.fromMs - this.downloadingWithin(gap.fromMs, gap.toMs);
      if (unexplainedMs >= NOTABLE_SILENCE_MS && (!best || unexplainedMs > best.unexplainedMs)) best = { gap, unexplainedMs };
    }
    if (!best) return undefined;
    const { gap } = best;
    return {
      seconds: round2((gap.toMs - gap.fromMs) / 1000),
      fromSeconds: round2((gap.fromMs - this.t0) / 1000),
      downloadingSeconds: round2(this.downloadingWithin(gap.fromMs, gap.toMs) / 1000),
      ...(gap.after !== undefined ? { after: clip(gap.after) } : {}),
      ...(gap.until !== undefined ? { until: clip(gap.until) } : {}),
    };
  }

  /** Milliseconds of [fromMs, toMs] during which at least one boot file was downloading. */
  private downloadingWithin(fromMs: number, toMs: number): number {
    const spans = [...this.fetches.values()]
      .map((f) => [Math.max(f.startMs, fromMs), Math.min(f.endMs, toMs)] as const)
      .filter(([a, b]) => b > a)
      .sort((x, y) => x[0] - y[0]);
    let covered = 0;
    let reach = fromMs;
    for (const [a, b] of spans) {
      if (b <= reach) continue;
      covered += b - Math.max(a, reach);
      reach = b;
    }
    return covered;
  }

  marker(atMs: number): void {
    this.markerMs ??= atMs;
  }

  checkStarted(name: string, atMs: number): void {
    this.checks.push({ name, startMs: atMs });
  }

  checkEnded(name: string, atMs: number): void {
    const c = this.checks.find((x) => x.name === name && x.endMs === undefined);
    if (c) c.endMs = atMs;
    else this.checks.push({ name, endMs: atMs });
  }

  checksDone(atMs: number): void {
    this.checksDoneMs ??= atMs;
  }

  /** The phases up to `endMs` (when the boot-test stopped watching). */
  breakdown(endMs: number): BootBreakdown {
    const f = (role: FetchRole) => this.fetches.get(role);
    const initrdEnd = Math.max(f("initrd")?.endMs ?? -Infinity, f("harness")?.endMs ?? -Infinity);
    const initrdBytes = (f("initrd")?.bytes ?? 0) + (f("harness")?.bytes ?? 0);
    const initrdTransfer = f("initrd") ? (initrdEnd - Math.min(f("initrd")!.startMs, f("harness")?.startMs ?? Infinity)) / 1000 : undefined;
    const milestones: { name: string; atMs?: number; bytes?: number; transferSeconds?: number }[] = [
      { name: "firmware, DHCP, iPXE script fetched", atMs: f("script")?.endMs },
      { name: "kernel download", atMs: f("kernel")?.endMs, bytes: f("kernel")?.bytes, transferSeconds: span(f("kernel")) },
      {
        name: "initramfs download",
        atMs: Number.isFinite(initrdEnd) ? initrdEnd : undefined,
        bytes: initrdBytes || undefined,
        transferSeconds: initrdTransfer,
      },
      { name: "kernel load and decompression", atMs: this.kernelStartMs },
      { name: "kernel start to initramfs /init", atMs: this.initStartMs },
      { name: "initramfs to squashfs request", atMs: f("rootfs")?.startMs },
      { name: "squashfs download", atMs: f("rootfs")?.endMs, bytes: f("rootfs")?.bytes, transferSeconds: span(f("rootfs")) },
      { name: "live root mount to switch-root", atMs: this.switchRootMs },
      { name: "system start to marker", atMs: this.markerMs },
    ];
    const firstCheck = this.checks.find((c) => c.startMs !== undefined);
    if (firstCheck) milestones.push({ name: "system settling, check runner start", atMs: firstCheck.startMs });
    for (const c of this.checks) milestones.push({ name: `check ${c.name}`, atMs: c.endMs });
    if (this.checksDoneMs !== undefined) milestones.push({ name: "check results", atMs: this.checksDoneMs });

    const phases: Phase[] = [];
    let prev = this.t0;
    for (const m of milestones) {
      // Missing, or out of order (a clock estimate before the previous milestone): folded into the next.
      if (m.atMs === undefined || m.atMs < prev || m.atMs > endMs) continue;
      phases.push({
        name: m.name,
        endSeconds: round2((m.atMs - this.t0) / 1000),
        seconds: round2((m.atMs - prev) / 1000),
        ...(m.bytes !== undefined ? { bytes: m.bytes } : {}),
        ...(m.transferSeconds !== undefined ? { transferSeconds: round2(m.transferSeconds) } : {}),
      });
      prev = m.atMs;
    }
    // A second or more after the last milestone (a timeout, QEMU exiting) is a phase of its own.
    if (endMs - prev >= 1000)
      phases.push({ name: "until the boot-test stopped", endSeconds: round2((endMs - this.t0) / 1000), seconds: round2((endMs - prev) / 1000) });
    const silence = this.longestSilence(endMs);
    return { phases, totalSeconds: round2((endMs - this.t0) / 1000), ...(silence ? { longestSilence: silence } : {}) };
  }
}

function clip(line: string): string {
  return line.length <= SILENCE_LINE_CHARS ? line : `${line.slice(0, SILENCE_LINE_CHARS - 1)}…`;
}

function span(f: Fetch | undefined): number | undefined {
  return f ? (f.endMs - f.startMs) / 1000 : undefined;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The highest throughput over any one-second window of the transfers (each spread evenly over
 * its own duration), in bytes per second: how hard a boot storm pushed the server.
 */
export function peakThroughput(transfers: readonly { startMs: number; endMs: number; bytes: number }[], windowMs = 1000): number {
  if (transfers.length === 0) return 0;
  const t0 = Math.min(...transfers.map((t) => t.startMs));
  const buckets = new Map<number, number>();
  for (const t of transfers) {
    const duration = Math.max(t.endMs - t.startMs, 1);
    for (let b = Math.floor((t.startMs - t0) / windowMs); b * windowMs + t0 < t.endMs || b === Math.floor((t.startMs - t0) / windowMs); b++) {
      const from = Math.max(t.startMs, t0 + b * windowMs);
      const to = Math.min(t.endMs, t0 + (b + 1) * windowMs);
      const share = t.endMs === t.startMs ? t.bytes : (t.bytes * Math.max(0, to - from)) / duration;
      buckets.set(b, (buckets.get(b) ?? 0) + share);
    }
  }
  return Math.round(Math.max(...buckets.values()) / (windowMs / 1000));
}
