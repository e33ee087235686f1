// .ci/run's test step as CI runs it: vitest with CI=true and a JSON report, then
// .ci/vitest-summary.mjs. A skipped test fails the run and is named; a new snapshot is not
// written but fails; a suite where everything ran passes.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { REPO_ROOT } from "../support/cli.js";

const VITEST = path.join(REPO_ROOT, "node_modules/.bin/vitest");
const SUMMARY = path.join(REPO_ROOT, ".ci/vitest-summary.mjs");

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs vitest on `files` (globals, no imports) in a scratch project, then the summary script. */
async function ciRun(files: Record<string, string>) {
  dir = mkdtempSync(path.join(tmpdir(), "bootsmith-vitest-ci-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const report = path.join(dir, "report.json");
  const tests = await execa(VITEST, ["run", "--root", dir, "--globals", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`], {
    env: { CI: "true" },
    reject: false,
    all: true,
  });
  const summary = await execa(process.execPath, [SUMMARY, report], { reject: false, all: true });
  return { tests, summary: { exitCode: summary.exitCode, out: summary.all ?? "" }, dir };
}

describe(".ci/run's test step", () => {
  it("fails when a test skipped, counting and naming it", { timeout: 60_000 }, async () => {
    const { tests, summary } = await ciRun({ "a.test.js": 'it("runs", () => expect(1).toBe(1));\nit.skipIf(true)("needs a tool", () => {});\n' });
    expect(tests.exitCode, tests.all).toBe(0); // vitest alone would call this green
    expect(summary.exitCode).toBe(1);
    expect(summary.out).toContain("tests: 1 passed, 0 failed, 1 skipped");
    expect(summary.out).toMatch(/skipped: .*a\.test\.js: needs a tool \(skipped\)/);
  });

  it("does not write a new snapshot in CI: the test fails instead", { timeout: 60_000 }, async () => {
    const { tests, summary, dir } = await ciRun({ "s.test.js": 'it("snap", () => expect({ a: 1 }).toMatchSnapshot());\n' });
    expect(tests.exitCode).not.toBe(0);
    expect(tests.all).toContain("Snapshot `snap 1` mismatched");
    expect(existsSync(path.join(dir, "__snapshots__"))).toBe(false);
    expect(summary.exitCode).toBe(1);
  });

  it("passes when every test ran and passed, and fails without a report", { timeout: 60_000 }, async () => {
    const { summary } = await ciRun({ "a.test.js": 'it("runs", () => expect(1).toBe(1));\n' });
    expect(summary).toEqual({ exitCode: 0, out: expect.stringContaining("tests: 1 passed, 0 failed, 0 skipped") });
    const missing = await execa(process.execPath, [SUMMARY, "/nonexistent/report.json"], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("the tests did not run");
  });
});
