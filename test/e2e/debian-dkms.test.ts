// Kernel modules for the image's kernel, for real (issue 19): recipes/debian-12-dkms.yaml on the
// Debian 12 live image installs Debian's v4l2loopback-dkms with linux-headers-KVER inside the
// image and builds recipes/files/hello-module from source, both against the SELECTED kernel
// (Debian's 6.1), never the build host's `uname -r` (6.x of the CI machine, with no headers in the
// image). One build serves every assertion on the squashfs and the initramfs; then a child that
// plants a module built for another kernel must fail with exit 1 naming it.
//
// The parent (debian-12-live) is the main job's image in CI, so only the child layer is built:
// about 120 s on 2 cores (kernel-modules 28 s: apt-get of gcc and the headers, the DKMS and the
// source build; dracut 68 s; mksquashfs, commit), plus about 12 s for the failing child, which
// stops at the check before dracut.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, release } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { readManifest, removeImages, squashfsListing } from "../support/fixture-build.js";
import { vermagicOf } from "../../src/builder/kernel-modules.js";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { silentReporter } from "../../src/exec/events.js";
import type { Manifest } from "../../src/core/manifest.js";

const RECIPE = path.join(REPO_ROOT, "recipes/debian-12-dkms.yaml");
const FOREIGN = path.join(REPO_ROOT, "test/fixtures/kernel-modules/foreign-module.yaml");
const IMAGES = ["debian-12-dkms:bookworm", "test-foreign-module:1"];
const BUILD_TIMEOUT = 1_800_000;
const DKMS_MODULE = "updates/dkms/v4l2loopback.ko";
const SOURCE_MODULE = "extra/bootsmith_hello.ko";

let work: string;
let out: string;
let build: { exitCode: number; stdout: string; stderr: string };
let manifest: Manifest;
let kver: string;
let extracted: string;
let listing: string[];
/** lib/modules/KVER inside the squashfs (usr/lib/modules/KVER with merged /usr). */
let modulesDir: string;

function env(name: string): Record<string, string> {
  // Package caches stay at their defaults so the main job's downloads are reused.
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, `work-${name}`) };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-dkms-"));
  out = path.join(work, "out");
  extracted = path.join(work, "squashfs");
  await removeImages(IMAGES);
  const t0 = Date.now();
  build = await bootsmith(["build", RECIPE, "--out", out, "--no-publish", "--progress", "plain"], { env: env("dkms"), timeoutMs: BUILD_TIMEOUT });
  // With the step lines, for the CI log's figures (and to see whether the parent was rebuilt).
  console.log(
    `debian-dkms: build exit ${build.exitCode} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n${build.stderr
      .split("\n")
      .filter((l) => /^\[\d+\/\d+\] \S+ … (ok|failed)|^build /.test(l))
      .join("\n")}`,
  );
  if (build.exitCode !== 0) return;
  manifest = readManifest(out);
  kver = manifest.kernel!.version;
  listing = await squashfsListing(path.join(out, "rootfs.squashfs"));
  // Debian 12 has merged /usr: the squashfs holds usr/lib/modules (lib is a symlink to usr/lib).
  const dep = listing.find((p) => p.endsWith(`/lib/modules/${kver}/modules.dep`));
  if (!dep) throw new Error(`no modules.dep for ${kver} in the squashfs`);
  modulesDir = path.posix.dirname(dep).slice(1);
  await execa("unsquashfs", [
    "-q",
    "-n",
    "-d",
    extracted,
    path.join(out, "rootfs.squashfs"),
    `${modulesDir}/modules.dep`,
    `${modulesDir}/updates`,
    `${modulesDir}/extra`,
  ]);
}, BUILD_TIMEOUT);

