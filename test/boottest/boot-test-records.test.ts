// The records a boot-test leaves in an artifact directory (manifest.json bootTest.lastRun, which
// promote is gated on, boot-test.json, boot-test.console.log): an attempt where no guest ran (QEMU
// missing, QEMU refusing its options, the preflight refusing) leaves the last real boot's
// records as they were; a real run replaces them with new files, so a hard-linked copy of the
// directory (cp -al: a published dir: target) keeps its own. No real QEMU: an aarch64 set booted
// with --firmware none needs no iPXE ROM, and a stand-in qemu-system-aarch64 on PATH plays a guest.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bootTestCommand } from "../../src/cli/boot-test.js";
import { toResult } from "../../src/boottest/result.js";
import type { Manifest } from "../../src/core/manifest.js";

const PASSED = { at: "2026-11-30T10:00:00.000Z", ok: true, totalSeconds: 60, phases: [], checks: [] };

let root: string;
let dir: string;
let bin: string;
let savedPath: string | undefined;
let stdout: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "bootsmith-bt-records-"));
  dir = path.join(root, "art");
  bin = path.join(root, "bin");
  await mkdir(dir);
  await mkdir(bin);
  for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await writeFile(path.join(dir, f), `${f}\n`);
  const manifest = { schemaVersion: 1, name: "n", tags: ["1"], arch: "aarch64", bootTest: { timeoutSeconds: 30, lastRun: PASSED } };
  await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  await writeFile(path.join(dir, "boot-test.json"), '{"ok":true}\n');
  await writeFile(path.join(dir, "boot-test.console.log"), "the passing boot's console\n");
  savedPath = process.env.PATH;
  process.env.PATH = bin;
  stdout = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env.PATH = savedPath;
  await rm(root, { recursive: true, force: true });
});

const RECORDS = ["manifest.json", "boot-test.json", "boot-test.console.log"] as const;
const files = async (d: string): Promise<Record<string, string>> =>
  Object.fromEntries(await Promise.all(RECORDS.map(async (f): Promise<[string, string]> => [f, await readFile(path.join(d, f), "utf8")])));
const bootTest = (...extra: string[]) =>
  bootTestCommand.run([dir, "--skip-preflight", "--firmware", "none", "--no-builtin-checks", "--timeout", "20", ...extra]);

/** A qemu-system-aarch64 that prints `lines` on its console (and into its logfile), then exits with `code`. */
async function fakeQemu(lines: readonly string[], code: number): Promise<void> {
  const script = [
    "#!/bin/sh",
    'for a; do case "$a" in *logfile=*) log="${a#*logfile=}";; esac; done',
    ...lines.map((l) => `echo '${l}'; echo '${l}' >> "$log"`),
    ...(lines.length === 0 ? [': > "$log"', "echo 'qemu-system-aarch64: -m 99999999: cannot set up guest memory' >&2"] : []),
    `exit ${code}`,
  ].join("\n");
  await writeFile(path.join(bin, "qemu-system-aarch64"), script + "\n");
  await chmod(path.join(bin, "qemu-system-aarch64"), 0o755);
}

describe("boot-test records when no guest ran", () => {
  it("QEMU missing: exit 1, says nothing booted, and the passing record, report and console log stay", async () => {
    const before = await files(dir);
    expect(await bootTest()).toBe(1);
    expect(stdout).toMatch(/^NOT BOOTED boot-test \(qemu-not-started\): qemu-system-aarch64/m);
    expect(stdout).toContain("the last boot test on record is still 2026-11-30T10:00:00.000Z, passed");
    expect(await files(dir)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("QEMU refusing its options (exits at once, no console output): the same", async () => {
    await fakeQemu([], 1);
    const before = await files(dir);
    expect(await bootTest()).toBe(1);
    expect(stdout).toMatch(/^NOT BOOTED boot-test \(qemu-exited\): QEMU exited with code 1 after [\d.]+ s before any guest ran .*cannot set up guest memory/m);
    expect(await files(dir)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a report asked for by name is still written, saying nothing booted", async () => {
    const report = path.join(root, "ci", "report.json");
    expect(await bootTest("--report", report)).toBe(1);
    expect(JSON.parse(await readFile(report, "utf8"))).toMatchObject({ ok: false, reason: "qemu-not-started", nothingBooted: true });
  });
});

describe("boot-test records when a guest ran", () => {
  it("records the failure with new files: a hard-linked copy of the directory keeps its own", async () => {
    await fakeQemu(["UEFI firmware starting", "Kernel panic - not syncing: VFS: Unable to mount root fs"], 0);
    const copy = path.join(root, "published");
    await mkdir(copy);
    for (const f of await readdir(dir)) await link(path.join(dir, f), path.join(copy, f));
    const published = await files(copy);

    expect(await bootTest()).toBe(1);
    expect(stdout).toMatch(/^FAIL boot-test/m);
    const after = await files(dir);
    expect((JSON.parse(after["manifest.json"]!) as Manifest).bootTest?.lastRun?.ok).toBe(false);
    expect(after["boot-test.console.log"]).toContain("Kernel panic");
    expect(JSON.parse(after["boot-test.json"]!)).toMatchObject({ ok: false });
    // The linked copy: same bytes as before, and no longer the same inodes as the rewritten files.
    expect(await files(copy)).toEqual(published);
    for (const f of ["manifest.json", "boot-test.json", "boot-test.console.log"])
      expect((await stat(path.join(copy, f))).ino, f).not.toBe((await stat(path.join(dir, f))).ino);
    expect((await readdir(dir)).filter((f) => f.includes("partial"))).toEqual([]);
  });
});

describe("toResult", () => {
  const base = { consoleTail: [], checks: [] };
  it("QEMU ending before any guest ran is the host's failure; after, the image's", () => {
    const exited = { kind: "exited" as const, exit: { exitCode: 1, signal: undefined } };
    expect(toResult(exited, 0.2, 1000, "/x/", [], base, 0.3, false)).toMatchObject({ reason: "qemu-exited", nothingBooted: true });
    expect(toResult(exited, 9, 1000, "/x/", [], base, 9, true).nothingBooted).toBeUndefined();
    expect(toResult({ kind: "timeout" }, 9, 1000, "/x/", [], base, 9, false)).toMatchObject({ reason: "timeout", nothingBooted: true });
  });
});
