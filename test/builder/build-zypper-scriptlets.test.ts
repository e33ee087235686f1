// A package whose %post fails, installed by the host's zypper from scratch (real buildah, zypper,
// rpm): rpm installs it anyway and zypper says so with its exit code 107 ("a %post script
// failed, the package manager went on") and rpm's line under "Additional rpm output:". The
// build ends as dnf's does (f8388e4): built, with a warning naming the scriptlet, the package
// and the exit status, not "zypper exited with code 107" with nothing said.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { addPostFailPackage, buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, readManifest, removeImages } from "../support/fixture-build.js";

let work: string;
let repo: FixtureRepo;
let nvra: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-zypper-scriptlets-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  nvra = await addPostFailPackage(repo);
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-zypper-postfail:1"]);
  rmSync(work, { recursive: true, force: true });
});

describe("zypper: a package scriptlet that fails", () => {
  it("is a warning naming the scriptlet, the package and its exit status; the build goes on", { timeout: 300_000 }, async () => {
    const recipe = path.join(work, "postfail.yaml");
    writeFileSync(
      recipe,
      [
        "name: fixture-zypper-postfail",
        'tags: ["1"]',
        "from: scratch",
        "packages:",
        "  manager: zypper",
        `  repos: [{name: fixture, baseurl: ${JSON.stringify(repo.baseurl)}, gpgcheck: false}]`,
        "  install: [fixture-base, fixture-postfail]",
        "boot: false",
        "",
      ].join("\n"),
    );
    const out = path.join(work, "out");
    const result = await bootsmith(["build", recipe, "--out", out, "--progress", "plain"], { env: buildEnv(work) });
    expect(result.exitCode, result.stderr.slice(-4000)).toBe(0);
    expect(result.stderr).toContain(
      `%post scriptlet of ${nvra} failed (exit status 7); the package manager went on, so the package is installed without what that scriptlet does (its output is in build.log)`,
    );
    // Installed (rpm's semantics), so it is in the image's package list.
    expect(readManifest(out).packages.map((p) => p.name)).toContain("fixture-postfail");
    expect(existsSync(path.join(out, "manifest.json"))).toBe(true);
  });
});
