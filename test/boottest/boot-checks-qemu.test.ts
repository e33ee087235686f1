// Checks inside a really booted node, through the CLI, on the Debian live artifacts (QEMU TCG:
// ~1.5–3 min per boot on 2 shared cores). BOOTSMITH_TEST_ARTIFACTS names the output of
// `bootsmith build recipes/debian-12-live.yaml` (the README's main job sets it); in CI its
// absence is a failure, elsewhere the file is skipped.
//  1. A registration in BSS with 127.0.0.1 artifact URLs that passed the host's HEAD checks boots
//     via --bootscript-url (loopback rewritten to 10.0.2.2) to the marker naming the manifest's
//     kernel, with a recipe listing a passing and a failing check: exit 1 naming the failing one
//     with its output, the recipe's other check, --check and the built-in checks pass, the
//     boot-time breakdown's phases add up to the total within 5 %, the squashfs is byte-for-byte
//     unchanged, reports written. (The suite's one boot from a BSS boot script:
//     test/e2e/debian-live.test.ts checks the script BSS serves for a registration with the
//     guest's URLs.)
//  2. --nodes 2: two nodes at once from one server (one per core here), each through iPXE and the
//     generated script after a passing preflight, reported, with the peak throughput.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { constants } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { startBssServer } from "../support/bss-server.js";
import { startStaticServer } from "../../src/serve/static-server.js";
import { registerPublished } from "../../src/register/register.js";
import type { BootTestResult } from "../../src/boottest/result.js";
import type { Manifest } from "../../src/core/manifest.js";
import { mainJobArtifacts, missingPrerequisites } from "../support/prerequisites.js";

const main = mainJobArtifacts(["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json"]);
const artifacts = main.dir;
const skip = missingPrerequisites("boot-checks-qemu.test", [main]);
const BOOT_MS = Number(process.env.BOOTSMITH_TEST_BOOT_TIMEOUT ?? 600) * 1000;

