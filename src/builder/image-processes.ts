// Processes a step started inside the image and left running: `gpg --import` leaves gpg-agent and
// dirmngr, a package scriptlet or a SysV fallback of `systemctl start` a daemon, a script its own
// `nohup … &`. buildah run returns when its shell exits; the daemon lives on, on the build host,
// keeps the image's mount busy (the unmount and `buildah rm` fail) and writes into files the
// squashfs and the commit are reading. Before the root is squashed, and before any teardown, they
// are found by their root directory and stopped.
//
// A process is the image's when its root directory (/proc/PID/root) is the image root or a
// directory inside it. Compared by device and inode, not by path: `buildah run` gives the process
// a mount namespace of its own, where /proc/PID/root reads as "/" (the path is the namespace's),
// while stat() through the link reaches the very directory. Nothing else is touched: not the
// host's processes, not another build's (another overlay mount, another device).
import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";

export interface ImageProcess {
  readonly pid: number;
  readonly command: string;
  /** Start time in seconds since boot (/proc/PID/stat), to tell the process from a later one with its pid and to say which step started it. */
  readonly startedAt: number;
}

export interface StoppedProcess extends ImageProcess {
  /** How it ended: SIGTERM sufficed, or SIGKILL was needed. */
  readonly by: "SIGTERM" | "SIGKILL";
}

export interface StopOptions {
  /** How long a process gets to end after SIGTERM before SIGKILL. */
  readonly graceMs?: number;
  /** How long to wait for the end after SIGKILL (a process in uninterruptible sleep takes a while). */
  readonly killWaitMs?: number;
  readonly pollMs?: number;
}

/** The kernel's USER_HZ: the unit of /proc/PID/stat's start time; 100 on every Linux architecture bootsmith builds for. */
const CLOCK_TICKS = 100;
const DEFAULTS = { graceMs: 5000, killWaitMs: 5000, pollMs: 50 } as const;
const PROC = "/proc";

/** Every process whose root directory is `root` or a directory under it. */
export function findImageProcesses(root: string): ImageProcess[] {
  const image = statSync(root);
  const hostRoot = statSync(`${PROC}/self/root`);
  const found: ImageProcess[] = [];
  for (const entry of readdirSync(PROC)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (!rootIsInside(`${PROC}/${pid}/root`, image, hostRoot)) continue;
      const stat = readStat(pid);
      if (!stat || stat.state === "Z") continue; // gone, or ended and only waiting to be reaped
      found.push({ pid, command: commandLine(pid, stat.comm), startedAt: stat.startedAt });
    } catch {
      // The process ended while being looked at: nothing to stop.
    }
  }
  return found;
}

/**
 * Whether the directory the link `rootLink` reaches is `image` or lies below it: walk up through
 * `..` (bounded) until the image, or a directory that is its own parent (a namespace's root).
 */
function rootIsInside(rootLink: string, image: Stats, hostRoot: Stats): boolean {
  let dir = rootLink;
  let current = statSync(dir);
  if (sameFile(current, hostRoot)) return false; // the common case: a host process
  for (let depth = 0; depth < 256; depth++) {
    if (sameFile(current, image)) return true;
    dir += "/..";
    const parent = statSync(dir);
    if (sameFile(parent, current)) return false;
    current = parent;
  }
  return false;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** State and start time from /proc/PID/stat; undefined once the process is gone. */
function readStat(pid: number): { comm: string; state: string; startedAt: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`${PROC}/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces and parentheses: split after the last ")".
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); start time is field 22.
  return { comm, state: fields[0] ?? "", startedAt: Number(fields[19]) / CLOCK_TICKS };
}

function commandLine(pid: number, comm: string): string {
  const argv = readFileSync(`${PROC}/${pid}/cmdline`, "utf8")
    .split("\0")
    .filter((a) => a !== "");
  return argv.length > 0 ? argv.join(" ") : `[${comm}]`;
}

/** Whether the process found as `p` still runs (not gone, not a zombie, its pid not taken by another). */
function stillRunning(p: ImageProcess): boolean {
  const stat = readStat(p.pid);
  return stat !== undefined && stat.state !== "Z" && stat.startedAt === p.startedAt;
}

function signal(p: ImageProcess, sig: NodeJS.Signals): void {
  if (!stillRunning(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // Ended between the check and the signal.
  }
}

/** Poll (bounded) until none of `procs` runs; returns those that still do. */
async function waitGone(procs: readonly ImageProcess[], ms: number, pollMs: number): Promise<ImageProcess[]> {
  const deadline = Date.now() + ms;
  let running = procs.filter((p) => stillRunning(p));
  while (running.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    running = running.filter((p) => stillRunning(p));
  }
  return running;
}

/**
 * Stop every process in the image root: SIGTERM, a grace period, then SIGKILL; returns them with
 * how each ended. Throws naming the processes that outlived SIGKILL too (the root's mount stays
 * busy then, and the squashfs would read files they write).
 */
export async function stopImageProcesses(root: string, options: StopOptions = {}): Promise<StoppedProcess[]> {
  const { graceMs, killWaitMs, pollMs } = { ...DEFAULTS, ...options };
  const stopped: StoppedProcess[] = [];
  // Again until none is found: a process that ends can start another (a supervisor, a shell's trap).
  for (let round = 0; round < 5; round++) {
    const found = findImageProcesses(root);
    if (found.length === 0) return stopped;
    for (const p of found) signal(p, "SIGTERM");
    const stubborn = await waitGone(found, graceMs, pollMs);
    for (const p of stubborn) signal(p, "SIGKILL");
    const left = await waitGone(stubborn, killWaitMs, pollMs);
    if (left.length > 0) throw new Error(`processes in the image root ${root} outlived SIGKILL: ${left.map(describeProcess).join("; ")}`);
    stopped.push(...found.map((p) => ({ ...p, by: stubborn.includes(p) ? ("SIGKILL" as const) : ("SIGTERM" as const) })));
  }
  const left = findImageProcesses(root);
  if (left.length > 0) throw new Error(`processes in the image root ${root} keep starting others: ${left.map(describeProcess).join("; ")}`);
  return stopped;
}

export function describeProcess(p: ImageProcess): string {
  return `pid ${p.pid} (${p.command})`;
}

/** Seconds since boot, on the clock of ImageProcess.startedAt. */
export function secondsSinceBoot(): number {
  return Number(readFileSync(`${PROC}/uptime`, "utf8").split(" ")[0]);
}

/** The step whose command was running when `p` started: the last one started at or before it. */
export function startingStep(p: ImageProcess, starts: readonly { readonly step: string; readonly at: number }[]): string | undefined {
  let step: string | undefined;
  // A tick of slack: the two clocks are read in different units (ticks vs centiseconds).
  for (const s of starts) if (s.at <= p.startedAt + 1 / CLOCK_TICKS) step = s.step;
  return step;
}
