// Users and groups with fixed ids in a real dnf build from scratch (fixture RPM repository, real
// buildah, dnf and mksquashfs): the ids are in the squashfs's /etc/passwd and /etc/group, they
// went in before the recipe's packages, and an id the base already uses stops the build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, removeImages } from "../support/fixture-build.js";
import { snapshotHost } from "../support/leaks.js";

let work: string;
/** fixture-base provides /etc/passwd and /etc/group (like EL's setup package); the accounts go in before the packages. */
let accounts: string;
/** uid 0 is root's in the base, so this user must stop the build (exit 1) naming both. */
let clash: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-accounts-build-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  accounts = path.join(work, "fixture-accounts.yaml");
  writeFileSync(
    accounts,
    fixtureRecipe({
      name: "fixture-accounts",
      keys: {
        groups: [
          { name: "munge", gid: 991, system: true },
          { name: "slurm", gid: 992, system: true },
          { name: "hpcusers", gid: 5000 },
        ],
        users: [
          { name: "munge", uid: 991, group: "munge", home: "/var/lib/munge", system: true, comment: "MUNGE Uid N Gid Emporium" },
          { name: "slurm", uid: 992, group: "slurm", home: "/var/lib/slurm", system: true },
          { name: "alice", uid: 5001, groups: ["hpcusers"], shell: "/bin/sh" },
        ],
      },
    }),
  );
  clash = path.join(work, "fixture-accounts-clash.yaml");
  writeFileSync(
    clash,
    fixtureRecipe({ name: "fixture-accounts-clash", install: [], boot: false, keys: { users: [{ name: "admin", uid: 0, group: "root" }] } }),
  );
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
    const { stdout, exitCode } = await bootsmith(["plan", accounts, "--var", `REPO_URL=${repo.baseurl}`], { env });
    expect(exitCode).toBe(0);
    const order = [...stdout.matchAll(/^# \[\d+\/\d+\] ([a-z-]+):/gm)].map((m) => m[1]);
    expect(order.indexOf("install-account-files")).toBeLessThan(order.indexOf("create-accounts"));
    expect(order.indexOf("create-accounts")).toBeLessThan(order.indexOf("install-packages"));
    expect(stdout).toContain("install /etc/passwd /etc/group");
  });

  it("puts the fixed ids into the squashfs's /etc/passwd and /etc/group", { timeout: 300_000 }, async () => {
    const out = path.join(work, "out-accounts");
    const result = await bootsmith(["build", accounts, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"], { env });
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
    const result = await bootsmith(["build", clash, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("user admin uid 0 (users[0] of the recipe) clashes with user root uid 0 already in the image's base packages");
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-accounts-clash-")).toEqual(before);
  });
});
