// Issue 14's "done when" for diff, on the real Debian live image: the main job's build of
// recipes/debian-12-live.yaml, and a child layer on it that adds exactly one package (`hello`)
// and one file (test/fixtures/lifecycle/debian-12-live-plus.yaml, the same boot section). The
// diff must name exactly those: the package, the file and the package's files, nothing else
// except what every Debian rebuild changes (the dpkg/apt state, logs and caches, the image's own
// manifest/SBOMs and its identity in os-release, which carries the image's name).
//
// In CI the parent is the main job's image (BOOTSMITH_TEST_ARTIFACTS), so only the child is
// built: apt-get of one package, dracut, mksquashfs, commit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { removeImages } from "../support/fixture-build.js";
import { inCi, mainJobArtifacts, MissingPrerequisiteError } from "../support/prerequisites.js";
import type { ImageDiff } from "../../src/lifecycle/image-diff.js";

const PARENT = path.join(REPO_ROOT, "recipes/debian-12-live.yaml");
const CHILD = path.join(REPO_ROOT, "test/fixtures/lifecycle/debian-12-live-plus.yaml");
const BUILD_TIMEOUT = 1_800_000;

/**
 * What any rebuild of a Debian image changes besides its content: dpkg's and apt's state, logs and
 * caches, ldconfig's cache, the image's own manifest and SBOMs, and os-release's IMAGE_ID (the
 * image's name).
 */
const REBUILD_STATE =
  /^\/var\/(lib\/(dpkg|apt)|log|cache)(\/|$)|^\/etc\/ld\.so\.cache$|^\/usr\/lib\/bootsmith\/(manifest|sbom\.cdx|sbom\.spdx)\.json$|^\/(etc|usr\/lib)\/os-release$/;

let work: string;
let parent: string;
let child: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-debian-diff-"));
  const main = mainJobArtifacts(["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs"]);
  if (!main.present && inCi()) throw new MissingPrerequisiteError("debian diff", [main]);
  child = path.join(work, "plus");
  await removeImages(["debian-12-live-plus:bookworm"]);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work") };
  // Locally, without the main job's output: build the parent here (which commits its image for the child).
  if (!main.present) {
    parent = path.join(work, "live");
    const base = await bootsmith(["build", PARENT, "--out", parent, "--no-publish", "--progress", "plain"], { env, timeoutMs: BUILD_TIMEOUT });
    if (base.exitCode !== 0) throw new Error(`build of ${PARENT} failed:\n${base.stderr.slice(-4000)}`);
  } else parent = main.dir!;
  const t0 = Date.now();
  const built = await bootsmith(["build", CHILD, "--out", child, "--no-publish", "--progress", "plain"], { env, timeoutMs: BUILD_TIMEOUT });
  console.log(`debian-diff: child build exit ${built.exitCode} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (built.exitCode !== 0) throw new Error(`build of ${CHILD} failed:\n${built.stderr.slice(-4000)}`);
}, BUILD_TIMEOUT);

afterAll(async () => {
  await removeImages(["debian-12-live-plus:bookworm"]);
  rmSync(work, { recursive: true, force: true });
});

describe("bootsmith diff of two Debian live builds differing by one package and one file", () => {
  it("names exactly the package, the file and the package's files", { timeout: 120_000 }, async () => {
    const result = await bootsmith(["diff", parent, child, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.packages?.added.map((p) => p.name)).toEqual(["hello"]);
    expect(diff.packages?.removed).toEqual([]);
    expect(diff.packages?.changed).toEqual([]);
    expect(diff.kernel).toBeUndefined();
    expect(diff.params).toBeUndefined();
    // The package's own files, as dpkg lists them in the child image.
    const { stdout } = await execa("unsquashfs", ["-cat", path.join(child, "rootfs.squashfs"), "var/lib/dpkg/info/hello:amd64.list"]).catch(() =>
      execa("unsquashfs", ["-cat", path.join(child, "rootfs.squashfs"), "var/lib/dpkg/info/hello.list"]),
    );
    const helloFiles = new Set(stdout.split("\n").filter(Boolean));
    const added = diff.rootfs!.added.filter((p) => !REBUILD_STATE.test(p));
    // For the CI log: what the filter set aside as rebuild state, and the initramfs's changes.
    const state = [...diff.rootfs!.added, ...diff.rootfs!.removed, ...diff.rootfs!.changed.map((c) => c.path)].filter((p) => REBUILD_STATE.test(p));
    console.log(
      `debian-diff: ${added.length} files added (${added.join(" ")}); rebuild state set aside: ${state.length} paths under ${[...new Set(state.map((p) => p.split("/").slice(0, 4).join("/")))].join(" ")}; initramfs changed: ${diff.initramfs!.changed.map((c) => c.path).join(" ") || "none"}`,
    );
    expect(added).toContain("/etc/bootsmith-diff.conf");
    expect(added).toContain("/usr/bin/hello");
    expect(added.filter((p) => p !== "/etc/bootsmith-diff.conf" && !helloFiles.has(p))).toEqual([]);
    expect(diff.rootfs!.removed.filter((p) => !REBUILD_STATE.test(p))).toEqual([]);
    expect(diff.rootfs!.changed.filter((c) => !REBUILD_STATE.test(c.path))).toEqual([]);
    // Same kernel, same dracut modules: the child's initramfs holds the same files; only dracut's
    // copy of os-release (initrd-release) differs, since it carries the image's name.
    expect(diff.dracutModules).toEqual({ added: [], removed: [] });
    expect({ added: diff.initramfs!.added, removed: diff.initramfs!.removed }).toEqual({ added: [], removed: [] });
    expect(diff.initramfs!.changed.map((c) => c.path).filter((p) => p !== "/usr/lib/initrd-release")).toEqual([]);
    expect(diff.artifacts.find((a) => a.role === "kernel")!.sameBytes).toBe(true);
  });
});
