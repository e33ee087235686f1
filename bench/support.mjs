// Shared by the benchmarks: running a program, the median, a busybox image to build on, and the
// machine's heavy-job lock, held for one benchmark round at a time so a round never runs beside
// another buildah/dracut/QEMU/Ceph job, with the load average recorded with each round's result.
//
// The lock is flock(1) on /tmp/bootsmith-heavy.lock (BOOTSMITH_HEAVY_LOCK overrides it; "none"
// disables it, e.g. on a CI machine that runs nothing else). flock(1) holds it for as long as
// its `cat` child reads stdin: closing stdin releases it, and if the benchmark dies the pipe
// closes and the lock goes with it.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { $ } from "zx";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const cli = join(repo, "dist/cli/main.js");

/**
 * Run a program with zx (the one way scripts run commands): CI=true so bootsmith prints plain
 * progress, plus options.env; resolves { code, stdout, stderr }, rejects on failure unless allowFail.
 */
export async function exec(file, args, options = {}) {
  const result = await $({ quiet: true, nothrow: true, cwd: options.cwd, env: { ...process.env, CI: "true", ...options.env } })`${file} ${args}`;
  const { exitCode: code, stdout, stderr } = result;
  if (code === 0 || options.allowFail) return { code, stdout, stderr };
  throw new Error(`${file} ${args.slice(0, 6).join(" ")}… exited ${code}\n${(stderr || stdout).slice(-3000)}`);
}

/** The manifest.json of a benchmark's made-up image: the contract's fields around its artifacts. */
export function benchManifest({ artifacts, recipeFile, packageManager }) {
  return {
    schemaVersion: 1,
    name: "bench",
    tags: ["1"],
    arch: "x86_64",
    inputDigest: "0".repeat(64),
    recipeFile,
    base: { kind: "scratch" },
    image: { ref: "localhost/bench:1" },
    artifacts,
    packages: [],
    packageManager,
    tools: {},
    timings: [],
    builtAt: new Date().toISOString(),
  };
}

/** Seconds fn takes (wall). */
export async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * The tests' fixture RPM repository (test/support/rpm-repo.ts: a kernel, a dracut stand-in, a
 * minimal base), built into `dir`; the builder is compiled where it can import execa and find its
 * specs. Resolves { baseurl, … }.
 */
export async function fixtureRepo(dir) {
  const out = join(repo, "node_modules/.cache/bootsmith-bench-tests");
  // From the repository: npx finds the project's own tsc only there (a benchmark may run from anywhere).
  await exec("npx", ["tsc", "-p", join(repo, "test/tsconfig.json"), "--noEmit", "false", "--outDir", out, "--sourceMap", "false"], { cwd: repo }).catch((e) => {
    console.error(`tsc reported errors (emitted anyway): ${String(e.message).split("\n").slice(1, 3).join(" | ")}`);
  });
  cpSync(join(repo, "test/fixtures/rpm"), join(out, "test/fixtures/rpm"), { recursive: true });
  const { buildFixtureRepo } = await import(pathToFileURL(join(out, "test/support/rpm-repo.js")).href);
  return buildFixtureRepo(dir);
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
