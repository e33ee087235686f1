// A site's own buildah storage (BOOTSMITH_STORAGE_ROOT, as GitLab runners and head nodes with a
// data disk set it), through the CLI with real buildah and dnf: every command that touches the
// build's image works on the storage the build used, with the same root, run root and driver
// (c/storage keeps mount and lock state in the run root: one graph root, one run root). A
// wrapper named buildah, first on PATH, logs each call's arguments and runs the real one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, readManifest } from "../support/fixture-build.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";

const name = `storage-root-${randomBytes(3).toString("hex")}`;
let work: string;
let repo: FixtureRepo;
let registry: TestRegistry;
let storage: string;
let recipe: string;
let callLog: string;
let env: Record<string, string>;
/** The build's buildah global options, as build.log shows them. */
let built: { root: string; runRoot: string; driver: string };
const out = () => path.join(work, "out");

/** The logged buildah calls since `from` (a line count), as argument strings. */
function callsSince(from: number): string[] {
  return readFileSync(callLog, "utf8").split("\n").filter(Boolean).slice(from);
}
const callCount = () => callsSince(0).length;
const storageOf = (s: { root: string; runRoot: string; driver: string }) => `--root ${s.root} --runroot ${s.runRoot} --storage-driver ${s.driver}`;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-storage-root-"));
  storage = path.join(work, "site-storage");
  repo = await buildFixtureRepo(path.join(work, "repo"));
  registry = await startRegistry(work);
  const bin = path.join(work, "bin");
  mkdirSync(bin);
  callLog = path.join(work, "buildah-calls");
  writeFileSync(callLog, "");
  const real = (await execa("sh", ["-c", "command -v buildah"])).stdout.trim();
  writeFileSync(path.join(bin, "buildah"), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${callLog}\nexec ${real} "$@"\n`);
  chmodSync(path.join(bin, "buildah"), 0o755);
  recipe = path.join(work, `${name}.yaml`);
  writeFileSync(recipe, fixtureRecipe({ name, baseurl: repo.baseurl }));
  const base = buildEnv(work);
  env = { ...base, PATH: `${bin}:${base.PATH}`, BOOTSMITH_STORAGE_ROOT: storage };

  const result = await bootsmith(["build", recipe, "--out", out(), "--no-publish", "--progress", "plain"], { env });
  expect(result.exitCode, result.stderr).toBe(0);
  const log = readFileSync(path.join(out(), "build.log"), "utf8");
  const match = /buildah --root (\S+) --runroot (\S+) --storage-driver (\S+) from /.exec(log);
  expect(match, log).not.toBeNull();
  built = { root: match![1]!, runRoot: match![2]!, driver: match![3]! };
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  if (built) {
    await execa("buildah", ["--root", built.root, "--runroot", built.runRoot, "--storage-driver", built.driver, "rmi", "--all", "--force"], { reject: false });
    rmSync(built.runRoot, { recursive: true, force: true });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("BOOTSMITH_STORAGE_ROOT", () => {
  it("the build uses that root with its own run root, and --if-changed decides on the same storage", { timeout: 120_000 }, async () => {
    expect(built.root).toBe(storage);
    expect(built.runRoot).toMatch(/^\/run\/bootsmith\/runroot-[0-9a-f]{12}$/);
    // `bootsmith plan` shows the storage the build used.
    const plan = await bootsmith(["plan", recipe, "--no-publish"], { env });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`buildah ${storageOf(built)} from `);

    const from = callCount();
    const again = await bootsmith(["build", recipe, "--out", out(), "--no-publish", "--if-changed"], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${name}: skipped`);
    const decisions = callsSince(from).filter((c) => / (images|inspect) /.test(c));
    expect(decisions.length).toBeGreaterThan(0);
    for (const call of decisions) expect(call.startsWith(`${storageOf(built)} `), call).toBe(true);
  });

  it("a plain `bootsmith publish DIR --to registry:…` pushes the image from the build's storage", { timeout: 120_000 }, async () => {
    const repository = `${registry.address}/bootsmith/${name}`;
    const from = callCount();
    const result = await bootsmith(["publish", out(), "--to", `registry:${repository}`, "--tls-verify=false"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const pushed = readManifest(out()).image.pushed ?? [];
    expect(pushed.map((p) => p.ref)).toEqual([`${repository}:1`]);
    const remote = JSON.parse((await execa("skopeo", ["inspect", "--tls-verify=false", `docker://${repository}:1`])).stdout) as { Digest: string };
    expect(remote.Digest).toBe(pushed[0]!.digest);
    for (const call of callsSince(from).filter((c) => / push /.test(c))) expect(call.startsWith(`${storageOf(built)} `), call).toBe(true);
  });

  it("`--root DIR` without --runroot gets the run root the build used for DIR", { timeout: 120_000 }, async () => {
    const { BOOTSMITH_STORAGE_ROOT: _unset, ...plain } = env;
    const repository = `${registry.address}/bootsmith/${name}-flags`;
    const from = callCount();
    const result = await bootsmith(["publish", out(), "--to", `registry:${repository}`, "--tls-verify=false", "--root", storage], { env: plain });
    expect(result.exitCode, result.stderr).toBe(0);
    const pushes = callsSince(from).filter((c) => / push /.test(c));
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.startsWith(`${storageOf(built)} push `), pushes[0]).toBe(true);
  });

  it("export --with-image and artifacts remove-superseded read the build's storage too", { timeout: 120_000 }, async () => {
    const bundle = path.join(work, "bundle.tar");
    const exported = await bootsmith(["export", out(), "--with-image", "-o", bundle], { env });
    expect(exported.exitCode, exported.stderr).toBe(0);
    const listed = (await execa("tar", ["-tf", bundle])).stdout.split("\n");
    expect(listed).toContain("image/index.json");

    const from = callCount();
    const tidy = await bootsmith(["artifacts", "remove-superseded", name], { env });
    expect(tidy.exitCode, tidy.stderr).toBe(0);
    const calls = callsSince(from);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.startsWith(`${storageOf(built)} `), call).toBe(true);
  });

  it("a storage root no build has used: publish says it holds no images, remove-superseded has nothing to do, the root stays empty", async () => {
    const unused = path.join(work, "unused-storage");
    mkdirSync(unused);
    const unusedEnv = { ...env, BOOTSMITH_STORAGE_ROOT: unused };
    const from = callCount();
    const published = await bootsmith(["publish", out(), "--to", `registry:${registry.address}/bootsmith/${name}-unused`, "--tls-verify=false"], {
      env: unusedEnv,
    });
    expect(published.exitCode).toBe(2);
    expect(published.stderr).toContain(`${unused} holds no images: no build has used it`);
    const tidy = await bootsmith(["artifacts", "remove-superseded", name], { env: unusedEnv });
    expect(tidy.exitCode, tidy.stderr).toBe(0);
    expect(tidy.stdout).toContain(`no unnamed image of ${name}`);
    // buildah was never asked, so it laid nothing out there for its default driver
    expect(callsSince(from).filter((c) => c.includes(unused))).toEqual([]);
    expect(readdirSync(unused)).toEqual([]);
  });
});
