// `bootsmith diff` on two real fixture builds (buildah + dnf from the fixture RPM repository,
// the fixture dracut stand-in, mksquashfs) that differ by one package (fixture-hello) and one
// file (/etc/extra.conf): the diff names exactly those, in text, JSON and Markdown. The other
// differences two builds always have (the rpm database and dnf's logs and history) are checked
// to stay inside those directories. Both builds also push their image to a real docker-registry
// on 127.0.0.1, and the same diff is read from the registry images (their layers and the manifest
// the build put inside), registry against registry and against an artifact directory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, removeImages } from "../support/fixture-build.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import type { SizeReport } from "../../src/lifecycle/inspect.js";
import type { ImageDiff } from "../../src/lifecycle/image-diff.js";

const IMAGES = ["diff-a:1", "diff-b:1"];
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let registry: TestRegistry;

const recipe = (name: string, extraPackages: string[], extraFiles: Record<string, unknown>[]) =>
  fixtureRecipe({
    name,
    packageGroups: [],
    install: ["fixture-base", "fixture-libgreet", "fixture-kernel-5.14.0-10.fx", "fixture-dracut", ...extraPackages],
    keys: {
      files: [{ dest: "/etc/motd", content: "built by bootsmith\n" }, ...extraFiles],
      publish: [{ type: "registry", repository: `\${REGISTRY}/bootsmith/${name}`, tlsVerify: false }],
    },
    boot: { rootfs: { exclude: ["boot"] } },
  });
/** The image a build pushed, as `bootsmith diff` names registry images. */
const pushed = (name: string) => `registry:${registry.address}/bootsmith/${name}:1`;

/**
 * Paths every rebuild changes: the package database, the package manager's logs and history, and
 * the image's own manifest and SBOMs (/usr/lib/bootsmith/{manifest,sbom.cdx,sbom.spdx}.json), which
 * list the packages.
 */
const PACKAGE_STATE = /^\/var\/(lib\/(rpm|dnf)|log|cache\/dnf)(\/|$)|^\/usr\/lib\/bootsmith\/(manifest|sbom\.cdx|sbom\.spdx)\.json$/;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-diff-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  registry = await startRegistry(work);
  writeFileSync(path.join(work, "diff-a.yaml"), recipe("diff-a", [], []));
  writeFileSync(path.join(work, "diff-b.yaml"), recipe("diff-b", ["fixture-hello"], [{ dest: "/etc/extra.conf", content: "extra\n", mode: "0600" }]));
  await removeImages(IMAGES);
  for (const name of ["diff-a", "diff-b"]) {
    const built = await bootsmith(
      [
        "build",
        `${name}.yaml`,
        "--var",
        `REPO_URL=${repo.baseurl}`,
        "--var",
        `REGISTRY=${registry.address}`,
        "--out",
        path.join(work, name),
        "--progress",
        "plain",
      ],
      {
        env,
        cwd: work,
      },
    );
    expect(built.exitCode, built.stderr).toBe(0);
  }
}, 900_000);

