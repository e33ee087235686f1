// Faults, with real tools and servers: a step failing at each stage of a fixture build (real
// buildah, dnf, the fixture dracut, mksquashfs), the output directory filling up (a small
// tmpfs), and the BSS failing under `bootsmith register` run as a user runs it. After each: exit 1
// with the failing step or service named, no leaked containers or mounts, no manifest.json (so
// nothing looks complete), and no boot parameters written.
//
// Covered elsewhere, not repeated here:
// - a failing command step, SIGINT mid-build, a missing program: test/build/build-dnf.test.ts;
// - S3: wrong secret, connections cut mid-upload (retried, or failing with no manifest and no
//   multipart upload left), a file changed after the build, SIGINT mid-upload:
//   test/publish/s3.test.ts; RGW stopped mid-publish: test/reliability/faults-s3.test.ts;
// - BSS retries with backoff, Retry-After, persistent 5xx and hangs (in-process), a registration
//   failing part-way and undone at once (or, when the undo fails too, by rollback), an artifact
//   URL that does not answer:
//   test/boot/register.test.ts; 401 through the register command: test/boot/cli.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startArtifactServer, type ArtifactServer } from "../register/artifact-server.js";
import { LOCK_FILE } from "../../src/builder/output-lock.js";
import { PREVIOUS_DIR } from "../../src/builder/output-dir.js";
import { buildEnv, fixtureRecipe, removeImages, type FixtureRecipe } from "../support/fixture-build.js";

let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
const mounted: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-faults-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  for (const dir of mounted) await execa("umount", [dir], { reject: false });
  await removeImages(["fault-rebuild:1", "fault-packages:1", "fault-files:1", "fault-kernel:1", "fault-initramfs:1", "fault-disk-full:1"]);
  rmSync(work, { recursive: true, force: true });
});

/** A fixture recipe (the dnf fixture repo, a kernel and the dracut stand-in), written for a build. */
function recipe(name: string, options: Omit<FixtureRecipe, "name" | "baseurl"> = {}): string {
  const file = path.join(work, "recipes", `${name}.yaml`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, fixtureRecipe({ name, baseurl: repo.baseurl, ...options }));
  return file;
}

/** Build, expecting a failure in `step`; checks what every failed build must leave (or not). */
async function expectFailedBuild(file: string, out: string, step: string, detail: RegExp): Promise<string> {
  const before = await snapshotHost("bootsmith-fault-");
  const result = await bootsmith(["build", file, "--out", out, "--no-publish", "--progress", "plain"], { env });
  expect(result.exitCode, result.stderr).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`step ${step} \\(.*\\) failed`));
  expect(result.stderr).toMatch(detail);
  expect(result.stderr).toContain(`full log: ${path.join(out, "build.log")}`);
  expect(result.stderr).not.toMatch(/^ {4}at /m);
  expect(existsSync(path.join(out, "build.log")), "the log is kept").toBe(true);
  // Nothing that could pass for a finished build: no manifest, no artifacts, no lock.
  for (const f of ["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs", LOCK_FILE]) expect(existsSync(path.join(out, f)), f).toBe(false);
  expect(await snapshotHost("bootsmith-fault-")).toEqual(before);
  // No image under any name of the recipe: neither its tag nor the building- name a commit
  // beside the squashfs gives it until name-image.
  const { stdout } = await execa("buildah", ["images", "--format", "{{.Name}}:{{.Tag}}"]);
  expect(stdout.split("\n").filter((n) => n.startsWith(`localhost/bootsmith/${path.basename(file, ".yaml")}:`))).toEqual([]);
  return result.stderr;
}

describe("a step failing at each stage of a build", () => {
  it("packages: a package that does not exist", { timeout: 120_000 }, async () => {
    await expectFailedBuild(
      recipe("fault-packages", { install: ["fixture-kernel-5.14.0-10.fx", "fixture-does-not-exist"] }),
      path.join(work, "out-packages"),
      "install-packages",
      /fixture-does-not-exist/,
    );
  });

  it("files: a destination that cannot be written (its parent is a file)", { timeout: 120_000 }, async () => {
    const keys = {
      files: [
        { dest: "/etc/motd", content: "x\n" },
        { dest: "/etc/motd/inner", content: "y\n" },
      ],
    };
    await expectFailedBuild(recipe("fault-files", { keys }), path.join(work, "out-files"), "copy-files", /etc\/motd\/inner|ENOTDIR|not a directory/i);
  });

  it("kernel selection: boot.kernel names a version that is not installed", { timeout: 120_000 }, async () => {
    await expectFailedBuild(
      recipe("fault-kernel", { boot: { kernel: "9.9.9-missing.fx" } }),
      path.join(work, "out-kernel"),
      "select-kernel",
      /9\.9\.9-missing\.fx/,
    );
  });

  it("initramfs: dracut is gone from the image", { timeout: 120_000 }, async () => {
    const keys = { commands: [{ name: "remove dracut", script: "rm -f /usr/bin/dracut" }] };
    await expectFailedBuild(recipe("fault-initramfs", { keys }), path.join(work, "out-initramfs"), "initramfs", /dracut/);
  });
});

