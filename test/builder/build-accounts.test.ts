// Users and groups with fixed ids in a real dnf build from scratch (fixture RPM repository, real
// buildah, dnf and mksquashfs): the ids are in the squashfs's /etc/passwd and /etc/group, they
// went in before the recipe's packages, and an id the base already uses stops the build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import { snapshotHost } from "../support/leaks.js";

const RECIPES = path.join(REPO_ROOT, "test/fixtures/build");
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-accounts-build-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-accounts:1", "fixture-accounts-clash:1"]);
  rmSync(work, { recursive: true, force: true });
});

async function catInSquashfs(squashfs: string, file: string): Promise<string> {
  const { stdout } = await execa("unsquashfs", ["-cat", squashfs, file]);
  return stdout;
}

describe("users and groups with fixed ids (dnf from scratch)", () => {
  it("creates them after the base that owns /etc/passwd and before the recipe's packages", async () => {
    const { stdout, exitCode } = await bootsmith(["plan", path.join(RECIPES, "fixture-accounts.yaml"), "--var", `REPO_URL=${repo.baseurl}`], { env });
    expect(exitCode).toBe(0);
    const order = [...stdout.matchAll(/^# \[\d+\/\d+\] ([a-z-]+):/gm)].map((m) => m[1]);
    expect(order.indexOf("install-account-files")).toBeLessThan(order.indexOf("create-accounts"));
    expect(order.indexOf("create-accounts")).toBeLessThan(order.indexOf("install-packages"));
    expect(stdout).toContain("install /etc/passwd /etc/group");
  });

  it("puts the fixed ids into the squashfs's /etc/passwd and /etc/group", { timeout: 300_000 }, async () => {
    const out = path.join(work, "out-accounts");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-accounts.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const squashfs = path.join(out, "rootfs.squashfs");
    const passwd = (await catInSquashfs(squashfs, "etc/passwd")).split("\n");
    const group = (await catInSquashfs(squashfs, "etc/group")).split("\n");
    // root comes from fixture-base (the package providing /etc/passwd), untouched.
    expect(passwd).toContain("root:x:0:0:root:/root:/bin/sh");
    expect(passwd).toContain("munge:x:991:991:MUNGE Uid N Gid Emporium:/var/lib/munge:/usr/sbin/nologin");
    expect(passwd).toContain("slurm:x:992:992::/var/lib/slurm:/usr/sbin/nologin");
    expect(passwd).toContain("alice:x:5001:5001::/home/alice:/bin/sh");
    expect(group).toEqual(expect.arrayContaining(["root:x:0:", "munge:x:991:", "slurm:x:992:", "hpcusers:x:5000:alice", "alice:x:5001:"]));
    // The packages after the accounts installed (the recipe's kernel, fixture-hello's scriptlet).
    const { stdout: listing } = await execa("unsquashfs", ["-lc", "-d", "", squashfs]);
    expect(listing.split("\n")).toContain("/var/lib/fixture/post-ran");
  });

  it("stops with exit 1 naming both sides when an id is already the base's, leaving nothing behind", { timeout: 300_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-accounts-clash-");
    const out = path.join(work, "out-clash");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-accounts-clash.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("user admin uid 0 (users[0] of the recipe) clashes with user root uid 0 already in the image's base packages");
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-accounts-clash-")).toEqual(before);
  });
});
