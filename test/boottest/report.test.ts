import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BootTestResult } from "../../src/boottest/result.js";
import { formatBreakdown, junitCases, manifestRecord, recordInManifest } from "../../src/boottest/report.js";

const result: BootTestResult = {
  ok: false,
  reason: "check-failed",
  message: "booted in 60 s, but check slurmd failed (exit code 3, expected 0)",
  consoleTail: [],
  elapsedSeconds: 70,
  checks: [
    { name: "system-running", builtin: true, status: "pass", exitCode: 0, seconds: 0.5, stdout: "running\n", stderr: "", message: "passed" },
    { name: "image-id", builtin: true, status: "skip", exitCode: 77, seconds: 0.1, stdout: "no IMAGE_ID\n", stderr: "", message: "no IMAGE_ID" },
    { name: "slurmd", builtin: false, status: "fail", exitCode: 3, seconds: 0.4, stdout: "inactive\n", stderr: "", message: "exit code 3, expected 0" },
  ],
  breakdown: {
    phases: [
      { name: "kernel download", endSeconds: 5, seconds: 5, bytes: 8_000_000, transferSeconds: 0.5 },
      { name: "system start to marker", endSeconds: 60, seconds: 55 },
    ],
    totalSeconds: 60,
  },
};

describe("boot-test reports", () => {
  it("tabulates the breakdown with bytes, rates and the sum", () => {
    const table = formatBreakdown(result);
    expect(table[0]).toMatch(/^phase\s+took\s+at\s+bytes\s+transfer$/);
    expect(table[1]).toMatch(/^kernel download\s+5\.0 s\s+5\.0 s\s+7\.6 MiB\s+0\.5 s, 15\.3 MiB\/s$/);
    expect(table.at(-1)).toMatch(/^total\s+60\.0 s\s+phases sum to 60\.0 s$/);
  });

  it("says where the console went quiet, after the table", () => {
    const longestSilence = { seconds: 42, fromSeconds: 10, downloadingSeconds: 20.5, after: "Run /init as init process" };
    const table = formatBreakdown({ ...result, breakdown: { ...result.breakdown!, longestSilence } });
    expect(table.slice(-3)).toEqual([
      "no console output for 42.0 s from 10.0 s, 20.5 s of it downloading:",
      "  after: Run /init as init process",
      "  until: (the boot-test stopped)",
    ]);
  });

  it("makes one JUnit case per phase and per check, the failing check with its output", () => {
    const cases = junitCases(result);
    expect(cases.map((c) => [c.name, c.status])).toEqual([
      ["phase: kernel download", "passed"],
      ["phase: system start to marker", "passed"],
      ["check: system-running (built-in)", "passed"],
      ["check: image-id (built-in)", "skipped"],
      ["check: slurmd", "failed"],
    ]);
    expect(cases.at(-1)).toMatchObject({ message: "exit code 3, expected 0", body: expect.stringContaining("inactive") });
    // A boot that never came up is a failed "boot" case.
    expect(junitCases({ ...result, reason: "timeout", checks: [], message: "no marker" }).at(-1)).toMatchObject({ name: "boot", status: "failed" });
  });

  it("records the run in manifest.json's bootTest section and keeps the rest", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-report-"));
    try {
      expect(await recordInManifest(dir, manifestRecord(result))).toBe(false);
      await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ name: "x", bootTest: { marker: "UP", timeoutSeconds: 600 } }));
      const at = new Date("2026-12-01T15:00:00Z");
      expect(await recordInManifest(dir, manifestRecord(result, at))).toBe(true);
      const m = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
      expect(m.name).toBe("x");
      expect(m.bootTest).toEqual({
        marker: "UP",
        timeoutSeconds: 600,
        lastRun: {
          at: "2026-12-01T15:00:00.000Z",
          ok: false,
          totalSeconds: 60,
          phases: [
            { name: "kernel download", seconds: 5, bytes: 8_000_000 },
            { name: "system start to marker", seconds: 55 },
          ],
          checks: [
            { name: "system-running", status: "pass", seconds: 0.5 },
            { name: "image-id", status: "skip", seconds: 0.1 },
            { name: "slurmd", status: "fail", seconds: 0.4 },
          ],
        },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
