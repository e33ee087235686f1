// dnf's package cache between builds: the host install keeps what it downloaded in the cache
// directory (keepcache), so a rebuild downloads no package the cache holds. Real buildah, host
// dnf and the fixture RPM repository, served over HTTP on 127.0.0.1 (bootsmith's own static
// server, which reports each request): dnf copies nothing from a file:// repository into its
// cache, so only a repository reached over the network shows it. The repository is signed and the
// recipe names its key: a warm cache must not let a package past another key (dnf checks every
// package of a transaction, cached or downloaded; libzypp does not, so zypper keeps no cache).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, writeForeignKey, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, readManifest, removeImages } from "../support/fixture-build.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/build");
let work: string;
/** fixture-live.yaml with the repository's signing key named (REPO_KEY). */
let recipe: string;
let repo: FixtureRepo;
let server: StaticServer;
/** Paths the server answered, in order. */
const requests: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-dnf-cache-"));
  repo = await buildFixtureRepo(path.join(work, "repo"), { signed: true });
  recipe = path.join(work, "recipes", "fixture-live.yaml");
  const text = readFileSync(path.join(FIXTURES, "fixture-live.yaml"), "utf8").replace(
    "baseurl: ${REPO_URL}",
    "baseurl: ${REPO_URL}\n      gpgkey: ${REPO_KEY}",
  );
  mkdirSync(path.dirname(recipe));
  writeFileSync(recipe, text);
  copyFileSync(path.join(FIXTURES, "site.conf"), path.join(work, "recipes", "site.conf"));
  server = await startStaticServer({ root: repo.dir, onRequest: (r) => requests.push(r.path) });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

/** Build with --force (the second build is up to date otherwise): graph mode, <out>/<name>/<tag>. */
async function build(out: string, key = repo.gpgKey ?? ""): Promise<{ exitCode: number; stderr: string; downloaded: string[] }> {
  const before = requests.length;
  const vars = ["--var", `REPO_URL=${server.url}`, "--var", `REPO_KEY=${key}`];
  const args = ["build", recipe, ...vars, "--out", path.join(work, out), "--no-publish", "--progress", "plain", "--force"];
  const result = await bootsmith(args, { env: buildEnv(work) });
  return { exitCode: result.exitCode, stderr: result.stderr, downloaded: requests.slice(before).filter((p) => p.endsWith(".rpm")) };
}

const artifacts = (out: string) => path.join(work, out, "fixture-live", "1");

describe("dnf package cache", () => {
  it("downloads every package once; a rebuild takes them from the cache", async () => {
    const first = await build("first");
    expect(first.exitCode, first.stderr).toBe(0);
    const installed = readManifest(artifacts("first")).packages.map((p) => `${p.name}-${p.version}-${p.release}.${p.arch}.rpm`);
    expect(first.downloaded.map((p) => path.basename(p)).sort()).toEqual([...installed].sort());
    const cached = readdirSync(path.join(work, "cache", "dnf"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".rpm"));
    expect(cached.map((f) => path.basename(f)).sort()).toEqual([...installed].sort());

    const second = await build("second");
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.downloaded).toEqual([]);
    expect(readManifest(artifacts("second")).packages).toEqual(readManifest(artifacts("first")).packages);
  }, 300_000);

  it("a warm cache lets no package past another signing key: the build fails", async () => {
    const foreign = path.join(work, "foreign.asc");
    await writeForeignKey(foreign);
    const refused = await build("foreign", foreign);
    expect(refused.exitCode).toBe(1);
    expect(refused.downloaded).toEqual([]); // every package came from the cache, and was checked there
    expect(refused.stderr).toMatch(/Public key for fixture-\S+\.rpm is not installed/);
  }, 300_000);
});
