// bootsmith build with zypper against real buildah, the host's zypper (Debian 12's) and
// mksquashfs, with the signed fixture RPM repository the tests build (rpmbuild + createrepo_c,
// with a SUSE-style pattern package). Nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, writeForeignKey, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { buildEnv, readManifest, removeImages, squashfsListing } from "../support/fixture-build.js";
import { sharedParent } from "../support/shared-parents.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";

const RECIPES = path.join(REPO_ROOT, "test/fixtures/build");
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let repoVars: string[];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-zypper-"));
  repo = await buildFixtureRepo(path.join(work, "repo"), { signed: true });
  env = buildEnv(work);
  repoVars = ["--var", `REPO_URL=${repo.baseurl}`, "--var", `REPO_KEY=${repo.gpgKey ?? ""}`];
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-zypper:1", "fixture-zypper-child:1", "fixture-zypper-bad:1", "fixture-zypper-in-image:1", "fixture-zypper-remove-needed:1"]);
  rmSync(work, { recursive: true, force: true });
});

/** `rpm -qa` of the rpm database inside a squashfs, read through the image's /var/lib/rpm symlink. */
async function rpmQaInSquashfs(file: string, dir: string): Promise<string[]> {
  await execa("unsquashfs", ["-q", "-d", dir, file, "var/lib/rpm", "usr/lib/sysimage/rpm"]);
  const { stdout } = await execa("rpm", [`--root=${dir}`, "--dbpath=/var/lib/rpm", "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\\n"], { env: { HOME: dir } });
  return stdout.split("\n").filter(Boolean).sort();
}

