// An extra apt repository signed by a key file, from scratch (mmdebstrap) and on a child layer,
// for real: a local repository signed with a throwaway key, served on 127.0.0.1. mmdebstrap runs
// apt on the host and reads the key where the recipe has it; what stays in the image must name
// the key's copy inside the image (/etc/apt/keyrings/bootsmith-<repo>.asc), or apt-get update in
// a child layer or on the booted node cannot verify the repository. The child below installs
// from the repository with apt-get inside the base image, on the sources the base left.
//
// A minbase bookworm without kernel from the host's apt sources (package cache at its default, so
// the main job's downloads are reused) and a child: about 1-2 minutes on 2 cores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";
import { removeImages } from "../support/fixture-build.js";
import { buildAptRepo, type AptRepo } from "../support/apt-repo.js";
import { withImageRoot } from "../support/host-links.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { hostAptSources } from "../../src/builder/options.js";

const IMAGES = ["test-deb-apt-key-base:1", "test-deb-apt-key-child:1"];
const BUILD_TIMEOUT = 900_000;

let work: string;
let recipes: string;
let repo: AptRepo;
let server: StaticServer;
let build: { exitCode: number; stdout: string; stderr: string };

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-apt-keys-"));
  recipes = path.join(work, "recipes");
  mkdirSync(recipes);
  repo = await buildAptRepo(path.join(work, "repo"), ["bootsmith-fixture-base", "bootsmith-fixture-child"]);
  server = await startStaticServer({ root: repo.dir });
  // The key beside the recipe, named by a recipe-relative path as users do.
  copyFileSync(repo.publicKey, path.join(recipes, "site.asc"));
  // A recipe naming repositories gets no host sources by default: Debian comes from the host's
  // own sources file, given as the mirror (no mirror host written here).
  const debian = hostAptSources()[0];
  if (debian === undefined) throw new Error("the host has no apt sources file for Debian bookworm");
  writeFileSync(
    path.join(recipes, "base.yaml"),
    [
      "name: test-deb-apt-key-base",
      'tags: ["1"]',
      "from: scratch",
      "packages:",
      "  manager: apt",
      "  release: bookworm",
      `  options: {mirror: ${JSON.stringify(debian)}}`,
      `  repos: [{name: site, baseurl: ${JSON.stringify(`${server.url}/`)}, suite: ${repo.suite}, components: [main], gpgkey: site.asc}]`,
      "  install: [bootsmith-fixture-base]",
      "boot: false",
      "",
    ].join("\n"),
  );
  writeFileSync(
    path.join(recipes, "child.yaml"),
    [
      "name: test-deb-apt-key-child",
      'tags: ["1"]',
      "from: {recipe: base.yaml}",
      "packages:",
      "  manager: apt",
      "  install: [bootsmith-fixture-child]",
      "boot: false",
      "",
    ].join("\n"),
  );
  await removeImages(IMAGES);
  build = await bootsmith(["build", path.join(recipes, "child.yaml"), "--out", path.join(work, "out"), "--no-publish", "--progress", "plain", "--commit-all"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work") },
    timeoutMs: BUILD_TIMEOUT,
  });
}, BUILD_TIMEOUT);

afterAll(async () => {
  await server?.close();
  await removeImages(IMAGES);
  rmSync(work, { recursive: true, force: true });
});

describe("an apt repository signed by a key file, from scratch and on a child layer", () => {
  it("builds the base (mmdebstrap installs from the signed repository) and the child (apt-get update and install inside the base)", () => {
    expect(build.exitCode, build.stderr.slice(-6000)).toBe(0);
    expect(build.stderr).toMatch(/^2 built, 0 up to date, 0 skipped, 0 failed in /m);
  });

  it("the base's sources name the key's copy in the image, and no source names a host path", async () => {
    expect(build.exitCode).toBe(0);
    const seen = await withImageRoot(`localhost/bootsmith/${IMAGES[0]}`, (root) => {
      const dir = path.join(root, "etc/apt/sources.list.d");
      const lists = [...(existsSync(path.join(root, "etc/apt/sources.list")) ? ["../sources.list"] : []), ...readdirSync(dir)];
      return {
        files: readdirSync(dir).sort(),
        site: readFileSync(path.join(dir, "site.sources"), "utf8"),
        key: readFileSync(path.join(root, "etc/apt/keyrings/bootsmith-site.asc"), "utf8"),
        all: lists.map((f) => readFileSync(path.join(dir, f), "utf8")).join("\n"),
        installed: existsSync(path.join(root, "usr/share/bootsmith-fixture-base/marker")),
      };
    });
    expect(seen.installed).toBe(true);
    expect(seen.site).toContain("Signed-By: /etc/apt/keyrings/bootsmith-site.asc\n");
    expect(seen.site).toContain(`URIs: ${server.url}/\n`);
    expect(seen.key).toBe(readFileSync(repo.publicKey, "utf8"));
    // The repository once, under its own name; nothing in the sources points into the host's tmp.
    expect(seen.files.filter((f) => f.includes("site"))).toEqual(["site.sources"]);
    expect(seen.all).not.toContain(work);
  });

  it("the child installed from the repository through the base's sources and key", async () => {
    expect(build.exitCode).toBe(0);
    const installed = await withImageRoot(`localhost/bootsmith/${IMAGES[1]}`, (root) =>
      existsSync(path.join(root, "usr/share/bootsmith-fixture-child/marker")),
    );
    expect(installed).toBe(true);
  });
});
