// Shared by the benchmarks: running a program, the median, a busybox image to build on, and the
// machine's heavy-job lock, held for one benchmark round at a time so a round never runs beside
// another buildah/dracut/QEMU/Ceph job, with the load average recorded with each round's result.
//
// The lock is flock(1) on /tmp/bootsmith-heavy.lock (BOOTSMITH_HEAVY_LOCK overrides it; "none"
// disables it, e.g. on a CI machine that runs nothing else). flock(1) holds it for as long as
// its `cat` child reads stdin: closing stdin releases it, and if the benchmark dies the pipe
// closes and the lock goes with it.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Run a program (CI=true so bootsmith prints plain progress); reject on failure unless allowFail. */
export function exec(file, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      if (code === 0 || options.allowFail) resolvePromise({ code, stdout, stderr });
      else reject(new Error(`${file} ${args.slice(0, 6).join(" ")}… exited ${code}\n${(stderr || stdout).slice(-3000)}`));
    });
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Commit a busybox-only image as `image`: enough for `buildah run … /bin/sh -ec`. */
export async function busyboxImage(image) {
  const c = (await exec("buildah", ["from", "scratch"])).stdout.trim();
  try {
    const root = (await exec("buildah", ["mount", c])).stdout.trim();
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    await exec("cp", ["/bin/busybox", join(root, "bin/busybox")]);
    await exec("chroot", [root, "/bin/busybox", "--install", "-s", "/bin"]);
    await exec("buildah", ["umount", c]);
    await exec("buildah", ["commit", "--quiet", c, image]);
  } finally {
    await exec("buildah", ["rm", c], { allowFail: true });
  }
}

const LOCK = process.env.BOOTSMITH_HEAVY_LOCK ?? "/tmp/bootsmith-heavy.lock";

/** The 1-minute load average as /proc/loadavg has it (a string, e.g. "0.68"). */
export function load1() {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0];
}

/** Run fn with the heavy lock held; returns fn's result plus the load at the start and end. */
export async function withHeavyLock(fn) {
  const release = await acquire();
  const loadStart = load1();
  try {
    const result = await fn();
    return { result, loadStart, loadEnd: load1() };
  } finally {
    await release();
  }
}

function acquire() {
  if (LOCK === "none") return Promise.resolve(async () => {});
  return new Promise((resolvePromise, reject) => {
    const child = spawn("flock", [LOCK, "sh", "-c", "echo locked; exec cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] });
    const closed = new Promise((r) => child.once("close", r));
    child.once("error", reject);
    child.stdout.once("data", () =>
      resolvePromise(async () => {
        child.stdin.end();
        await closed;
      }),
    );
    child.once("close", (code) => reject(new Error(`flock ${LOCK} exited ${code} before taking the lock`)));
  });
}
