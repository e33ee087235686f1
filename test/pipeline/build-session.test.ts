// Checks a build makes before it starts: a registration whose token variable is unset is bad
// input at once (exit 2), not a failure after the build and its publish. And what a failed
// build prints: its failure once, as the summary.
import { describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { scratchDirs } from "../support/temp-dirs.js";
import { snapshotHost } from "../support/leaks.js";

const scratch = scratchDirs();

describe("bootsmith build, before anything is built", () => {
  it("refuses a registration whose tokenEnv variable is unset, naming it; nothing is built", { timeout: 120_000 }, async () => {
    const dir = scratch("bootsmith-build-session-");
    const fixtures = path.join(REPO_ROOT, "test/fixtures/build");
    copyFileSync(path.join(fixtures, "site.conf"), path.join(dir, "site.conf"));
    const recipe = path.join(dir, "fixture-live.yaml");
    writeFileSync(
      recipe,
      [
        readFileSync(path.join(fixtures, "fixture-live.yaml"), "utf8"),
        `publish:\n  - type: local\n    dir: ${path.join(dir, "published")}\n    publicBase: http://127.0.0.1:8080`,
        "register:\n  - type: bss\n    url: http://127.0.0.1:27778\n    macs: ['52:54:00:00:00:01']\n    tokenEnv: BOOTSMITH_TEST_UNSET_TOKEN",
      ].join("\n"),
    );
    // A build id of its own: other builds may run beside this test.
    const before = await snapshotHost("bootsmith-fixture-live-token-check");
    const out = path.join(dir, "out");
    const env = { BOOTSMITH_WORK_DIR: path.join(dir, "work"), BOOTSMITH_CACHE_DIR: path.join(dir, "cache") };
    const r = await bootsmith(["build", recipe, "--var", "REPO_URL=file:///nonexistent", "--out", out, "--build-id", "token-check", "--progress", "plain"], {
      env,
    });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `${recipe}: register to http://127.0.0.1:27778: the token variable it names, $BOOTSMITH_TEST_UNSET_TOKEN (tokenEnv / --token-env), is not set or empty`,
    );
    expect(existsSync(path.join(out, "build.log"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-live-token-check")).toEqual(before);
  });

  it("a failed build prints one summary: the step, the command, its exit code, last lines, the log, the cleanup", { timeout: 120_000 }, async () => {
    const dir = scratch("bootsmith-build-session-");
    const fixtures = path.join(REPO_ROOT, "test/fixtures/build");
    for (const f of ["site.conf", "fixture-live.yaml"]) copyFileSync(path.join(fixtures, f), path.join(dir, f));
    const out = path.join(dir, "out");
    const env = { BOOTSMITH_WORK_DIR: path.join(dir, "work"), BOOTSMITH_CACHE_DIR: path.join(dir, "cache") };
    // A repository that does not exist: dnf fails in its first second.
    const r = await bootsmith(
      [
        "build",
        path.join(dir, "fixture-live.yaml"),
        "--var",
        "REPO_URL=file:///nonexistent",
        "--out",
        out,
        "--build-id",
        "failure-summary",
        "--no-publish",
        "--progress",
        "plain",
      ],
      { env },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    const summary = r.stderr.slice(r.stderr.indexOf("build failed ("));
    expect(summary).toMatch(
      /^build failed \([\d.]+ s\)\n {2}step install-packages \(Install packages with dnf\) failed: packages at \S+\/fixture-live\.yaml:\d+:\d+\n {2}\[install-packages\] dnf exited with code 1\n {4}command: .*dnf --installroot/,
    );
    expect(summary).toContain("    last output:");
    expect(summary).toContain(`  full log: ${path.join(out, "build.log")}\n  the working container, its mount and partial artifacts were removed`);
    // Said once: the failure, the log path.
    expect(r.stderr.match(/install-packages \(Install packages with dnf\) failed/g)).toHaveLength(1);
    expect(r.stderr.split(path.join(out, "build.log")).length - 1, r.stderr).toBe(2); // the "building … (log: …)" line and the summary
  });
});