describe("a failing rebuild over a good build", () => {
  it("puts the good build's artifacts back, byte for byte, and keeps its image", { timeout: 180_000 }, async () => {
    const out = path.join(work, "out-rebuild");
    const file = recipe("fault-rebuild");
    const good = await bootsmith(["build", file, "--out", out, "--no-publish", "--progress", "plain"], { env });
    expect(good.exitCode, good.stderr).toBe(0);
    const files = ["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.cdx.json", "sbom.spdx.json"];
    const before = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(out, f))]));
    const image = async () => (await execa("buildah", ["inspect", "--format", "{{.FromImageID}}", "localhost/bootsmith/fault-rebuild:1"])).stdout;
    const imageBefore = await image();

    // The nightly's rebuild of the same recipe fails (a package gone from the repository).
    recipe("fault-rebuild", { install: ["fixture-kernel-5.14.0-10.fx", "fixture-does-not-exist"] });
    const failed = await bootsmith(["build", file, "--out", out, "--no-publish", "--progress", "plain"], { env });
    expect(failed.exitCode, failed.stderr).toBe(1);
    expect(failed.stderr).toContain("the previous build's artifacts (if any) are back");
    for (const f of files) expect(readFileSync(path.join(out, f)).equals(before[f]!), f).toBe(true);
    expect(readdirSync(out)).not.toContain(PREVIOUS_DIR);
    expect(await image()).toBe(imageBefore);
  });
});

describe("disk full in the output directory", () => {
  it("squashfs into an almost full tmpfs: fails naming the full disk, no manifest, nothing leaked", { timeout: 120_000 }, async () => {
    const mnt = path.join(work, "full");
    mkdirSync(mnt);
    await execa("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt]);
    mounted.push(mnt);
    // Leave ~512 KiB: enough for build.log, the kernel and the initramfs, not the 1.1 MiB squashfs.
    writeFileSync(path.join(mnt, "filler"), Buffer.alloc(8 * 1024 * 1024 - 512 * 1024));
    const out = path.join(mnt, "out");
    await expectFailedBuild(recipe("fault-disk-full"), out, "squashfs", /No space left on device|ENOSPC/);
    expect(readdirSync(out).sort()).toEqual(["build.log"]);
  });
});

describe("bootsmith register when the BSS fails (the built CLI, on an artifact directory)", () => {
  const MAC = "52:54:00:fa:17:01";
  let artifacts: ArtifactServer;
  let dir: string;

  beforeAll(async () => {
    artifacts = await startArtifactServer({ "/img/vmlinuz": "k", "/img/initramfs.img": "i", "/img/rootfs.squashfs": "r" });
    dir = path.join(work, "published");
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, "manifest.json"),
      JSON.stringify({
        schemaVersion: 1,
        name: "fault",
        tags: ["1"],
        params: "root=live:{{ rootfs.url }}",
        artifacts: { kernel: { file: "vmlinuz" }, initrd: { file: "initramfs.img" }, rootfs: { file: "rootfs.squashfs" } },
      }),
    );
  });
  afterAll(async () => artifacts?.stop());

  async function register(bss: BssServer, state: string, extra: string[] = [], token?: string) {
    return bootsmith(["register", dir, "--base-url", `${artifacts.url}/img`, "--bss", bss.url, "--mac", MAC, "--state-dir", state, ...extra], {
      env: { ...env, ...(token ? { BSS_TOKEN: token } : {}) },
      timeoutMs: 120_000,
    });
  }
  function expectNothingWritten(bss: BssServer, state: string): void {
    expect(bss.entries.size).toBe(0);
    expect(bss.requests.filter((r) => r.method !== "GET" && r.method !== "HEAD")).toEqual([]);
    expect(existsSync(state) ? readdirSync(state, { recursive: true }) : []).toEqual([]);
  }

  it("503 on every attempt: gives up after its retries, says the service is unavailable, writes nothing", { timeout: 120_000 }, async () => {
    const bss = await startBssServer();
    try {
      bss.failNext(100, 503);
      const state = path.join(work, "state-503");
      const r = await register(bss, state, ["--timeout", "5"]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/unavailable.*HTTP 503.*gave up after \d+ attempts/s);
      expect(r.stderr).not.toMatch(/^ {4}at /m);
      expectNothingWritten(bss, state);
    } finally {
      await bss.stop();
    }
  });

  it("500, then 401 for the token: the retry reaches the refusal, which is explained", { timeout: 120_000 }, async () => {
    const bss = await startBssServer({ token: "right-token" });
    try {
      bss.failNext(1, 500);
      const state = path.join(work, "state-401");
      const r = await register(bss, state, ["--timeout", "5"], "wrong-token");
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toContain("HTTP 401");
      expect(r.stderr).toContain("$BSS_TOKEN");
      expect(r.stderr).not.toContain("wrong-token");
      expect(bss.requests.length, "the 500 was retried").toBeGreaterThanOrEqual(2);
      expectNothingWritten(bss, state);
    } finally {
      await bss.stop();
    }
  });

  it("a BSS that accepts connections and never answers: a timeout error, nothing written", { timeout: 120_000 }, async () => {
    const bss = await startBssServer();
    try {
      bss.hangNext(100);
      const state = path.join(work, "state-hang");
      const r = await register(bss, state, ["--timeout", "1"]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/no answer within 1000 ms|no answer within 1 s/);
      expectNothingWritten(bss, state);
    } finally {
      await bss.stop();
    }
  });
});
