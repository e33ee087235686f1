// `bootsmith lock` and `bootsmith build --locked` with real buildah and dnf against the fixture
// RPM repository: lock after a build, --locked passes while nothing changed, and a lock file
// that differs (a version edited) fails the build with exit 1, the package named, and nothing
// published (the recipe has a local publish target).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import type { LockFile } from "../../src/pipeline/lockfile.js";
import { buildEnv, fixtureRecipe, removeImages } from "../support/fixture-build.js";

const IMAGES = ["lock-base:1", "lock-child:1"];
let work: string;
let recipes: string;
let out: string;
let pub: string;
let repo: FixtureRepo;
let env: Record<string, string>;

/** lock-base from scratch (fixture-minimal only), or a child on it adding fixture-hello with the host's dnf. */
const recipeText = (name: string, parent: string | undefined, publishDir: string) =>
  fixtureRecipe({
    name,
    ...(parent ? { from: { recipe: parent }, packageGroups: [], install: ["fixture-hello"], packageOptions: { installer: "host" } } : { install: [] }),
    boot: false,
    keys: { publish: [{ type: "local", dir: publishDir }] },
  });

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-lock-"));
  recipes = path.join(work, "recipes");
  out = path.join(work, "out");
  pub = path.join(work, "published");
  mkdirSync(recipes);
  writeFileSync(path.join(recipes, "lock-base.yaml"), recipeText("lock-base", undefined, pub));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  await removeImages(IMAGES);
}, 300_000);

afterAll(async () => {
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

const lockFile = () => path.join(recipes, "lock-base.lock.json");
const outDir = () => path.join(out, "lock-base");
const published = () => path.join(pub, "lock-base", "1", "manifest.json");
const vars = () => ["--var", `REPO_URL=${repo.baseurl}`];
const build = (...extra: string[]) =>
  bootsmith(["build", "recipes/lock-base.yaml", ...vars(), "--out", outDir(), "--progress", "plain", ...extra], { env, cwd: work });
const lock = (...extra: string[]) => bootsmith(["lock", "recipes/lock-base.yaml", ...vars(), "--out", outDir(), ...extra], { env, cwd: work });
const readLock = () => JSON.parse(readFileSync(lockFile(), "utf8")) as LockFile;

describe("bootsmith lock / build --locked", () => {
  it("without a build or a lock file: exit 2 with the command to run", async () => {
    const noBuild = await lock();
    expect(noBuild.exitCode, noBuild.stderr).toBe(2);
    expect(noBuild.stderr).toMatch(/no build to lock: .*manifest\.json does not exist; build it first: bootsmith build recipes\/lock-base\.yaml --out /);
    const noLock = await build("--locked");
    expect(noLock.exitCode, noLock.stderr).toBe(2);
    expect(noLock.stderr).toContain(
      "--locked: no lock file recipes/lock-base.lock.json; build the recipe and write one with: bootsmith lock recipes/lock-base.yaml",
    );
    expect(existsSync(path.join(outDir(), "build.log"))).toBe(false); // nothing was started
  });

  it("locks the packages of the last build", { timeout: 300_000 }, async () => {
    const built = await build("--no-publish");
    expect(built.exitCode, built.stderr).toBe(0);
    const result = await lock();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^lock-base: wrote recipes\/lock-base\.lock\.json: \d+ packages from .*manifest\.json \(built /);
    const content = readLock();
    const manifest = JSON.parse(readFileSync(path.join(outDir(), "manifest.json"), "utf8")) as { inputDigest: string; packages: unknown[] };
    expect(content).toMatchObject({ lockVersion: 1, recipe: "lock-base", inputDigest: manifest.inputDigest });
    expect(content.packages).toHaveLength(manifest.packages.length);
    expect(content.packages).toContainEqual({ name: "fixture-hello", version: "2.1", release: "3.fx", arch: "noarch" });
    const names = content.packages.map((p) => p.name);
    expect(names).toEqual([...names].sort());
  });

  it("--locked builds and publishes when the packages match the lock file", { timeout: 300_000 }, async () => {
    const result = await build("--locked");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(published())).toBe(true);
  });

  it("--locked fails on drift: exit 1, the package named, nothing committed or published", { timeout: 300_000 }, async () => {
    rmSync(pub, { recursive: true, force: true });
    const manifestBefore = readFileSync(path.join(outDir(), "manifest.json"));
    const { stdout: imageBefore } = await execa("buildah", ["inspect", "--type", "image", "--format", "{{.FromImageID}}", "localhost/bootsmith/lock-base:1"]);
    const edited = readLock();
    writeFileSync(
      lockFile(),
      JSON.stringify({ ...edited, packages: edited.packages.map((p) => (p.name === "fixture-hello" ? { ...p, version: "2.0" } : p)) }, null, 2),
    );

    const result = await build("--locked");
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("--locked: the packages of lock-base differ from recipes/lock-base.lock.json:");
    expect(result.stderr).toContain("changed fixture-hello.noarch 2.0-3.fx (locked) → 2.1-3.fx (built)");
    expect(result.stderr).toContain("Nothing was published or registered.");
    expect(result.stderr).toContain("then bootsmith lock recipes/lock-base.yaml");
    // The failure came right after the package list: no squashfs, commit, manifest or publish step ran.
    const whole = readFileSync(path.join(outDir(), "build.log"), "utf8");
    const log = whole.slice(whole.lastIndexOf(" INFO building ")); // build.log is appended to: this build's part
    expect(log).toContain("list-packages");
    expect(log).not.toMatch(/publish-1-local|buildah[^\n]* commit /);
    expect(existsSync(published())).toBe(false);
    // The previous build's artifacts are back as they were, the drifted build's are gone.
    expect(readFileSync(path.join(outDir(), "manifest.json")).equals(manifestBefore)).toBe(true);
    const { stdout: imageAfter } = await execa("buildah", ["inspect", "--type", "image", "--format", "{{.FromImageID}}", "localhost/bootsmith/lock-base:1"]);
    expect(imageAfter).toBe(imageBefore);
    // No leftover working container.
    const { stdout: containers } = await execa("buildah", ["containers", "--format", "{{.ContainerName}}"]);
    expect(containers).not.toContain("bootsmith-lock-base-");
  });

  it("graph mode: --locked fails the drifted recipe and skips its child; a missing lock file is exit 2", { timeout: 300_000 }, async () => {
    writeFileSync(path.join(recipes, "lock-child.yaml"), recipeText("lock-child", "lock-base.yaml", pub));
    const graph = (...extra: string[]) => bootsmith(["build", "recipes", ...vars(), "--out", out, "--progress", "plain", ...extra], { env, cwd: work });
    const missing = await graph("--locked", "--force");
    expect(missing.exitCode, missing.stderr).toBe(2);
    expect(missing.stderr).toContain("--locked: no lock file recipes/lock-child.lock.json");
    writeFileSync(path.join(recipes, "lock-child.lock.json"), JSON.stringify({ lockVersion: 1, recipe: "lock-child", packages: [] }));

    const result = await graph("--locked", "--force");
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^\[lock-base\] +changed fixture-hello\.noarch 2\.0-3\.fx \(locked\) → 2\.1-3\.fx \(built\)$/m);
    expect(result.stderr).toMatch(/lock-child\s+skipped/);
    expect(existsSync(published())).toBe(false);
  });
});
