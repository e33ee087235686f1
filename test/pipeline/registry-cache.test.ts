// --check-registry: a parent built and pushed "on another runner" (here: built, pushed to a local
// docker-registry, then its local image and output directory forgotten) counts as up to date from
// the registry's input-digest label, and is pulled by digest when its child is built here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { freePort } from "../publish/support/ceph.js";
import { run } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";

const IMAGES = ["graph-base:1", "graph-child-ok:1"];
let work: string;
let recipes: string;
let repo: FixtureRepo;
let registry: string;
let env: Record<string, string>;
const stopRegistry = new AbortController();
let registryExit: Promise<unknown> | undefined;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-regcache-"));
  recipes = path.join(work, "recipes");
  mkdirSync(recipes);
  const fixtures = path.join(REPO_ROOT, "test/fixtures/graph");
  copyFileSync(path.join(fixtures, "base.conf"), path.join(recipes, "base.conf"));
  writeFileSync(
    path.join(recipes, "base.yaml"),
    readFileSync(path.join(fixtures, "base.yaml"), "utf8") + "publish:\n  - type: registry\n    repository: ${REGISTRY}/graph/base\n    tlsVerify: false\n",
  );
  writeFileSync(
    path.join(recipes, "child-ok.yaml"),
    "name: graph-child-ok\ntags: ['1']\nfrom:\n  recipe: base.yaml\ncommands:\n  - script: echo ok > /etc/graph/child-ok\nboot: false\n",
  );
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);

  registry = `127.0.0.1:${await freePort()}`;
  const config = path.join(work, "registry.yml");
  writeFileSync(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(work, "registry")}\nhttp:\n  addr: ${registry}\nlog:\n  level: warn\n`,
  );
  registryExit = run({ file: "docker-registry", args: ["serve", config] }, { step: "test", reporter: silentReporter, signal: stopRegistry.signal }).catch(
    (e: unknown) => e,
  );
  for (
    let i = 0;
    !(await fetch(`http://${registry}/v2/`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i >= 100) throw new Error(`docker-registry did not answer on ${registry} within 10 s`);
    await delay(100);
  }
  await removeImages(IMAGES);
}, 300_000);

afterAll(async () => {
  stopRegistry.abort();
  await registryExit;
  await removeImages(IMAGES);
  // The parent pulled by digest keeps its registry name without a tag: remove it by id.
  const { stdout } = await execa("buildah", ["images", "--format", "{{.Name}} {{.ID}}"], { reject: false });
  for (const line of String(stdout).split("\n")) {
    const [name, id] = line.trim().split(/\s+/);
    if (name?.startsWith(`${registry}/`) && id) await execa("buildah", ["rmi", "-f", id], { reject: false });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

const build = (out: string, ...extra: string[]) =>
  bootsmith(
    ["build", recipes, "--var", `REPO_URL=${repo.baseurl}`, "--var", `REGISTRY=${registry}`, "--out", path.join(work, out), "--progress", "plain", ...extra],
    { env, cwd: work },
  );

describe("bootsmith build --check-registry", () => {
  it("a parent pushed elsewhere is up to date from its label, and pulled by digest for its child", { timeout: 600_000 }, async () => {
    const first = await build("runner-1", "--only", "graph-base");
    expect(first.exitCode, first.stderr).toBe(0);
    const pushed = (
      JSON.parse(readFileSync(path.join(work, "runner-1/graph-base/1/manifest.json"), "utf8")) as { image: { pushed?: { ref: string; digest: string }[] } }
    ).image.pushed;
    expect(pushed?.[0]?.ref).toBe(`${registry}/graph/base:1`);

    // "Another runner": no local image, no output directory.
    await execa("buildah", ["rmi", "-f", "localhost/bootsmith/graph-base:1"]);
    const explain = await build("runner-2", "--check-registry", "--explain");
    expect(explain.exitCode, explain.stderr).toBe(0);
    expect(explain.stdout).toMatch(
      new RegExp(`graph-base \\(.*\\): up to date\\n {2}up to date in the registry: ${registry.replace(/\./g, "\\.")}/graph/base:1 \\(sha256:`),
    );
    expect(explain.stdout).toMatch(/graph-child-ok \(.*\): rebuild\n {2}never built here/);
    // Without --check-registry the parent would be rebuilt.
    expect((await build("runner-2", "--explain")).stdout).toContain("2 of 2 recipes would be built");

    const second = await build("runner-2", "--check-registry", "--no-publish");
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain("1 built, 1 up to date, 0 skipped, 0 failed");
    expect(second.stderr).not.toMatch(/^\[graph-base\] \[\d+\/\d+\]/m);
    const { stdout: label } = await execa("buildah", [
      "inspect",
      "--type",
      "image",
      "--format",
      '{{index .OCIv1.Config.Labels "io.bootsmith.input-digest"}}',
      "localhost/bootsmith/graph-base:1",
    ]);
    expect(label.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path.join(work, "runner-2/graph-child-ok/1/build.log"), "utf8")).toContain("--pull=never localhost/bootsmith/graph-base:1");
  });

  it(
    "one file, as the generated GitLab jobs run it: skipped from the registry, and ci dotenv describes the registry's image",
    { timeout: 120_000 },
    async () => {
      const vars = ["--var", `REPO_URL=${repo.baseurl}`, "--var", `REGISTRY=${registry}`];
      const manifest = path.join(work, "runner-3/graph-base/1/manifest.json");
      const single = await bootsmith(
        ["build", path.join(recipes, "base.yaml"), "--if-changed", "--check-registry", ...vars, "--out", path.dirname(manifest), "--progress", "plain"],
        { env, cwd: work },
      );
      expect(single.exitCode, single.stderr).toBe(0);
      expect(single.stderr).toMatch(/^graph-base: skipped: up to date in the registry: /);
      const dotenv = await bootsmith(["ci", "dotenv", manifest, "--recipe", path.join(recipes, "base.yaml"), ...vars], { env, cwd: work });
      expect(dotenv.exitCode, dotenv.stderr).toBe(0);
      expect(dotenv.stdout).toMatch(
        new RegExp(`^IMAGE_REF=${registry}/graph/base:1\nIMAGE_DIGEST=sha256:[0-9a-f]{64}\nIMAGE_PULL_REF=${registry}/graph/base@sha256:[0-9a-f]{64}\n`),
      );
      // Without the recipe (or with a key the registry lacks) a missing manifest is an error.
      expect((await bootsmith(["ci", "dotenv", manifest], { env, cwd: work })).exitCode).toBe(1);
    },
  );
});