describe("bootsmith build (zypper from scratch, on a parent with the host installer)", () => {
  const out = () => path.join(work, "out-zypper");

  it("installs the pattern and packages with the key in the image's rpm database, and builds the artifacts", { timeout: 300_000 }, async () => {
    const result = await bootsmith(["build", path.join(RECIPES, "fixture-zypper.yaml"), ...repoVars, "--out", out(), "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = readManifest(out());
    expect(manifest.packageManager).toBe("zypper");
    // The pattern pulled in its members and their dependency.
    const names = manifest.packages.map((p) => p.name).sort();
    expect(names).toEqual(["fixture-base", "fixture-dracut", "fixture-hello", "fixture-kernel", "fixture-libgreet", "patterns-fixture-minimal"]);
    expect(manifest.packages.find((p) => p.name === "fixture-hello")).toEqual({
      name: "fixture-hello",
      version: "2.1",
      release: "3.fx",
      arch: "noarch",
      license: "MIT",
      supplier: "bootsmith fixtures",
    });
    // zypper installs the newest kernel package, and the build selects it.
    expect(manifest.kernel?.version).toBe(repo.newestKernel);
    const initramfs = (await listInitramfs(path.join(out(), "initramfs.img"))).entries.map((e) => e.name);
    expect(initramfs).toContain("sbin/livenetroot");

    const squashfs = path.join(out(), "rootfs.squashfs");
    const listing = await squashfsListing(squashfs);
    // The rpm database where SUSE keeps it, reachable as /var/lib/rpm; repo file and key in the image.
    for (const p of [
      "/usr/lib/sysimage/rpm/rpmdb.sqlite",
      "/var/lib/rpm",
      "/etc/zypp/repos.d/fixture.repo",
      "/etc/pki/rpm-gpg/RPM-GPG-KEY-fixture",
      "/var/lib/fixture/post-ran",
      "/etc/motd",
      "/etc/fixture-ran",
      "/var/lib/zypp/AutoInstalled",
    ]) {
      expect(listing, p).toContain(p);
    }
    const { stdout: rpmLink } = await execa("unsquashfs", ["-lls", "-d", "", squashfs, "var/lib/rpm"]);
    expect(rpmLink).toMatch(/\/var\/lib\/rpm -> \.\.\/\.\.\/usr\/lib\/sysimage\/rpm/);
    // zypper's caches, logs and lock, and the @System cache under the host cache path, are gone.
    const cachePath = path.join(env.BOOTSMITH_CACHE_DIR ?? "", "zypp");
    for (const gone of ["/var/cache/zypp", "/var/log/zypp", "/var/log/zypper.log", "/run/zypp.pid", cachePath, "/root/.rpmdb"]) {
      expect(
        listing.some((l) => l === gone || l.startsWith(`${gone}/`)),
        gone,
      ).toBe(false);
    }
    // The image's own copy of the repository points at the key inside the image.
    const { stdout: repoFile } = await execa("unsquashfs", ["-cat", squashfs, "etc/zypp/repos.d/fixture.repo"]);
    expect(repoFile).toContain("gpgcheck=1");
    expect(repoFile).toContain("pkg_gpgcheck=1");
    expect(repoFile).toContain("gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fixture");
    // The database in the squashfs holds the packages and the imported key.
    const qa = await rpmQaInSquashfs(squashfs, path.join(work, "unsquashed"));
    expect(qa).toContain("fixture-hello-2.1-3.fx");
    expect(qa.some((n) => n.startsWith(`gpg-pubkey-${repo.gpgKeyId}-`))).toBe(true);
    // zypper's log went to the work directory, not to the host's /var/log.
    const log = readFileSync(path.join(out(), "build.log"), "utf8");
    expect(log).toContain("ZYPP_LOGFILE=");
    expect(log).toContain("'pattern() = fixture-minimal'");
    expect(log).toContain("--no-recommends");
    expect(log).not.toContain("--gpg-auto-import-keys");
  });

  it("builds a child layer with the host's zypper on the parent's rpm database", { timeout: 300_000 }, async () => {
    const childOut = path.join(work, "out-zypper-child");
    const result = await bootsmith(["build", path.join(RECIPES, "fixture-zypper-child.yaml"), ...repoVars, "--out", childOut, "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = readManifest(childOut);
    expect(manifest.base).toMatchObject({ kind: "recipe", name: "fixture-zypper", ref: "localhost/bootsmith/fixture-zypper:1" });
    const names = manifest.packages.map((p) => p.name).sort();
    // zypper remove took the pattern package that requires fixture-hello along; its dependency stays.
    expect(names).toEqual(["fixture-base", "fixture-dracut", "fixture-kernel", "fixture-libgreet"]);
    const log = readFileSync(path.join(childOut, "build.log"), "utf8");
    expect(log).toContain("--pull=never localhost/bootsmith/fixture-zypper:1");
    expect(log).not.toContain("pattern() = fixture-minimal");
    // install: is locked for the remove only, and unlocked after.
    expect(log).toMatch(/addlock fixture-libgreet\n[^]*remove fixture-hello\n[^]*removelock fixture-libgreet\n/);
    // On a parent the database is the parent's: no new layout is made.
    expect(log).not.toContain("ln -s ../../usr/lib/sysimage/rpm");
  });

  it(
    "packages.remove of a library a package in install: needs: zypper refuses (the install: names are locked), exit 1 naming both, no leaks",
    { timeout: 300_000 },
    async () => {
      const before = await snapshotHost("bootsmith-fixture-");
      const failOut = path.join(work, "out-zypper-remove-needed");
      const result = await bootsmith(["build", path.join(RECIPES, "fixture-zypper-remove-needed.yaml"), ...repoVars, "--out", failOut, "--progress", "plain"], {
        env,
      });
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stderr).toContain("step install-packages (Install packages with zypper) failed");
      expect(result.stderr).toContain("fixture-hello-2.1-3.fx.noarch requires fixture-libgreet");
      expect(result.stderr).toContain("remove lock to allow removal of fixture-hello");
      expect(existsSync(path.join(failOut, "manifest.json"))).toBe(false);
      expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
    },
  );
});

describe("bootsmith build (zypper inside a parent image, the default installer on a parent)", () => {
  let server: StaticServer;
  beforeAll(async () => {
    // Inside the container the host's files are out of reach: the repository is served over HTTP
    // on the loopback, which buildah run --isolation chroot shares with the host.
    server = await startStaticServer({ root: repo.dir });
  });
  afterAll(async () => server?.close());

  it("runs the image's zypper with the repository and key copied in, and lists packages with the image's rpm", { timeout: 600_000 }, async () => {
    const childOut = path.join(work, "out-zypper-in-image");
    const vars = ["--var", `REPO_URL=${server.url}`, "--var", `REPO_KEY=${repo.gpgKey ?? ""}`];
    // The parent: Debian with zypper and rpm, from the host's apt sources (mmdebstrap), built
    // once per run for this file and the dnf-in-image one.
    const { result: parent } = await sharedParent(path.join(RECIPES, "fixture-rpm-tools-debian.yaml"));
    expect(parent.exitCode, parent.stderr).toBe(0);
    const result = await bootsmith(["build", path.join(RECIPES, "fixture-zypper-in-image.yaml"), ...vars, "--out", childOut, "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = readManifest(childOut);
    expect(manifest.packageManager).toBe("zypper");
    expect(manifest.packages.map((p) => p.name)).toEqual(["fixture-libgreet"]);
    const log = readFileSync(path.join(childOut, "build.log"), "utf8");
    expect(log).toMatch(/buildah .*run --isolation chroot bootsmith-fixture-zypper-in-image-\S+ -- rpm --import \/etc\/pki\/rpm-gpg\/RPM-GPG-KEY-fixture/);
    expect(log).toMatch(
      /run --isolation chroot bootsmith-fixture-zypper-in-image-\S+ -- zypper --non-interactive --no-refresh install --auto-agree-with-licenses --no-recommends fixture-libgreet/,
    );
    expect(log).toMatch(/-- rpm -qa --qf/);
    expect(log).not.toContain("zypper --root");
  });
});

describe("zypper build failures: exit 1 naming the problem, nothing left behind", () => {
  const cases = [
    { name: "an unknown package", vars: ["--var", "PACKAGE=fixture-nope"], expected: "No provider of 'fixture-nope' found" },
    { name: "an unknown pattern", vars: ["--var", "PATTERN=nope"], expected: "No provider of 'pattern() = nope' found" },
    { name: "an unreachable repository", vars: ["--var", "REPO_URL=http://127.0.0.1:9/fixture"], expected: "repository 'fixture' because of the above error" },
    // Fails at refresh (repomd.xml) or, when another build left verified metadata in the shared
    // cache, at the first package: never installs.
    { name: "the wrong signing key", vars: ["--var", "REPO_KEY=<foreign>"], expected: "Signature verification failed" },
  ] as const;

  it.each(cases)("$name", { timeout: 300_000 }, async (c) => {
    const foreign = path.join(work, "foreign.key");
    if (!existsSync(foreign)) await writeForeignKey(foreign);
    const vars = [...repoVars, ...c.vars.map((v) => v.replace("<foreign>", foreign))];
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, `out-bad-${c.name.replace(/\W+/g, "-")}`);
    const result = await bootsmith(["build", path.join(RECIPES, "fixture-zypper-bad.yaml"), ...vars, "--out", out, "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("step install-packages (Install packages with zypper) failed");
    expect(result.stderr, result.stderr).toContain(c.expected);
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });
});