afterAll(async () => {
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

describe("kernel modules for the image's kernel (DKMS and a source build, Debian 12)", () => {
  it("builds the recipe", () => {
    expect(build.exitCode, build.stderr.slice(-4000)).toBe(0);
    expect(kver).toMatch(/^6\.1\.\d+-\d+-amd64$/);
  });

  it("the squashfs holds both modules under lib/modules/KVER, built for KVER (vermagic), listed in modules.dep", async () => {
    expect(build.exitCode).toBe(0);
    const dep = readFileSync(path.join(extracted, modulesDir, "modules.dep"), "utf8");
    for (const module of [DKMS_MODULE, SOURCE_MODULE]) {
      const vermagic = vermagicOf(readFileSync(path.join(extracted, modulesDir, module)));
      expect(vermagic, module).toMatch(new RegExp(`^${kver.replace(/\./g, "\\.")} SMP `));
      expect(dep).toMatch(new RegExp(`^${module.replace(/\./g, "\\.")}:`, "m"));
    }
  });

  it("never builds for the build host's kernel: only the image's kernel has a lib/modules directory", async () => {
    expect(build.exitCode).toBe(0);
    // This proves something only where the host runs another kernel (it does in CI: not Debian's 6.1).
    expect(release()).not.toBe(kver);
    const kernels = new Set(listing.map((p) => /^\/lib\/modules\/([^/]+)/.exec(p)?.[1] ?? /^\/usr\/lib\/modules\/([^/]+)/.exec(p)?.[1]).filter(Boolean));
    expect([...kernels]).toEqual([kver]);
    // DKMS itself says which kernel it builds for (in build.log, beside the artifacts).
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    expect(log).toContain(`Building for ${kver}`);
    expect(log).not.toContain(`Building for ${release()}`);
  });

  it("installs the headers of the selected kernel and the DKMS package (in the manifest's package list)", () => {
    expect(build.exitCode).toBe(0);
    const names = manifest.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining([`linux-headers-${kver}`, `linux-image-${kver}`, "v4l2loopback-dkms", "dkms"]));
  });

  it("lists both built modules in the SBOMs (not in any package database): kernel, sha256 of the .ko, origin", () => {
    expect(build.exitCode).toBe(0);
    const cdx = JSON.parse(readFileSync(path.join(out, "sbom.cdx.json"), "utf8")) as {
      components: { type: string; description?: string; hashes?: { alg: string }[]; properties?: { name: string; value: string }[] }[];
    };
    const prop = (c: (typeof cdx.components)[number], name: string) => c.properties?.find((p) => p.name === name)?.value;
    const drivers = cdx.components.filter((c) => c.type === "device-driver");
    for (const [file, origin] of [
      [DKMS_MODULE, "DKMS"],
      [SOURCE_MODULE, "kbuild"],
    ] as const) {
      const module = drivers.find((c) => prop(c, "bootsmith:kernel-module:path") === `/lib/modules/${kver}/${file}`);
      expect(module, file).toBeDefined();
      expect(prop(module!, "bootsmith:kernel-module:kernel")).toBe(kver);
      expect(module!.hashes?.map((h) => h.alg)).toEqual(["SHA-256"]);
      expect(module!.description).toContain(origin);
    }
    const spdx = readFileSync(path.join(out, "sbom.spdx.json"), "utf8");
    expect(spdx).toContain(`Linux kernel module /lib/modules/${kver}/${SOURCE_MODULE}, built for kernel ${kver}`);
  });

  it("builds the modules before the initramfs: dracut put the DKMS module asked for (boot.initramfs.drivers) into it", async () => {
    expect(build.exitCode).toBe(0);
    const initrd = await listInitramfs(path.join(out, "initramfs.img"), { ctx: { step: "test", reporter: silentReporter } });
    expect(initrd.entries.map((e) => e.name).filter((n) => n.endsWith(`modules/${kver}/${DKMS_MODULE}`))).toHaveLength(1);
  });

  it("a module built for another kernel fails the build with exit 1, naming the module and its kernel", { timeout: BUILD_TIMEOUT }, async () => {
    expect(build.exitCode).toBe(0);
    const t0 = Date.now();
    const foreign = await bootsmith(["build", FOREIGN, "--out", path.join(work, "foreign"), "--no-publish", "--progress", "plain"], {
      env: env("foreign"),
      timeoutMs: BUILD_TIMEOUT - 60_000,
    });
    console.log(`debian-dkms: failing child exit ${foreign.exitCode} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    expect(foreign.exitCode, foreign.stderr.slice(-3000)).toBe(1);
    expect(foreign.stderr).toContain(`module foreign_module (/lib/modules/${kver}/extra/foreign_module.ko) was built for kernel 5.10.0-99-amd64, not ${kver}`);
    // Stopped before dracut, and nothing left behind: no image committed, no working container.
    expect(foreign.stderr).not.toMatch(/\binitramfs … ok/);
    const images = await execa("buildah", ["images", "--format", "{{.Name}}:{{.Tag}}"]);
    expect(images.stdout).not.toContain("localhost/bootsmith/test-foreign-module:1");
    const containers = await execa("buildah", ["containers", "--format", "{{.ContainerName}}"]);
    expect(containers.stdout).not.toMatch(/bootsmith-test-foreign-module-/);
  });
});
