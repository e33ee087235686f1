// A generated child pipeline run for real by gitlab-ci-local (shell executor, shell isolation,
// no network): the parent's job, then both children's on its image; the failing child fails the
// pipeline, the other passes, and the reports are where GitLab would look for them.
//
// gitlab-ci-local is a pinned devDependency (4.72.0: 4.75 needs Node 22) and needs rsync
// (scripts/setup.sh installs both); GITLAB_CI_LOCAL may name another copy.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { addAarch64Packages, buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { fixtureRecipe } from "../support/fixture-build.js";
import type { MultiArchManifest } from "../../src/core/manifest.js";
import { bootsmith, CLI, REPO_ROOT } from "../support/cli.js";
import { missingPrerequisites } from "../support/prerequisites.js";

const GCL = process.env.GITLAB_CI_LOCAL ?? path.join(REPO_ROOT, "node_modules/.bin/gitlab-ci-local");
const skip = missingPrerequisites("gitlab-ci-local.test", [
  { need: GCL, present: existsSync(GCL), install: "npm ci (gitlab-ci-local is a devDependency)" },
  { need: "rsync", present: ["/usr/bin/rsync", "/bin/rsync"].some(existsSync), install: "apt-get install rsync (scripts/setup.sh does)" },
]);
const MULTI = "gcl-multiarch";
const IMAGES = ["graph-base:1", "graph-child-ok:1", "graph-child-fails:1", `${MULTI}:1-amd64`, `${MULTI}:1-arm64`];
let work: string;
let repo: FixtureRepo;

describe.skipIf(skip)("a generated child pipeline under gitlab-ci-local", () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "bootsmith-gcl-"));
    repo = await buildFixtureRepo(path.join(work, "repo"));
    for (const image of IMAGES) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
  }, 300_000);

  afterAll(async () => {
    for (const image of IMAGES) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("runs the jobs in needs order; the failing child fails alone; dotenv and junit reports exist", { timeout: 600_000 }, async () => {
    const project = path.join(work, "project");
    cpSync(path.join(REPO_ROOT, "test/fixtures/graph"), path.join(project, "recipes"), { recursive: true });
    const run = await generateAndRun(project, ["--build-arg=--no-publish"]);
    const out = run.all ?? "";
    expect(run.exitCode, out).not.toBe(0);
    expect(out).toMatch(/PASS\s+build:graph-base/);
    expect(out).toMatch(/PASS\s+build:graph-child-ok/);
    expect(out).toMatch(/FAIL\s+build:graph-child-fails/);
    // The child ran after its parent (needs:), on the parent's committed image.
    const parentDone = out.indexOf("build:graph-base        finished");
    const childStarted = out.indexOf("build:graph-child-ok    starting");
    expect(parentDone, out).toBeGreaterThan(-1);
    expect(childStarted, out).toBeGreaterThan(parentDone);
    // Reports, copied back to the project directory by gitlab-ci-local as GitLab would collect them.
    const env = readFileSync(path.join(project, "artifacts/graph-base/1/image.env"), "utf8");
    expect(env).toContain("IMAGE_REF=localhost/bootsmith/graph-base:1");
    expect(readFileSync(path.join(project, "artifacts/graph-child-ok/1/image.env"), "utf8")).toContain("IMAGE_REF=localhost/bootsmith/graph-child-ok:1");
    expect(JSON.parse(readFileSync(path.join(project, "artifacts/graph-child-ok/1/manifest.json"), "utf8"))).toMatchObject({ name: "graph-child-ok" });
    expect(readFileSync(path.join(project, "artifacts/graph-child-ok/1/junit.xml"), "utf8")).toContain(
      '<testcase classname="graph-child-ok:1" name="command-1: Run: mark"',
    );
  });

  it("a recipe with arches: both architectures' jobs, then the join writes the combined manifest and publishes once", { timeout: 600_000 }, async () => {
    await addAarch64Packages(repo);
    const project = path.join(work, "multi");
    const published = path.join(work, "multi-published");
    mkdirSync(path.join(project, "recipes"), { recursive: true });
    writeFileSync(
      path.join(project, "recipes", `${MULTI}.yaml`),
      fixtureRecipe({
        name: MULTI,
        packageGroups: [],
        install: ["fixture-base", "fixture-kernel", "fixture-dracut"],
        keys: { arches: ["x86_64", "aarch64"], publish: [{ type: "local", dir: published }] },
      }),
    );
    const run = await generateAndRun(project, []);
    const out = run.all ?? "";
    expect(run.exitCode, out).toBe(0);
    expect(out).toMatch(new RegExp(`PASS\\s+build:${MULTI}@x86_64`));
    expect(out).toMatch(new RegExp(`PASS\\s+build:${MULTI}@aarch64`));
    expect(out).toMatch(new RegExp(`PASS\\s+join:${MULTI}`));
    // The join started after both architectures finished (needs:), and only it published.
    const joinStarted = out.search(new RegExp(`join:${MULTI}\\s+starting`));
    expect(joinStarted, out).toBeGreaterThan(-1);
    for (const arch of ["x86_64", "aarch64"]) {
      const finished = out.search(new RegExp(`build:${MULTI}@${arch}\\s+finished`));
      expect(finished, out).toBeGreaterThan(-1);
      expect(finished).toBeLessThan(joinStarted);
    }
    const combined = JSON.parse(readFileSync(path.join(published, MULTI, "1", "manifest.json"), "utf8")) as MultiArchManifest;
    expect(combined).toMatchObject({ kind: "multi-arch", name: MULTI });
    expect(Object.keys(combined.arches).sort()).toEqual(["aarch64", "x86_64"]);
    for (const arch of ["x86_64", "aarch64"]) expect(existsSync(path.join(published, MULTI, "1", arch, "rootfs.squashfs"))).toBe(true);
    // The join job's artifacts, collected back as GitLab would keep them.
    expect(JSON.parse(readFileSync(path.join(project, "artifacts", MULTI, "1", "manifest.json"), "utf8"))).toEqual(combined);
  });
});

/**
 * `ci gitlab recipes` in `project`, committed with its recipes (gitlab-ci-local reads the git
 * tree), then run by gitlab-ci-local on this host. Shared storage: the runner is this host, so a
 * job finds the images earlier jobs committed in place.
 */
async function generateAndRun(project: string, extra: readonly string[]) {
  const generated = await bootsmith(
    ["ci", "gitlab", "recipes", "--var", `REPO_URL=${repo.baseurl}`, "--bootsmith", `node ${CLI}`, "--image", "unused:1", ...extra],
    {
      cwd: project,
    },
  );
  expect(generated.exitCode, generated.stderr).toBe(0);
  writeFileSync(path.join(project, "child.yml"), generated.stdout);
  const git = (...args: string[]) => execa("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "recipes and child pipeline");
  return execa(
    GCL,
    [
      "--file",
      "child.yml",
      "--force-shell-executor",
      "--shell-isolation",
      "--variable",
      "BOOTSMITH_SHARED_STORAGE=1",
      "--variable",
      `BOOTSMITH_WORK_DIR=${path.join(work, "work")}`,
    ],
    { cwd: project, reject: false, all: true, env: { CI: "" } },
  );
}
