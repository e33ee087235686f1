// Real processes whose root directory is a scratch "image root", as a step's `buildah run … sh -c
// 'daemon &'` leaves them: `chroot ROOT /bin/busybox sleep …` (busybox is static, so one file makes
// a root). Tests run as root (chroot needs it). Every process started here is killed after the
// file's tests, whatever they did, by pid and only while it is still the one started.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";

const BUSYBOX = "/usr/bin/busybox";

/** A tracker of test processes; call it at a test file's top level. */
export function chrootedProcesses() {
  const started: { pid: number; startStat: string }[] = [];
  afterAll(() => {
    for (const p of started) if (statLine(p.pid) === p.startStat) process.kill(p.pid, "SIGKILL");
  });

  /** Make `dir` a root busybox runs in: /bin/busybox, and /dev/null (sh gives a job started with & its stdin from there). */
  function makeRoot(dir: string): string {
    mkdirSync(path.join(dir, "bin"), { recursive: true });
    mkdirSync(path.join(dir, "dev"));
    copyFileSync(BUSYBOX, path.join(dir, "bin", "busybox"));
    chmodSync(path.join(dir, "bin", "busybox"), 0o755);
    execFileSync("mknod", ["-m", "666", path.join(dir, "dev", "null"), "c", "1", "3"]);
    return dir;
  }

  /** Start `busybox ARGS` with its root at `root` (or the host's, for undefined); detached, ended by the test or after the file. */
  function start(root: string | undefined, args: readonly string[]): number {
    const [file, argv] = root === undefined ? [BUSYBOX, args] : ["chroot", [root, "/bin/busybox", ...args]];
    const child = spawn(file, argv, { detached: true, stdio: "ignore" });
    child.unref();
    return track(child.pid!);
  }

  /** Track a process started otherwise (a plan step's `… & echo $! > FILE`). */
  function track(pid: number): number {
    const startStat = statLine(pid);
    if (startStat !== "gone") started.push({ pid, startStat });
    return pid;
  }

  return { makeRoot, start, track };
}

/** Whether `pid` runs (not gone, not a zombie) with its root at `root` (any root when undefined). */
export function runsIn(pid: number, root?: string): boolean {
  try {
    const state = statFields(pid)[0];
    if (state === "Z") return false;
    if (root === undefined) return true;
    const a = statSync(`/proc/${pid}/root`);
    const b = statSync(root);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/** Poll (bounded) until chroot has exec'd `command` (its argv joined by spaces): the process's root is then `root`. */
export async function untilRuns(pid: number, root: string, command: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!runsIn(pid, root) || commandLine(pid) !== command) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not run ${command} in ${root} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

function statFields(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** The process's start time, as an identity (a pid can be reused). */
function statLine(pid: number): string {
  try {
    return statFields(pid)[19] ?? "";
  } catch {
    return "gone";
  }
}
