// An arm64 image from start to finish on an x86_64 host: `bootsmith build` of
// recipes/debian-12-live-arm64.yaml (mmdebstrap --architectures=arm64, the maintainer scripts and
// dracut running through qemu-user), `bootsmith boot-test` in qemu-system-aarch64 under TCG (the
// squashfs fetched over HTTP by livenet), and both architectures under one registry tag: the
// main job's x86_64 image and this one as a manifest list, read back with skopeo.
//
// Measured on 2 cores: build ≈ 6–8 min (mmdebstrap ≈ 5, dracut ≈ 2.5), boot to the marker
// 85–210 s (host load), the manifest-list publish ≈ 20–50 s. .ci/run builds the recipe beside the
// main job and the suite, in its own buildah storage, and hands its output over in
// BOOTSMITH_TEST_AARCH64_ARTIFACTS: this file (run last, test/support/sequencer.ts) waits for
// BOOTSMITH_TEST_AARCH64_DONE, the build's exit status, then copies the image from
// BOOTSMITH_TEST_AARCH64_STORAGE. Without those variables it builds the recipe itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import type { Manifest } from "../../src/core/manifest.js";
import { kernelFormat } from "../../src/boottest/preflight.js";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { BINFMT_DIR } from "../../src/builder/binfmt.js";
import { mainJobArtifacts, missingPrerequisites } from "../support/prerequisites.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { awaitPrebuilt, copyFromStorage } from "../support/prebuilt.js";

const RECIPE = path.join(REPO_ROOT, "recipes/debian-12-live-arm64.yaml");
const BUILD_TIMEOUT = 1_800_000;
const BOOT_TIMEOUT = 900_000;

const main = mainJobArtifacts(["manifest.json"]);
const skip = missingPrerequisites("aarch64 e2e", [
  {
    need: "qemu-user registered for aarch64 in binfmt_misc, qemu-system-aarch64 and its UEFI firmware",
    present:
      existsSync(path.join(BINFMT_DIR, "qemu-aarch64")) && existsSync("/usr/bin/qemu-system-aarch64") && existsSync("/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"),
    install: "bash scripts/setup.sh (qemu-user-static binfmt-support arch-test qemu-system-arm qemu-efi-aarch64; mounts binfmt_misc)",
  },
  main,
]);

let work: string;
let artifacts: string;
let manifest: Manifest;

beforeAll(async () => {
  if (skip) return;
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-e2e-arm64-"));
  // BOOTSMITH_TEST_AARCH64_ARTIFACTS: a build of the recipe made before the suite (.ci/run's, or a
  // local iteration's).
  artifacts = process.env.BOOTSMITH_TEST_AARCH64_ARTIFACTS ?? path.join(work, "debian-12-live-arm64");
  const statusFile = process.env.BOOTSMITH_TEST_AARCH64_DONE;
  const storageRoot = process.env.BOOTSMITH_TEST_AARCH64_STORAGE;
  if (statusFile) await awaitPrebuilt({ statusFile, log: path.join(artifacts, "build.log") }, BUILD_TIMEOUT);
  if (!process.env.BOOTSMITH_TEST_AARCH64_ARTIFACTS) {
    const started = performance.now();
    const result = await bootsmith(["build", RECIPE, "--out", artifacts, "--no-publish", "--progress", "plain"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: BUILD_TIMEOUT,
    });
    if (result.exitCode !== 0) throw new Error(`build of the arm64 recipe failed:\n${result.stderr}`);
    console.log(`e2e arm64: build ${Math.round((performance.now() - started) / 1000)} s`);
  }
  manifest = JSON.parse(readFileSync(path.join(artifacts, "manifest.json"), "utf8")) as Manifest;
  if (storageRoot) await copyFromStorage(storageRoot, manifest.image.ref);
}, BUILD_TIMEOUT);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(skip)("Debian 12 arm64 live image, cross-built on x86_64", () => {
  it("is an arm64 image: its packages, kernel and committed image say so", async () => {
    expect(manifest.arch).toBe("aarch64");
    expect(manifest.kernel?.version).toMatch(/-arm64$/);
    expect(manifest.packages.find((p) => p.name === "linux-image-arm64")?.arch).toBe("arm64");
    expect(manifest.packages.filter((p) => p.arch === "amd64")).toEqual([]);
    expect(kernelFormat(readFileSync(path.join(artifacts, "vmlinuz")).subarray(0, 1024))).toBe("arm64-efi-image");
    const { stdout } = await run(
      { file: "buildah", args: ["inspect", "--format", "{{.OCIv1.Architecture}}", manifest.image.ref] },
      { step: "test", reporter: silentReporter },
    );
    expect(stdout.trim()).toBe("arm64");
  });

  it("boots to its marker in qemu-system-aarch64 (TCG), fetching the squashfs over HTTP", { timeout: BOOT_TIMEOUT }, async () => {
    const report = path.join(work, "boot-test.json");
    const result = await bootsmith(["boot-test", artifacts, "--accel", "tcg", "--report", report, "--timeout", String(BOOT_TIMEOUT / 1000 - 60)], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: BOOT_TIMEOUT,
    });
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    const r = JSON.parse(readFileSync(report, "utf8")) as { ok: boolean; bootSeconds: number; markerLine: string; checks: { name: string; status: string }[] };
    expect(r.markerLine).toContain(`kernel=${manifest.kernel!.version}`);
    expect(r.checks.map((c) => `${c.name}:${c.status}`)).toContain("live-root:pass");
    console.log(`e2e arm64: boot to the marker ${r.bootSeconds} s under TCG`);
  });

  describe("published with the main job's x86_64 image as one manifest list", () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startRegistry(work);
    });
    afterAll(async () => {
      await registry?.stop();
    });

    it("skopeo inspect --raw shows linux/amd64 and linux/arm64 under the tag", { timeout: 600_000 }, async () => {
      const repository = `${registry.address}/bootsmith/debian-12-live`;
      // The main job's set as a copy of its manifest.json beside links to its files: publishing
      // records the push in manifest.json, and the main job's stays as the other tests read it.
      const x86 = path.join(work, "x86_64");
      mkdirSync(x86);
      for (const file of readdirSync(main.dir!))
        if (file === "manifest.json") copyFileSync(path.join(main.dir!, file), path.join(x86, file));
        else symlinkSync(path.resolve(main.dir!, file), path.join(x86, file));
      const result = await bootsmith(["publish", x86, artifacts, "--to", `registry:${repository}`, "--tls-verify=false"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        timeoutMs: 600_000,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      const tag = manifest.tags[0]!;
      const { stdout } = await run(
        { file: "skopeo", args: ["inspect", "--raw", "--tls-verify=false", `docker://${repository}:${tag}`] },
        { step: "test", reporter: silentReporter },
      );
      const index = JSON.parse(stdout) as { manifests: { platform: { os: string; architecture: string } }[] };
      expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
      console.log(`e2e arm64: manifest list ${repository}:${tag}\n${stdout}`);
    });
  });
});
