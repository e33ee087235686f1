// A real graph build: graph-base (dnf from the fixture repo) and two children built on its
// committed image, --jobs 2, one child failing. Then: --explain, the fix, a no-op run in which no
// build step runs, and a changed copied file explained as old → new. Real buildah and dnf.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import type { Manifest } from "../../src/core/manifest.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";

const IMAGES = ["graph-base:1", "graph-child-ok:1", "graph-child-fails:1"];
let work: string;
let recipes: string;
let out: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-graph-"));
  recipes = path.join(work, "recipes");
  out = path.join(work, "out");
  cpSync(path.join(REPO_ROOT, "test/fixtures/graph"), recipes, { recursive: true });
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  await removeImages(IMAGES);
}, 300_000);

afterAll(async () => {
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

const build = (...extra: string[]) =>
  bootsmith(["build", recipes, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain", "--no-publish", ...extra], { env, cwd: work });
const manifest = (name: string) => JSON.parse(readFileSync(path.join(out, name, "1", "manifest.json"), "utf8")) as Manifest;
/** Step lines of the plain reporter, e.g. "[graph-base] [3/9] packages …". */
const stepLines = (stderr: string) => stderr.split("\n").filter((l) => /^\[[\w-]+\] \[\d+\/\d+\] /.test(l));

describe("bootsmith build DIR (graph)", () => {
  it("--sign-key reaches every recipe's build: a key that cannot sign fails each before anything is built", async () => {
    const result = await build("--sign-key", "missing.asc", "--jobs", "1");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`[graph-base] failed: --sign-key: key file ${path.join(work, "missing.asc")}: does not exist`);
    expect(result.stderr).toMatch(/graph-child-ok .*skipped/);
    expect(existsSync(path.join(out, "graph-base", "1", "manifest.json"))).toBe(false);
  });

  it("--jobs 2: the parent, then both children; one fails, the other is built, the summary says so", { timeout: 600_000 }, async () => {
    const result = await build("--jobs", "2", "--junit", path.join(work, "junit"));
    expect(result.exitCode, result.stderr).toBe(1);
    const summary = result.stderr.slice(result.stderr.lastIndexOf("recipe  "));
    expect(summary).toMatch(/graph-base\s+built/);
    expect(summary).toMatch(/graph-child-ok\s+built/);
    expect(summary).toMatch(/graph-child-fails\s+failed\s+[\d.]+ s\s+exit 1; log .*graph-child-fails\/1\/build\.log/);
    expect(summary).toContain("2 built, 0 up to date, 0 skipped, 1 failed");
    // Every line of a build carries its recipe; each build has its own log.
    expect(result.stderr).toContain("[graph-child-fails]   step command-1 (Run: failing command) failed");
    expect(readFileSync(path.join(out, "graph-child-ok", "1", "build.log"), "utf8")).not.toContain("failing command");
    // The children ran on the committed parent: no dnf install in their logs.
    expect(readFileSync(path.join(out, "graph-child-ok", "1", "build.log"), "utf8")).toContain("--pull=never localhost/bootsmith/graph-base:1");
    expect(manifest("graph-child-ok").inputs?.parent).toBe(manifest("graph-base").inputDigest.slice(0, 16));
    expect(existsSync(path.join(out, "graph-child-fails", "1", "manifest.json"))).toBe(false);
    // Only the image a child builds on is committed: the leaf's build ends with its artifacts.
    expect(manifest("graph-base").image.id).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest("graph-child-ok").image).toEqual({ ref: "localhost/bootsmith/graph-child-ok:1", committed: false });
    const leafLog = readFileSync(path.join(out, "graph-child-ok", "1", "build.log"), "utf8");
    expect(leafLog).not.toMatch(/\+ buildah .*\bcommit /);
    expect(leafLog).toMatch(/\+ bootsmith artifacts write-manifest .* --not-committed --base-image-id [0-9a-f]{64}$/m);
    // JUnit: one testcase per step, the failing one marked.
    const junit = readFileSync(path.join(work, "junit", "graph-child-fails.xml"), "utf8");
    expect(junit).toMatch(/<testcase [^>]*name="command-1: Run: failing command"[^>]*>\s*<failure/);
    expect(readFileSync(path.join(work, "junit", "graph-child-ok.xml"), "utf8")).not.toContain("<failure");
  });

  it("--explain after the fix: only the failed child would be rebuilt", { timeout: 120_000 }, async () => {
    const result = await build("--var", "FAIL_CODE=0", "--explain");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /graph-base \(.*\): up to date\n {2}up to date: key [0-9a-f]{12} matches .*manifest\.json and the image localhost\/bootsmith\/graph-base:1/,
    );
    expect(result.stdout).toMatch(
      /graph-child-ok \(.*\): up to date\n {2}up to date: key [0-9a-f]{12} matches .*manifest\.json \(no image committed: nothing needs one\)/,
    );
    expect(result.stdout).toMatch(/graph-child-fails \(.*\): rebuild\n {2}never built here/);
    expect(result.stdout).toContain("1 of 3 recipes would be built");
    // A new recipe on the leaf needs the image its build did not commit: the leaf is rebuilt, with it.
    writeFileSync(path.join(recipes, "grandchild.yaml"), "name: graph-grandchild\ntags: ['1']\nfrom:\n  recipe: child-ok.yaml\nboot: false\n");
    try {
      const more = await build("--var", "FAIL_CODE=0", "--explain");
      expect(more.stdout).toMatch(
        /graph-child-ok \(.*\): rebuild\n {2}inputs unchanged, but the last build committed no image \(nothing needed it then\); child recipe graph-grandchild needs localhost\/bootsmith\/graph-child-ok:1 now/,
      );
    } finally {
      rmSync(path.join(recipes, "grandchild.yaml"));
    }
  });

  it("the fixed child builds alone; then a no-op run runs no step at all", { timeout: 300_000 }, async () => {
    const fixed = await build("--var", "FAIL_CODE=0");
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(stepLines(fixed.stderr).every((l) => l.startsWith("[graph-child-fails]"))).toBe(true);
    expect(fixed.stderr).toContain("1 built, 2 up to date, 0 skipped, 0 failed");

    const t0 = Date.now();
    const noop = await build("--var", "FAIL_CODE=0");
    const elapsed = Date.now() - t0;
    expect(noop.exitCode, noop.stderr).toBe(0);
    expect(stepLines(noop.stderr)).toEqual([]);
    expect(noop.stderr).toContain("0 built, 3 up to date, 0 skipped, 0 failed");
    expect(elapsed).toBeLessThan(5_000);

    // One file keeps today's behaviour (always builds) unless --if-changed.
    const single = await bootsmith(
      [
        "build",
        path.join(recipes, "base.yaml"),
        "--if-changed",
        "--var",
        `REPO_URL=${repo.baseurl}`,
        "--out",
        path.join(out, "graph-base", "1"),
        "--progress",
        "plain",
        "--no-publish",
      ],
      { env, cwd: work },
    );
    expect(single.exitCode, single.stderr).toBe(0);
    expect(single.stderr).toMatch(/^graph-base: skipped: up to date: key [0-9a-f]{12} matches /);
    expect(stepLines(single.stderr)).toEqual([]);
  });

  it(
    "another image under the name (rebuilt elsewhere, retagged) or none: rebuilt, with the reason; the recorded one back: up to date",
    { timeout: 180_000 },
    async () => {
      const image = "localhost/bootsmith/graph-base:1";
      const { inputDigest: key, image: recorded } = manifest("graph-base");
      const explain = async () => {
        const r = await build("--var", "FAIL_CODE=0", "--explain");
        expect(r.exitCode, r.stderr).toBe(0);
        return r.stdout;
      };
      const buildah = async (...args: string[]) => (await execa("buildah", args)).stdout.trim();
      const made: string[] = [];
      /** Commit a new image under the name: from `from` (an image or scratch) with the input-digest label `label`. */
      const commitAs = async (from: string, label?: string) => {
        const c = await buildah("from", "--pull=never", from);
        try {
          if (label !== undefined) await buildah("config", "--label", `io.bootsmith.input-digest=${label}`, c);
          made.push(await buildah("commit", "--quiet", c, image));
        } finally {
          await buildah("rm", c);
        }
      };
      const baseLines = (text: string) => text.slice(text.indexOf("graph-base ("), text.indexOf("graph-child-fails ("));
      // The recorded image keeps a second name while the test moves graph-base:1 away from it.
      const keep = `localhost/bootsmith/graph-base:keep-${process.pid}`;
      await buildah("tag", recorded.id!, keep);
      try {
        // Rebuilt elsewhere from another version of the recipe: the label names another key.
        await commitAs(recorded.id!, "0".repeat(64));
        let text = await explain();
        expect(baseLines(text)).toMatch(
          new RegExp(`: rebuild\\n {2}inputs unchanged, but the image ${image} carries io\\.bootsmith\\.input-digest=000000000000, not ${key.slice(0, 12)}\\n`),
        );
        expect(text).toMatch(/graph-child-ok \(.*\): rebuild\n {2}parent graph-base is rebuilt in this run/);
        // Rebuilt elsewhere (another output directory) from this very recipe: a new ID, but its label carries the key.
        await commitAs(recorded.id!, key);
        expect(baseLines(await explain())).toMatch(
          /: up to date\n {2}up to date: key [0-9a-f]{12} matches .*manifest\.json and the image localhost\/bootsmith\/graph-base:1\n/,
        );
        // Retagged: an unrelated image without the label.
        await commitAs("scratch");
        expect(baseLines(await explain())).toMatch(/: rebuild\n {2}inputs unchanged, but the image .* carries io\.bootsmith\.input-digest=\(none\), not /);
        // Removed.
        await buildah("rmi", image);
        text = await explain();
        expect(baseLines(text)).toMatch(
          /: rebuild\n {2}inputs unchanged, but the image localhost\/bootsmith\/graph-base:1 is gone \(removed or built on another host\)\n/,
        );
        expect(text).toContain("3 of 3 recipes would be built");
      } finally {
        await buildah("tag", recorded.id!, image);
        await buildah("rmi", keep);
        for (const id of made) await execa("buildah", ["rmi", "-f", id], { reject: false });
      }
      // The name on the ID the manifest recorded again: up to date, without a build.
      const text = await explain();
      expect(baseLines(text)).toMatch(
        /: up to date\n {2}up to date: key [0-9a-f]{12} matches .*manifest\.json and the image localhost\/bootsmith\/graph-base:1\n/,
      );
      expect(text).toContain("0 of 3 recipes would be built");
    },
  );

  it("--refresh rebuilds although up to date, writes a changelog, and skips publishing when no package changed", { timeout: 300_000 }, async () => {
    const result = await bootsmith(
      [
        "build",
        recipes,
        "--var",
        `REPO_URL=${repo.baseurl}`,
        "--var",
        "FAIL_CODE=0",
        "--out",
        out,
        "--progress",
        "plain",
        "--refresh",
        "--only",
        "graph-child-ok",
      ],
      { env, cwd: work },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/graph-base\s+built\s+[\d.]+ s\s+no package changed\n/);
    expect(result.stderr).toMatch(/graph-child-ok\s+built\s+[\d.]+ s\s+no package changed: publish and register skipped/);
    // The publish directory does not exist: had the step run, the build would have failed.
    expect(result.stderr).toContain("[graph-child-ok] publish-1-local skipped: no package changed since the build of");
    expect(readFileSync(path.join(out, "graph-child-ok", "1", "changelog.md"), "utf8")).toContain("No package changed.");
    expect(JSON.parse(readFileSync(path.join(out, "graph-base", "1", "changelog.json"), "utf8"))).toMatchObject({
      name: "graph-base",
      added: [],
      removed: [],
      changed: [],
    });
  });

  it(
    "after --refresh of the parent and one child, the other child is seen to be on the old parent image: --explain rebuilds it",
    { timeout: 120_000 },
    async () => {
      // The key holds the parent's key, not its image: only the recorded base image ID tells.
      const parentId = manifest("graph-base").image.id!;
      expect(parentId).toMatch(/^[0-9a-f]{64}$/);
      expect(manifest("graph-child-ok").base).toEqual({ kind: "recipe", name: "graph-base", ref: "localhost/bootsmith/graph-base:1", imageId: parentId });
      const stale = manifest("graph-child-fails").base;
      expect(stale.kind === "recipe" && stale.imageId).toMatch(/^[0-9a-f]{64}$/);
      expect(stale.kind === "recipe" && stale.imageId).not.toBe(parentId);
      const result = await build("--var", "FAIL_CODE=0", "--explain");
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/graph-base \(.*\): up to date\n/);
      expect(result.stdout).toMatch(/graph-child-ok \(.*\): up to date\n/);
      expect(result.stdout).toMatch(
        new RegExp(
          `graph-child-fails \\(.*\\): rebuild\\n {2}inputs unchanged, but the parent image localhost/bootsmith/graph-base:1 is now ${parentId.slice(0, 12)}, not [0-9a-f]{12} that the last build was made on \\(the parent was rebuilt outside this run\\)`,
        ),
      );
      expect(result.stdout).toContain("1 of 3 recipes would be built");
    },
  );

  it("one file with --refresh: rebuilt alone (parents are not), changelog written", { timeout: 300_000 }, async () => {
    const result = await bootsmith(
      [
        "build",
        path.join(recipes, "child-ok.yaml"),
        "--refresh",
        "--var",
        `REPO_URL=${repo.baseurl}`,
        "--out",
        path.join(out, "graph-child-ok", "1"),
        "--progress",
        "plain",
      ],
      { env, cwd: work },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("graph-child-ok: --refresh: no package changed: publish and register skipped");
    expect(result.stderr).toContain("publish-1-local skipped: no package changed since the build of");
    expect(result.stderr).not.toContain("building graph-base");
    expect(result.stderr).toContain("--pull=never localhost/bootsmith/graph-base:1");
  });

  it("a changed copied file: --explain names it old → new, and the children follow through the parent key", { timeout: 120_000 }, async () => {
    const before = manifest("graph-base").inputs?.["file /etc/graph/base.conf"];
    writeFileSync(path.join(recipes, "base.conf"), "base=2\n");
    const result = await build("--var", "FAIL_CODE=0", "--explain");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`graph-base \\(.*\\): rebuild\\n {2}file /etc/graph/base\\.conf changed: ${before} → [0-9a-f]{16}`));
    expect(result.stdout).toMatch(/graph-child-ok \(.*\): rebuild\n {2}parent key changed: [0-9a-f]{16} → [0-9a-f]{16}/);
    expect(result.stdout).toContain("3 of 3 recipes would be built");
    // --only a child with an up-to-date... here outdated parent: the parent comes along.
    const only = await build("--var", "FAIL_CODE=0", "--explain", "--only", "graph-child-ok");
    expect(only.stdout).toMatch(/graph-child-fails \(.*\): skip\n {2}not selected by --only graph-child-ok/);
    expect(only.stdout).toContain("2 of 3 recipes would be built");
  });
});
