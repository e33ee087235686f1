// bootsmith build against real buildah, host dnf and mksquashfs, with the fixture RPM
// repository the tests build (rpmbuild + createrepo_c). Nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, CLI, REPO_ROOT, startBootsmith } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import type { Manifest } from "../../src/core/manifest.js";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { buildEnv, fixtureRecipe, readManifest, removeImages, squashfsListing } from "../support/fixture-build.js";
import { cycloneDxErrors, spdxErrors } from "../support/sbom-schemas.js";

const RECIPES = path.join(REPO_ROOT, "test/fixtures/build");
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-build-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  await removeImages([
    "fixture-live:1",
    "fixture-live:latest",
    "fixture-child:1",
    "fixture-fails:1",
    "fixture-unreachable:1",
    "fixture-remove-dependency:1",
    "fixture-host-dnf-conf:1",
  ]);
  rmSync(work, { recursive: true, force: true });
});

describe("bootsmith build (dnf from scratch)", () => {
  const out = () => path.join(work, "out-live");

  it("builds artifacts, manifest and a committed image", { timeout: 300_000 }, async () => {
    // A variable of the caller's environment (CI variables hold secrets) must not be echoed.
    const canary = "canary-value-4f1d9c";
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-live.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out(), "--progress", "plain"],
      { env: { ...env, SOME_CI_VARIABLE: canary } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json", "build.log"]) expect(existsSync(path.join(out(), f)), f).toBe(true);

    // Version-aware selection picks -10 although a string sort would pick -9.
    const manifest = readManifest(out());
    expect(manifest.kernel?.version).toBe(repo.newestKernel);
    expect(readFileSync(path.join(out(), "vmlinuz")).includes(Buffer.from(repo.newestKernel))).toBe(true);
    expect(manifest.kernel?.squashfsCompressors).toContain("zstd");

    // Each artifact's sha256 and size match the file.
    for (const a of Object.values(manifest.artifacts)) {
      const { stdout } = await execa("sha256sum", [path.join(out(), a.file)]);
      expect(stdout.split(" ")[0]).toBe(a.sha256);
    }
    expect(manifest.name).toBe("fixture-live");
    expect(manifest.tags).toEqual(["1", "latest"]);
    expect(manifest.packageManager).toBe("dnf");
    expect(manifest.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.tools.buildah).toBeTruthy();
    expect(manifest.timings.map((t) => t.step)).toContain("squashfs");
    const hello = manifest.packages.find((p) => p.name === "fixture-hello");
    expect(hello).toEqual({ name: "fixture-hello", version: "2.1", release: "3.fx", arch: "noarch", license: "MIT", supplier: "bootsmith fixtures" });

    // Both SBOMs: beside the manifest, listed in it with their sha256, valid against the official
    // schemas, every rpm in them with its package URL (namespace from the image's os-release ID).
    expect(Object.keys(manifest.artifacts).sort()).toEqual(["initrd", "kernel", "rootfs", "sbomCycloneDx", "sbomSpdx"]);
    const cdx = JSON.parse(readFileSync(path.join(out(), "sbom.cdx.json"), "utf8")) as {
      components: { name: string; type: string; purl?: string; licenses?: unknown[]; supplier?: { name: string } }[];
    };
    const spdx = JSON.parse(readFileSync(path.join(out(), "sbom.spdx.json"), "utf8")) as {
      packages: { name: string; versionInfo: string; licenseDeclared: string; licenseComments?: string; externalRefs?: { referenceLocator: string }[] }[];
    };
    expect(cycloneDxErrors(cdx)).toEqual([]);
    expect(spdxErrors(spdx)).toEqual([]);
    // The packages (the components with a package URL) are the package database's; the files the
    // recipe's files: entries placed are listed too, as files.
    const cdxPackages = cdx.components.filter((c) => c.purl !== undefined);
    expect(cdxPackages.map((c) => c.name).sort()).toEqual(manifest.packages.map((p) => p.name).sort());
    expect(cdx.components.filter((c) => c.type === "file").map((c) => c.name)).toEqual(expect.arrayContaining(["/etc/fixture/site.conf"]));
    const cdxHello = cdx.components.find((c) => c.name === "fixture-hello");
    expect(cdxHello).toMatchObject({
      purl: "pkg:rpm/fixture/fixture-hello@2.1-3.fx?arch=noarch&distro=fixture-1",
      licenses: [{ license: { id: "MIT" } }],
      supplier: { name: "bootsmith fixtures" },
    });
    const kernels = manifest.packages
      .filter((p) => p.name === "fixture-kernel")
      .map((p) => `pkg:rpm/fixture/fixture-kernel@${p.version}-${p.release}?arch=${p.arch}&distro=fixture-1`);
    expect(
      cdx.components
        .filter((c) => c.name === "fixture-kernel")
        .map((c) => c.purl)
        .sort(),
    ).toEqual(kernels.sort());
    expect(spdx.packages.find((p) => p.name === "fixture-libgreet")).toMatchObject({
      licenseDeclared: "NOASSERTION",
      licenseComments: "package database License: GPLv2+",
    });
    expect(spdx.packages.find((p) => p.name === "fixture-hello")?.externalRefs?.[0]?.referenceLocator).toBe(cdxHello!.purl);

    // The image carries its identity: its own manifest (no rootfs digest) and IMAGE_ID/IMAGE_VERSION
    // in the file /etc/os-release links to (the symlink kept).
    const cat = async (inner: string) => (await execa("unsquashfs", ["-cat", path.join(out(), "rootfs.squashfs"), inner])).stdout;
    const inImage = JSON.parse(await cat("usr/lib/bootsmith/manifest.json")) as Manifest;
    expect(inImage.artifacts.rootfs).toBeUndefined();
    expect(inImage.artifacts.kernel).toEqual(manifest.artifacts.kernel);
    expect(inImage.artifacts.sbomSpdx).toEqual(manifest.artifacts.sbomSpdx);
    expect(inImage.builtAt).toBe(manifest.builtAt);
    expect(await cat("usr/lib/os-release")).toMatch(/^ID=fixture$[\s\S]*^IMAGE_ID="fixture-live"\nIMAGE_VERSION="1"$/m);
    const { stdout: etcLink } = await execa("unsquashfs", ["-lls", "-d", "", path.join(out(), "rootfs.squashfs"), "etc/os-release"]);
    expect(etcLink).toContain("/etc/os-release -> ../usr/lib/os-release");
    expect(manifest.packages.filter((p) => p.name === "fixture-kernel")).toHaveLength(2);

    // The initramfs came from dracut inside the image, for the chosen kernel, with the live modules.
    const initramfs = (await listInitramfs(path.join(out(), "initramfs.img"))).entries.map((e) => e.name);
    expect(initramfs).toContain("sbin/livenetroot");
    expect(initramfs).toContain("sbin/dmsquash-live-root");

    // The root filesystem: scriptlets ran, files and commands landed, rpmdb where EL expects it, /boot excluded, leftovers gone.
    const listing = await squashfsListing(path.join(out(), "rootfs.squashfs"));
    for (const p of [
      "/var/lib/fixture/post-ran",
      "/etc/motd",
      "/etc/fixture/site.conf",
      "/etc/fixture/argv-ran",
      "/etc/fixture/script-ran",
      "/var/lib/rpm/rpmdb.sqlite",
      "/etc/yum.repos.d/fixture.repo",
    ]) {
      expect(listing, p).toContain(p);
    }
    expect(listing.some((l) => l.startsWith("/boot/"))).toBe(false);
    expect(listing.some((l) => l.includes(".rpmdb"))).toBe(false);
    expect(listing.some((l) => l.startsWith("/var/cache/dnf/") || l === "/var/log/dnf.log")).toBe(false);
    // dnf makes the host's cache path inside the installroot too: neither it nor the directories
    // on the way to it stay in the image.
    expect(listing.filter((l) => l === work || l.startsWith(`${work}/`))).toEqual([]);
    const { stdout: siteMode } = await execa("unsquashfs", ["-lls", "-d", "", path.join(out(), "rootfs.squashfs"), "etc/fixture/site.conf"]);
    expect(siteMode).toMatch(/-rw------- /);
    // Inline content is written 0600 in the work directory; the image gets the recipe's mode (0644 by default).
    const { stdout: motdMode } = await execa("unsquashfs", ["-lls", "-d", "", path.join(out(), "rootfs.squashfs"), "etc/motd"]);
    expect(motdMode).toMatch(/-rw-r--r-- /);

    // The committed image carries the labels.
    const { stdout: inspect } = await execa("buildah", ["inspect", "--type", "image", "localhost/bootsmith/fixture-live:1"]);
    const labels = (JSON.parse(inspect) as { OCIv1: { config: { Labels: Record<string, string> } } }).OCIv1.config.Labels;
    expect(labels).toMatchObject({ "org.example.site": "test", "io.bootsmith.recipe": "fixture-live", "io.bootsmith.input-digest": manifest.inputDigest });
    await execa("buildah", ["inspect", "--type", "image", "localhost/bootsmith/fixture-live:latest"]);

    const log = readFileSync(path.join(out(), "build.log"), "utf8");
    expect(log).toContain("mksquashfs");
    expect(log).toContain("HOME="); // the plan's own variables are shown with the command…
    expect(log + result.stdout + result.stderr).not.toContain(canary); // …the inherited environment is not
  });

  it("builds a child layer on the committed parent image without re-running the parent", { timeout: 300_000 }, async () => {
    const childOut = path.join(work, "out-child");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-child.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", childOut, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = readManifest(childOut);
    expect(manifest.base).toMatchObject({ kind: "recipe", name: "fixture-live", ref: "localhost/bootsmith/fixture-live:1" });
    const names = manifest.packages.map((p) => p.name);
    expect(names).toContain("fixture-hello");
    expect(names).toContain("fixture-base"); // from the parent's rpm database
    expect(names).not.toContain("fixture-dracut"); // removed by the child
    expect(Object.keys(manifest.artifacts).sort()).toEqual(["sbomCycloneDx", "sbomSpdx"]); // no boot artifacts, still SBOMs
    // The parent's steps were not re-run: no package install of the parent's group in the child's log.
    const log = readFileSync(path.join(childOut, "build.log"), "utf8");
    expect(log).toContain("--pull=never localhost/bootsmith/fixture-live:1");
    expect(log).not.toContain("@fixture-minimal");
  });

  it("a layer on an outside image whose packages: only names dnf lists the image's packages in its manifest and SBOMs", { timeout: 300_000 }, async () => {
    const recipe = path.join(work, "fixture-on-image.yaml");
    writeFileSync(
      recipe,
      'apiVersion: bootsmith/v1\nname: fixture-on-image\ntags: ["1"]\nfrom: {image: localhost/bootsmith/fixture-live:1}\npackages: {manager: dnf}\nfiles:\n  - {dest: /etc/motd, content: "layer\\n"}\nboot: false\n',
    );
    const imageOut = path.join(work, "out-on-image");
    const result = await bootsmith(["build", recipe, "--out", imageOut, "--progress", "plain"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = readManifest(imageOut);
    expect(manifest.packageManager).toBe("dnf");
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["fixture-base", "fixture-hello", "fixture-kernel"]));
    const sbom = JSON.parse(readFileSync(path.join(imageOut, "sbom.cdx.json"), "utf8")) as { components?: { name: string }[] };
    expect(sbom.components?.map((c) => c.name)).toEqual(expect.arrayContaining(["fixture-base", "fixture-hello"]));
    expect(readFileSync(path.join(imageOut, "build.log"), "utf8")).not.toMatch(/ dnf .*install/);
  });

  it(
    "the host's /etc/dnf/dnf.conf does not reach the image: an exclude= there of a package the recipe installs changes nothing",
    { timeout: 300_000 },
    async () => {
      // A build host's dnf.conf, in a private mount namespace over the real path (other builds on
      // this machine keep the real file); the build runs in that namespace once it is in place.
      const hostConf = path.join(work, "host-dnf.conf");
      writeFileSync(hostConf, "[main]\ngpgcheck=True\ninstallonly_limit=2\nskip_if_unavailable=True\nexclude=fixture-hello\n");
      const recipe = path.join(work, "fixture-host-dnf-conf.yaml");
      writeFileSync(recipe, fixtureRecipe({ name: "fixture-host-dnf-conf", boot: false, packageGroups: [], install: ["fixture-base", "fixture-hello"] }));
      const hostOut = path.join(work, "out-host-dnf-conf");
      const inNamespace = 'c="$1"; shift; mount --bind "$c" /etc/dnf/dnf.conf && grep -qx exclude=fixture-hello /etc/dnf/dnf.conf && exec "$@"';
      const build = [CLI, "build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", hostOut, "--progress", "plain"];
      const result = await execa("unshare", ["--mount", "--propagation", "private", "sh", "-c", inNamespace, "sh", hostConf, process.execPath, ...build], {
        env: { ...env, CI: "true" },
        extendEnv: false,
        reject: false,
      });
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(readManifest(hostOut).packages.map((p) => p.name)).toContain("fixture-hello");
      expect(readFileSync(path.join(hostOut, "build.log"), "utf8")).toMatch(/dnf --installroot=\S+ --config=\S+\/dnf\.conf /);
    },
  );
});

