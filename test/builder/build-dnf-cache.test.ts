// dnf's package cache between builds: the host install keeps what it downloaded in the cache
// directory (keepcache), so a rebuild downloads no package the cache holds. Real buildah, host
// dnf and the fixture RPM repository, served over HTTP on 127.0.0.1 (bootsmith's own static
// server, which reports each request): dnf copies nothing from a file:// repository into its
// cache, so only a repository reached over the network shows it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, readManifest, removeImages } from "../support/fixture-build.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";

const RECIPE = path.join(REPO_ROOT, "test/fixtures/build/fixture-live.yaml");
let work: string;
let repo: FixtureRepo;
let server: StaticServer;
/** Paths the server answered, in order. */
const requests: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-dnf-cache-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  server = await startStaticServer({ root: repo.dir, onRequest: (r) => requests.push(r.path) });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

/** Build with --force (the second build is up to date otherwise): graph mode, <out>/<name>/<tag>. */
async function build(out: string): Promise<string[]> {
  const before = requests.length;
  const args = ["build", RECIPE, "--var", `REPO_URL=${server.url}`, "--out", path.join(work, out), "--no-publish", "--progress", "plain", "--force"];
  const result = await bootsmith(args, { env: buildEnv(work) });
  expect(result.exitCode, result.stderr).toBe(0);
  return requests.slice(before).filter((p) => p.endsWith(".rpm"));
}

const artifacts = (out: string) => path.join(work, out, "fixture-live", "1");

describe("dnf package cache", () => {
  it("downloads every package once; a rebuild takes them from the cache", async () => {
    const first = await build("first");
    const installed = readManifest(artifacts("first")).packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`);
    expect(first.map((p) => path.basename(p)).sort()).toEqual([...installed].sort());
    const cached = readdirSync(path.join(work, "cache", "dnf"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".rpm"));
    expect(cached.map((f) => path.basename(f)).sort()).toEqual([...installed].sort());

    expect(await build("second")).toEqual([]);
    expect(readManifest(artifacts("second")).packages).toEqual(readManifest(artifacts("first")).packages);
  }, 300_000);
});
