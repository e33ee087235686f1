// Two `bootsmith build`s of the same recipe into the same --out at the same time: the build lock
// (src/build/lock.ts, taken in buildRecipe) lets one through and stops the other at once, naming
// the holder, before it touches build.log or the artifacts. Two different recipes at once share
// the dnf package cache safely. Real buildah, dnf and mksquashfs with the fixture RPM repository;
// nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { REPO_ROOT, startBootsmith } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { LOCK_FILE } from "../../src/builder/output-lock.js";
import type { Manifest } from "../../src/core/manifest.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";

const RECIPE = path.join(REPO_ROOT, "test/fixtures/build/fixture-live.yaml");
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-concurrent-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

interface Finished {
  readonly pid: number;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly endedAt: number;
}

async function build(out: string): Promise<Finished> {
  const child = startBootsmith(["build", RECIPE, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish", "--progress", "plain"], { env });
  const pid = child.pid!;
  const result = await child;
  return { pid, exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), endedAt: Date.now() };
}

describe("concurrent builds", () => {
  it("one builds; the other fails at once naming the holder, exit 1, nothing leaked or overwritten", { timeout: 400_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, "out");
    const results = await Promise.all([build(out), build(out)]);
    const winner = results.find((r) => r.exitCode === 0);
    const loser = results.find((r) => r.exitCode !== 0);
    expect(winner, results.map((r) => `exit ${r.exitCode}: ${r.stderr}`).join("\n---\n")).toBeDefined();
    expect(loser, "both builds succeeded: the lock did not serialize them").toBeDefined();

    expect(loser!.exitCode).toBe(1);
    expect(loser!.stderr.trim()).toBe(`another bootsmith build (pid ${winner!.pid}) is writing ${out}; wait for it, or build into another --out directory`);
    expect(loser!.stderr).not.toMatch(/^\s+at /m);
    // "At once": the loser gave up while the winner was still building.
    expect(loser!.endedAt).toBeLessThan(winner!.endedAt);

    // The winner's output is whole: one build in the log, a manifest whose sums match the files.
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    expect(log.match(/INFO building fixture-live:1/g)).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    for (const a of Object.values(manifest.artifacts)) {
      const { stdout } = await execa("sha256sum", [path.join(out, a.file)]);
      expect(stdout.split(" ")[0], a.file).toBe(a.sha256);
    }
    expect(existsSync(path.join(out, LOCK_FILE)), "the lock is released after the build").toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });

  it("two different recipes at once share the package cache: both build, nothing leaked", { timeout: 400_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const child = path.join(work, "fixture-other.yaml");
    // A second recipe from the same repository (so the same dnf cache), built at the same time.
    writeFileSync(child, readFileSync(RECIPE, "utf8").replace("name: fixture-live", "name: fixture-other"));
    writeFileSync(path.join(work, "site.conf"), readFileSync(path.join(path.dirname(RECIPE), "site.conf")));
    const run = (recipe: string, out: string) =>
      startBootsmith(["build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish", "--progress", "plain"], { env });
    const [a, b] = await Promise.all([run(RECIPE, path.join(work, "out-a")), run(child, path.join(work, "out-b"))]);
    expect(a.exitCode, String(a.stderr)).toBe(0);
    expect(b.exitCode, String(b.stderr)).toBe(0);
    for (const out of ["out-a", "out-b"]) {
      const manifest = JSON.parse(readFileSync(path.join(work, out, "manifest.json"), "utf8")) as Manifest;
      expect(manifest.packages.map((p) => p.name)).toContain("fixture-hello");
    }
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
    await execa("buildah", ["rmi", "-f", "localhost/bootsmith/fixture-other:1", "localhost/bootsmith/fixture-other:latest"], { reject: false });
  });

  it("a lock left by a dead build is taken over", { timeout: 300_000 }, async () => {
    const out = path.join(work, "out-stale");
    const dead = await execa(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    await execa("mkdir", ["-p", out]);
    await execa("sh", ["-c", `printf '%s\\n' "$1" > "$2"`, "sh", dead.stdout, path.join(out, LOCK_FILE)]);
    const result = await build(out);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(existsSync(path.join(out, "manifest.json"))).toBe(true);
  });
});