let sizes: Manifest["artifacts"] = {};
const manifestSize = (role: "kernel" | "initrd" | "rootfs") => sizes[role]?.size ?? Number.NaN;

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe.skipIf(skip)("checks in a booted node (QEMU)", () => {
  let work: string;
  /**
   * A copy of the artifacts (a reflink where the filesystem can; bootsmith serve never follows a
   * symlink out of the served directory), with a manifest.json that boot-test may update.
   */
  let dir: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "bootsmith-checks-qemu-"));
    dir = path.join(work, "artifacts");
    await cp(path.join(REPO_ROOT, "recipes/files"), path.join(work, "files"), { recursive: true });
    await mkdir(dir);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await copyFile(path.join(artifacts!, f), path.join(dir, f), constants.COPYFILE_FICLONE);
    await cp(path.join(artifacts!, "manifest.json"), path.join(dir, "manifest.json"));
    sizes = (JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest).artifacts;
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    "boots a BSS registration with 127.0.0.1 URLs that passed the HEAD checks; exits 1 naming the failing check with its output, the others pass; phases add up; the squashfs is unchanged",
    async () => {
      // The Debian live recipe with two checks: one that passes, one that cannot.
      const recipe = parse(await readFile(path.join(REPO_ROOT, "recipes/debian-12-live.yaml"), "utf8"));
      recipe.boot.test.checks = [
        { name: "hostname", run: ["hostname"], expect: { stdout: "^debian-live$" } },
        { name: "slurmd-active", script: "echo checking slurmd\nsystemctl is-active slurmd", timeout: 20 },
      ];
      const recipeFile = path.join(work, "with-checks.yaml");
      await writeFile(recipeFile, stringify(recipe));
      const before = await sha256(path.join(dir, "rootfs.squashfs"));
      const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest;
      const mac = "52:54:00:be:e7:13";
      const bss = await startBssServer();
      try {
        // Register exactly as a site would from the build host: URLs on 127.0.0.1, HEAD-checked.
        const files = await startStaticServer({ root: dir });
        const port = files.port;
        const base = `http://127.0.0.1:${port}`;
        try {
          const image = {
            name: manifest.name,
            tag: manifest.tags[0]!,
            target: "local",
            urls: { kernel: `${base}/vmlinuz`, initrd: `${base}/initramfs.img`, rootfs: `${base}/rootfs.squashfs` },
          };
          const reg = await registerPublished(image, manifest.params!, { macs: [mac] }, { type: "bss", url: bss.url }, { stateDir: path.join(work, "state") });
          expect(reg.written).toBe(true);
        } finally {
          await files.close();
        }
        expect(bss.violations).toEqual([]);

        // boot-test serves the recipe's build output on the registered port, boots BSS's script and
        // runs the recipe's checks, --check and the built-in ones.
        const report = path.join(work, "bss", "boot-test.json");
        const junit = path.join(work, "bss", "junit.xml");
        const r = await bootsmith(
          [
            "boot-test",
            "--bootscript-url",
            bss.bootscriptUrl(mac),
            "--mac",
            mac,
            "--port",
            String(port),
            recipeFile,
            "--out",
            dir,
            "--check",
            "kernel=uname -r",
            "--report",
            report,
            "--junit",
            junit,
          ],
          { timeoutMs: BOOT_MS + 120_000 },
        );
        console.log(`boot-test via BSS with a failing check (exit ${r.exitCode}):\n${r.stdout}`);
        expect(r.exitCode, r.stderr).toBe(1);
        expect(r.stdout).toContain(`note: the boot script's ${base}/vmlinuz was booted as http://10.0.2.2:${port}/vmlinuz`);
        expect(r.stdout).toMatch(/^FAIL boot-test \(check-failed\): booted in [\d.]+ s, but check slurmd-active failed \(exit code 3, expected 0\)/m);
        expect(r.stdout).toMatch(/ {2}FAIL slurmd-active [\d.]+ s: exit code 3, expected 0\n {7}stdout:\n {7}\| checking slurmd\n {7}\| inactive/);
        expect(r.stdout).toMatch(/ {2}PASS hostname [\d.]+ s: debian-live/);
        expect(r.stdout).toMatch(/ {2}PASS kernel [\d.]+ s: 6\.1\.0-\S+-amd64/);
        expect(r.stdout).toMatch(/ {2}PASS system-running \(built-in\)/);
        expect(r.stdout).toMatch(/ {2}PASS live-root \(built-in\)/);
        expect(r.stdout).toContain("boot time breakdown:");

        const result = JSON.parse(await readFile(report, "utf8")) as BootTestResult;
        expect(result.reason).toBe("check-failed");
        // The node came up on the image's own kernel, fetched through the URLs BSS handed out.
        expect(result.markerLine).toContain(`kernel=${manifest.kernel!.version}`);
        expect(result.rewrittenUrls).toEqual(expect.arrayContaining([`${base}/vmlinuz`, `${base}/rootfs.squashfs`, `${base}/initramfs.img`]));
        expect(result.checks.map((c) => [c.name, c.status])).toEqual([
          ["system-running", "pass"],
          ["image-id", expect.stringMatching(/^(pass|skip)$/)],
          ["live-root", "pass"],
          ["hostname", "pass"],
          ["slurmd-active", "fail"],
          ["kernel", "pass"],
        ]);
        const b = result.breakdown!;
        const names = b.phases.map((p) => p.name);
        for (const phase of [
          "kernel download",
          "initramfs download",
          "kernel start to initramfs /init",
          "squashfs download",
          "live root mount to switch-root",
          "system start to marker",
          "check system-running",
        ]) {
          expect(names).toContain(phase);
        }
        expect(b.phases.find((p) => p.name === "squashfs download")?.bytes).toBe(manifest.artifacts.rootfs?.size);
        const sum = b.phases.reduce((s, p) => s + p.seconds, 0);
        expect(Math.abs(sum - b.totalSeconds) / b.totalSeconds).toBeLessThan(0.05);
        // The BSS script was fetched by the host, not by the guest: no BSS request from 10.0.2.x.
        expect(bss.requests.filter((q) => q.path === "/boot/v1/bootscript").length).toBeGreaterThanOrEqual(1);

        expect(await readFile(junit, "utf8")).toMatch(
          /<testcase classname="[^"]*" name="check: slurmd-active" time="[\d.]+">\n\s+<failure message="exit code 3, expected 0">/,
        );
        expect(existsSync(path.join(work, "bss", "boot-test.console.log"))).toBe(true);
        const recorded = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest;
        expect(recorded.bootTest?.lastRun).toMatchObject({
          ok: false,
          checks: expect.arrayContaining([{ name: "slurmd-active", status: "fail", seconds: expect.any(Number) }]),
        });
        // The checks came from the harness, not the image.
        expect(await sha256(path.join(dir, "rootfs.squashfs"))).toBe(before);
        expect(before).toBe(recorded.artifacts.rootfs?.sha256);
      } finally {
        await bss.stop();
      }
    },
    BOOT_MS + 180_000,
  );

  it(
    "--nodes 2 boots two nodes at once from one server and reports each, the total and the peak throughput",
    async () => {
      const report = path.join(work, "storm", "boot-test.json");
      const r = await bootsmith(["boot-test", dir, "--nodes", "2", "--memory", "1024", "--cpus", "1", "--report", report], {
        timeoutMs: 2 * BOOT_MS + 120_000,
      });
      console.log(`boot-test --nodes 2 (exit ${r.exitCode}):\n${r.stdout}`);
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^PASS boot-test storm: 2 of 2 nodes up and checked in [\d.]+ s/);
      for (const [n, mac] of [
        [1, "52:54:00:12:34:56"],
        [2, "52:54:00:12:34:57"],
      ] as const)
        expect(r.stdout).toMatch(new RegExp(`node ${n} \\(${mac}\\): PASS up in [\\d.]+ s`));
      const result = JSON.parse(await readFile(report, "utf8")) as BootTestResult;
      expect(result.storm).toMatchObject({ nodes: 2 });
      expect(result.storm!.peakBytesPerSecond).toBeGreaterThan(0);
      // The preflight passed before any VM started.
      expect(result.preflight?.ok).toBe(true);
      // Every node fetched its own kernel, initramfs and squashfs from the one server.
      expect(result.storm!.bytesServed).toBeGreaterThanOrEqual(2 * (manifestSize("kernel") + manifestSize("initrd") + manifestSize("rootfs")));
      for (const n of result.nodeResults!) {
        expect(n.ok).toBe(true);
        expect(n.bootSeconds).toBeGreaterThan(0);
        expect(n.markerLine).toMatch(/BOOTSMITH-READY/);
        expect(n.breakdown!.phases.find((p) => p.name === "squashfs download")?.bytes).toBe(manifestSize("rootfs"));
        expect(n.checks.find((c) => c.name === "live-root")?.status).toBe("pass");
      }
    },
    2 * BOOT_MS + 180_000,
  );
});