describe("bootsmith build failures leave nothing behind", () => {
  it("a failing command: exit 1, the step and command named, log kept, no leaks", { timeout: 300_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, "out-fails");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-fails.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode).toBe(1);
    // The recipe entry with its line (commands[1] is "- name: failing command"), not only the step's number.
    expect(result.stderr).toContain(`step command-2 (Run: failing command) failed: commands[1] at ${path.join(RECIPES, "fixture-fails.yaml")}:20:5`);
    expect(result.stderr).toContain("exited with code 3");
    expect(result.stderr).toContain("/bin/sh -ec 'exit 3'");
    expect(result.stderr).toContain(`full log: ${path.join(out, "build.log")}`);
    expect(existsSync(path.join(out, "build.log"))).toBe(true);
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });

  /** Build `yaml` (a fixture recipe) expecting dnf to fail: exit 1, the step named, no manifest, no leaks; its stderr. */
  async function installFails(name: string, yaml: string): Promise<string> {
    const before = await snapshotHost("bootsmith-fixture-");
    const recipe = path.join(work, `${name}.yaml`);
    writeFileSync(recipe, yaml);
    const out = path.join(work, `out-${name}`);
    const result = await bootsmith(["build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"], { env });
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stderr).toContain("step install-packages (Install packages with dnf) failed");
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
    return result.stderr;
  }

  it("a recipe repository that cannot be reached fails the build naming it (dnf.conf may say skip it), no leaks", { timeout: 300_000 }, async () => {
    const yaml = fixtureRecipe({ name: "fixture-unreachable", boot: false, install: [] }).replace(
      "    - name: fixture\n",
      "    - name: site-updates\n      baseurl: http://127.0.0.1:9/unreachable\n    - name: fixture\n",
    );
    expect(await installFails("fixture-unreachable", yaml)).toContain("Failed to download metadata for repo 'site-updates'");
  });

  it("packages.remove of a library a package in install: needs: dnf refuses (it would remove both), exit 1 naming it", { timeout: 300_000 }, async () => {
    const yaml = fixtureRecipe({ name: "fixture-remove-dependency", boot: false, packageGroups: [], install: ["fixture-base", "fixture-hello"] }).replace(
      "  install:\n",
      "  remove:\n    - fixture-libgreet\n  install:\n",
    );
    expect(await installFails("fixture-remove-dependency", yaml)).toContain(
      "The operation would result in removing the following protected packages: fixture-hello",
    );
  });

  it("files: owner: a user the image does not have: the recipe's line and the fix before any file is copied, no leaks", { timeout: 300_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const recipe = path.join(work, "fixture-unknown-owner.yaml");
    const yaml = fixtureRecipe({ name: "fixture-unknown-owner", boot: false, packageGroups: [], install: ["fixture-base"] });
    writeFileSync(recipe, `${yaml}files:\n  - dest: /etc/slurm.conf\n    content: "x\\n"\n    owner: slurm\n`);
    const ownerLine = readFileSync(recipe, "utf8").split("\n").indexOf("    owner: slurm") + 1;
    const ownerOut = path.join(work, "out-unknown-owner");
    const result = await bootsmith(["build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", ownerOut, "--progress", "plain"], { env });
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stderr).toContain("step copy-files (Copy files into the image) failed");
    expect(result.stderr).toContain(`${recipe}:${ownerLine}:12: files[0].owner: the image has no user "slurm"`);
    expect(result.stderr).not.toContain("buildah exited");
    expect(existsSync(path.join(ownerOut, "manifest.json"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });

  it("SIGINT mid-build: exit 130, container and mount removed", { timeout: 300_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, "out-sigint");
    const child = startBootsmith(
      ["build", path.join(RECIPES, "fixture-fails.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--var", "SLEEP=120", "--out", out, "--progress", "plain"],
      { env },
    );
    // Wait until the sleeping command runs (the container exists and is mounted), then interrupt.
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      child.all.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("sleep 120")) resolve();
      });
      child.all.on("end", () => reject(new Error(`build ended before the sleeping command:\n${seen}`)));
    });
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.all)).toMatch(/SIGINT received/);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });

  it("an initramfs built for another kernel than the selected one fails the build", { timeout: 300_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, "out-wrong-initramfs");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-wrong-initramfs.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("step initramfs (Build the initramfs with dracut) failed");
    expect(result.stderr).toContain(`does not match kernel ${repo.newestKernel}: it has modules for 5.14.0-9.fx.x86_64`);
    expect(existsSync(path.join(out, "manifest.json"))).toBe(false);
    expect(existsSync(path.join(out, "initramfs.img"))).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });

  it("a work root that is a symbolic link: exit 2 with the fix, nothing written where it points, no leaks", { timeout: 300_000 }, async () => {
    const elsewhere = path.join(work, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(work, "linked-work"));
    const before = await snapshotHost("bootsmith-fixture-live-");
    const out = path.join(work, "out-linked-work");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-live.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish", "--progress", "plain"],
      { env: { ...env, BOOTSMITH_WORK_DIR: path.join(work, "linked-work") } },
    );
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      `work root ${path.join(work, "linked-work")} is a symbolic link, which another user could point anywhere: remove it, or set BOOTSMITH_WORK_DIR to a directory of your own`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(await snapshotHost("bootsmith-fixture-live-")).toEqual(before);
  });

  it("a missing program: a hint that names the package to install", { timeout: 300_000 }, async () => {
    const bin = path.join(work, "bin-without-mksquashfs");
    await execa("mkdir", ["-p", bin]);
    for (const tool of ["buildah", "dnf", "rpm", "sh", "dpkg-query", "uname", "id"]) {
      const { stdout } = await execa("sh", ["-c", `command -v ${tool}`], { reject: false });
      if (stdout) await execa("ln", ["-sf", stdout.trim(), path.join(bin, tool)]);
    }
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, "out-missing");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-live.yaml"), "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish", "--progress", "plain"],
      { env: { ...env, PATH: bin } },
    );
    // Found before the build starts (the plan runs mksquashfs), not after the package installs.
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("this host cannot build yet:\n  ✗ mksquashfs: missing");
    expect(result.stderr).toContain("apt-get install squashfs-tools");
    expect(existsSync(out)).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
  });
});
