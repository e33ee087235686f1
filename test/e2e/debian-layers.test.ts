// Layered Debian images on the real thing (mmdebstrap, the Debian kernel, dracut, QEMU), as a
// user builds them (issue 21): a `boot: false` base that installs the kernel and dracut, a child
// on it with boot artifacts and the DEFAULT initramfs modules that boots to its marker, and a
// child that installs the kernel itself on a kernel-less base that has dracut. In every apt path
// Debian's kernel postinst hook (/etc/kernel/postinst.d/dracut) must be skipped while packages
// install (no package-time initramfs in /boot) and restored afterwards (the package's own hook in
// place, no diversion left), so the committed images stay normal Debian systems.
//
// About 4 minutes of builds (two minbase parents from scratch) plus a ~1-2 minute boot on 2 cores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { removeImages } from "../support/fixture-build.js";
import { DEFAULT_INITRAMFS_MODULES } from "../../src/recipe/initramfs-modules.js";
import type { Manifest } from "../../src/core/manifest.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/debian-layers");
const IMAGES = ["test-deb-kernel-base:1", "test-deb-live-child:1", "test-deb-dracut-base:1", "test-deb-kernel-child:1", "test-deb-remove-needed:1"];
const BUILD_TIMEOUT = 1_800_000;
const BOOT_TIMEOUT = 720_000;

let work: string;
let out: string;
let build: { exitCode: number; stdout: string; stderr: string; seconds: number };

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-deb-layers-"));
  out = path.join(work, "out");
  await removeImages(IMAGES);
  const t0 = Date.now();
  // Graph mode: parents first, each child on its parent's committed image. The package caches
  // stay at their defaults so the main job's downloads are reused.
  const result = await bootsmith(
    // --commit-all: the children are leaves, and the checks below look into their images.
    [
      "build",
      path.join(FIXTURES, "live-child.yaml"),
      path.join(FIXTURES, "kernel-child.yaml"),
      "--out",
      out,
      "--no-publish",
      "--progress",
      "plain",
      "--commit-all",
    ],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work") },
      timeoutMs: BUILD_TIMEOUT,
    },
  );
  build = { ...result, seconds: (Date.now() - t0) / 1000 };
  // The per-recipe summary table (on stderr), for the CI log's figures.
  console.log(
    `debian-layers: graph build exit ${result.exitCode} in ${build.seconds.toFixed(0)} s\n${result.stderr
      .split("\n")
      .filter((l) => /^(recipe +result|test-deb-\S+ +(built|failed|skipped))|^\d+ built, /.test(l))
      .join("\n")}`,
  );
}, BUILD_TIMEOUT);

afterAll(async () => {
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

/** Files of a committed image, read through a temporary working container that is removed again. */
async function inImage<T>(image: string, read: (root: string) => T): Promise<T> {
  const name = `bootsmith-test-inspect-${process.pid}-${image.replace(/[^a-z0-9]/g, "-")}`;
  await execa("buildah", ["from", "--pull=never", "--name", name, `localhost/bootsmith/${image}`]);
  try {
    const root = (await execa("buildah", ["mount", name])).stdout.trim();
    return read(root);
  } finally {
    await execa("buildah", ["umount", name], { reject: false });
    await execa("buildah", ["rm", name], { reject: false });
  }
}

describe("layered Debian images (kernel in a base or a child layer, default initramfs modules)", () => {
  it("builds the whole graph: the boot: false kernel base, both children, the kernel-less base", () => {
    expect(build.exitCode, build.stderr.slice(-4000)).toBe(0);
    expect(build.stderr).toMatch(/^4 built, 0 up to date, 0 skipped, 0 failed in /m);
  });

  it.each(["test-deb-kernel-base:1", "test-deb-live-child:1", "test-deb-dracut-base:1", "test-deb-kernel-child:1"])(
    "%s: no package-time initramfs, Debian's dracut hook restored, no diversion left",
    async (image) => {
      expect(build.exitCode).toBe(0);
      const seen = await inImage(image, (root) => ({
        hook: readFileSync(path.join(root, "etc/kernel/postinst.d/dracut"), "utf8"),
        diverted: readdirSync(path.join(root, "etc/kernel/postinst.d")).filter((f) => f !== "dracut"),
        diversions: readFileSync(path.join(root, "var/lib/dpkg/diversions"), "utf8"),
        initrds: existsSync(path.join(root, "boot")) ? readdirSync(path.join(root, "boot")).filter((f) => f.startsWith("initrd.img")) : [],
        kernels: existsSync(path.join(root, "boot")) ? readdirSync(path.join(root, "boot")).filter((f) => f.startsWith("vmlinuz-")) : [],
      }));
      // The package's hook (it runs dracut for the kernel version it is given), not bootsmith's no-op.
      expect(seen.hook).toMatch(/dracut/);
      expect(seen.hook).not.toMatch(/bootsmith/);
      expect(seen.diverted).toEqual([]);
      expect(seen.diversions).not.toContain("/etc/kernel/postinst.d/dracut");
      // The hook would have written /boot/initrd.img-KVER for every kernel installed.
      expect(seen.initrds).toEqual([]);
      if (image !== "test-deb-dracut-base:1") expect(seen.kernels).toHaveLength(1);
    },
    120_000,
  );

  it("packages.remove of a library a package in install: needs: apt refuses (install: is held), exit 1 naming both", { timeout: 300_000 }, async () => {
    expect(build.exitCode).toBe(0);
    const failOut = path.join(work, "out-remove-needed");
    const result = await bootsmith(["build", path.join(FIXTURES, "remove-needed-child.yaml"), "--out", failOut, "--progress", "plain"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work") },
    });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("step install-packages (Install packages with apt-get) failed");
    expect(result.stderr).toMatch(/curl : Depends: libcurl4 .* but it is not going to be installed/);
    expect(existsSync(path.join(failOut, "manifest.json"))).toBe(false);
  });

  it("the child with the default modules boots to its marker", { timeout: BOOT_TIMEOUT }, async () => {
    expect(build.exitCode).toBe(0);
    const dir = path.join(out, "test-deb-live-child", "1");
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
    expect(manifest.initramfs?.modules).toEqual(DEFAULT_INITRAMFS_MODULES.debian);
    const timings = Object.fromEntries(manifest.timings.map((t) => [t.step, t.seconds]));
    const boot = await bootsmith(["boot-test", path.join(FIXTURES, "live-child.yaml"), "--out", dir], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: BOOT_TIMEOUT - 30_000,
    });
    console.log(
      `debian-layers: child install-packages ${timings["install-packages"]} s, initramfs ${timings.initramfs} s; ${boot.stdout.trim().split("\n").at(-1)}`,
    );
    expect(boot.exitCode, `${boot.stdout}\n${boot.stderr}`).toBe(0);
    // The marker's console line may start with other console output (a kernel timestamp, a login
    // prompt: the unit writes to the tty and to kmsg); the built-in checks' summary follows it.
    expect(boot.stdout).toMatch(/PASS boot-test: booted in [\d.]+ s \(marker: .*BOOTSMITH-LAYERS-READY kernel=\S+-amd64\)/);
  });
});