afterAll(async () => {
  await registry?.stop();
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

describe("bootsmith diff", () => {
  it("two builds differing by one package and one file: --json names exactly those", async () => {
    const result = await bootsmith(["diff", "diff-a", "diff-b", "--json"], { cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.packages).toEqual({ added: [{ name: "fixture-hello", arch: "noarch", to: "2.1-3.fx" }], removed: [], changed: [] });
    expect(diff.kernel).toBeUndefined();
    expect(diff.params).toBeUndefined();
    const rootfs = diff.rootfs!;
    // fixture-hello's files (its %post writes post-ran) and the one file the recipe added.
    expect(rootfs.added.filter((p) => !PACKAGE_STATE.test(p))).toEqual([
      "/etc/extra.conf",
      "/usr/bin/fixture-hello",
      "/var/lib/fixture",
      "/var/lib/fixture/post-ran",
    ]);
    expect(rootfs.removed.filter((p) => !PACKAGE_STATE.test(p))).toEqual([]);
    expect(rootfs.changed.filter((c) => !PACKAGE_STATE.test(c.path))).toEqual([]);
    // Same kernel and dracut modules: the initramfs lists the same files.
    expect(diff.initramfs).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.dracutModules).toEqual({ added: [], removed: [] });
    expect(diff.artifacts.map((a) => a.file)).toEqual(["vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.cdx.json", "sbom.spdx.json"]);
    expect(diff.artifacts.find((a) => a.role === "kernel")!.sameBytes).toBe(true);
    expect(diff.artifacts.find((a) => a.role === "rootfs")!.sameBytes).toBe(false);
  });

  it("text and --markdown name the package and the file", async () => {
    const text = await bootsmith(["diff", "diff-a", "diff-b"], { cwd: work });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain("packages: 1 added\n  + fixture-hello.noarch 2.1-3.fx\n");
    expect(text.stdout).toContain("  + /etc/extra.conf\n");
    expect(text.stdout).toContain("kernel: unchanged");
    expect(text.stdout).toMatch(/vmlinuz +[\d.]+ [KM]?i?B \(same bytes\)/);
    const md = await bootsmith(["diff", "diff-a", "diff-b", "--markdown"], { cwd: work });
    expect(md.exitCode, md.stderr).toBe(0);
    expect(md.stdout).toContain("### Image diff: `diff-a` → `diff-b`");
    expect(md.stdout).toContain("**Packages added**\n\n- `fixture-hello.noarch` 2.1-3.fx\n");
    expect(md.stdout).toContain("- `/etc/extra.conf`");
  });

  it("an image compared with itself is identical", async () => {
    const result = await bootsmith(["diff", "diff-a", "dir:diff-a"], { cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("identical: same artifacts (sha256), packages, kernel and params");
  });

  it("reversed (B → A): the package and the file are removed", async () => {
    const result = await bootsmith(["diff", "diff-b", "diff-a", "--json"], { cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.packages?.removed.map((p) => p.name)).toEqual(["fixture-hello"]);
    expect(diff.rootfs!.removed).toContain("/etc/extra.conf");
  });

  it("bad input: exit 2 naming the side; a tampered artifact directory is refused", async () => {
    const missing = await bootsmith(["diff", "diff-a", "nope"], { cwd: work });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("nope: no such directory");
    const one = await bootsmith(["diff", "diff-a"], { cwd: work });
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain("give two images");
    const copy = path.join(work, "tampered");
    cpSync(path.join(work, "diff-a"), copy, { recursive: true });
    writeFileSync(path.join(copy, "vmlinuz"), "short");
    const tampered = await bootsmith(["diff", "diff-a", copy], { cwd: work });
    expect(tampered.exitCode).toBe(2);
    expect(tampered.stderr).toMatch(/vmlinuz: 5 bytes on disk but .*artifacts\.kernel\.size says/);
  });
});

describe("bootsmith diff of registry images", () => {
  const TLS = "--tls-verify=false";

  it("registry A → registry B: the same package and file as the artifact directories' diff", { timeout: 120_000 }, async () => {
    const result = await bootsmith(["diff", pushed("diff-a"), pushed("diff-b"), "--json", TLS], { cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.from).toMatchObject({ label: pushed("diff-a"), name: "diff-a" });
    expect(diff.packages).toEqual({ added: [{ name: "fixture-hello", arch: "noarch", to: "2.1-3.fx" }], removed: [], changed: [] });
    expect(diff.rootfs!.added.filter((p) => !PACKAGE_STATE.test(p))).toEqual([
      "/etc/extra.conf",
      "/usr/bin/fixture-hello",
      "/var/lib/fixture",
      "/var/lib/fixture/post-ran",
    ]);
    expect(diff.rootfs!.removed.filter((p) => !PACKAGE_STATE.test(p))).toEqual([]);
    expect(diff.rootfs!.changed.filter((c) => !PACKAGE_STATE.test(c.path))).toEqual([]);
    // The initramfs comes out of the image (/boot/initramfs-live-KVER.img, checked against the manifest).
    expect(diff.initramfs).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.dracutModules).toEqual({ added: [], removed: [] });
    // Sizes of what the image's own manifest lists; a registry image has no squashfs.
    expect(diff.artifacts.map((a) => a.file)).toEqual(["vmlinuz", "initramfs.img", "sbom.cdx.json", "sbom.spdx.json"]);
    expect(diff.artifacts.find((a) => a.role === "kernel")!.sameBytes).toBe(true);
    expect(diff.notCompared).toBeUndefined();
  });

  it("an artifact directory against its own build's registry image: nothing differs but what the image cannot hold", { timeout: 120_000 }, async () => {
    const result = await bootsmith(["diff", "diff-b", pushed("diff-b"), "--json", TLS], { cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.packages).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.rootfs).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.initramfs).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.kernel).toBeUndefined();
    expect(diff.params).toBeUndefined();
    expect(diff.artifacts.every((a) => a.sameBytes)).toBe(true);
    expect(diff.notCompared).toEqual([{ file: "rootfs.squashfs", missingIn: pushed("diff-b") }]);
    // Mixed, the other way round, in text: the package and the file, and the squashfs note.
    const text = await bootsmith(["diff", pushed("diff-a"), "diff-b", TLS], { cwd: work });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain("  + fixture-hello.noarch 2.1-3.fx\n");
    expect(text.stdout).toContain("  + /etc/extra.conf\n");
    expect(text.stdout).toContain(`rootfs.squashfs  not compared: ${pushed("diff-a")} does not carry it`);
  });

  it(
    "inspect reads a registry image as diff does: the same rootfs and initramfs trees as its artifact directory, no package sizes",
    { timeout: 120_000 },
    async () => {
      const fromDir = await bootsmith(["inspect", "diff-b", "--json"], { cwd: work });
      expect(fromDir.exitCode, fromDir.stderr).toBe(0);
      const fromRegistry = await bootsmith(["inspect", pushed("diff-b"), "--json", TLS], { cwd: work });
      expect(fromRegistry.exitCode, fromRegistry.stderr).toBe(0);
      const dir = JSON.parse(fromDir.stdout) as SizeReport;
      const reg = JSON.parse(fromRegistry.stdout) as SizeReport;
      expect(reg).toMatchObject({ name: "diff-b", source: pushed("diff-b"), builtAt: dir.builtAt });
      expect(reg.rootfs!.files).toBeGreaterThan(0);
      expect({ bytes: reg.rootfs!.bytes, files: reg.rootfs!.files }).toEqual({ bytes: dir.rootfs!.bytes, files: dir.rootfs!.files });
      expect(reg.rootfs!.largest).toEqual(dir.rootfs!.largest);
      expect(reg.initramfs).toEqual(dir.initramfs);
      expect(reg.packages).toBeUndefined();
      const text = await bootsmith(["inspect", pushed("diff-b"), TLS], { cwd: work });
      expect(text.exitCode, text.stderr).toBe(0);
      expect(text.stdout).toContain("packages: not read (a registry image holds no rootfs.squashfs");
    },
  );

  it("an unknown tag is exit 2; a malformed reference is exit 2 naming the forms", async () => {
    const unknown = await bootsmith(["diff", "diff-a", `registry:${registry.address}/bootsmith/diff-a:nope`, TLS], { cwd: work });
    expect(unknown.exitCode, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain(`docker://${registry.address}/bootsmith/diff-a:nope: no such image in the registry`);
    const bad = await bootsmith(["diff", "diff-a", `registry:${registry.address}/bootsmith/diff-a`, TLS], { cwd: work });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("no tag; give registry:HOST[:PORT]/REPO:TAG");
  });
});
