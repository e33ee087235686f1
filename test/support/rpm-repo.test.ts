// Proves the fixture repository works the way the build tests use it: host dnf installing into an
// empty directory (and into a buildah container's mount), dependencies and scriptlets, the rpm
// database where EL9 expects it, two kernels side by side, the dracut stand-in, and gpgcheck.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { isCommandError, run } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";
import { buildFixtureRepo, repoFileText, type FixtureRepo } from "./rpm-repo.js";

const ctx = { step: "fixture", reporter: silentReporter } as const;

let tmp: string;
let repo: FixtureRepo;
/** HOME for dnf: its .rpmmacros moves the installroot's rpm database to /var/lib/rpm. */
let rpmHome: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bootsmith-rpm-repo-test-"));
  repo = await buildFixtureRepo(join(tmp, "repo"));
  rpmHome = join(tmp, "rpm-home");
  await mkdir(rpmHome);
  // Debian's rpm keeps its database in ~/.rpmdb (%_dbpath %{getenv:HOME}/.rpmdb), and dnf asks
  // rpm for the path *inside* the installroot: without this the image would get /root/.rpmdb.
  await writeFile(join(rpmHome, ".rpmmacros"), "%_dbpath /var/lib/rpm\n%_db_backend sqlite\n");
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A directory holding one .repo file, for --setopt=reposdir. */
async function reposDir(name: string, ...texts: string[]): Promise<string> {
  const dir = join(tmp, `reposd-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "fixture.repo"), texts.join("\n"));
  return dir;
}

/** The argv the build uses for host dnf into an installroot (see the report in the commit). */
function dnfInstall(root: string, reposdir: string, packages: readonly string[], home = rpmHome) {
  return run(
    {
      file: "dnf",
      args: [
        "-y",
        `--installroot=${root}`,
        "--releasever=1",
        "--noplugins",
        `--setopt=reposdir=${reposdir}`,
        `--setopt=cachedir=${join(tmp, "dnf-cache")}`,
        "--setopt=install_weak_deps=False",
        "--nodocs",
        "install",
        ...packages,
      ],
      env: { HOME: home },
    },
    ctx,
  );
}

async function rpmQa(root: string): Promise<string[]> {
  const out = await run({ file: "rpm", args: ["--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n"] }, ctx, {
    quiet: true,
  });
  return out.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .sort();
}

/** Entries of a gzip-compressed newc cpio archive (what dracut writes), name -> contents. */
function readInitramfs(bytes: Buffer): Map<string, Buffer> {
  const data = gunzipSync(bytes);
  const entries = new Map<string, Buffer>();
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    const magic = data.toString("ascii", off, off + 6);
    if (magic !== "070701") throw new Error(`not a newc cpio at offset ${off}: ${JSON.stringify(magic)}`);
    const field = (i: number) => Number.parseInt(data.toString("ascii", off + 6 + i * 8, off + 14 + i * 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = data.toString("utf8", off + 110, off + 110 + nameSize - 1);
    const start = align(off + 110 + nameSize);
    if (name === "TRAILER!!!") return entries;
    entries.set(name, data.subarray(start, start + fileSize));
    off = align(start + fileSize);
  }
}

describe("fixture RPM repository", () => {
  it("holds the packages, two kernels, the comps group and the pattern package, and is reused from the cache", async () => {
    expect(repo.nvras).toEqual([
      "fixture-base-1-1.fx.x86_64",
      "fixture-dracut-1-1.fx.noarch",
      "fixture-hello-2.1-3.fx.noarch",
      "fixture-kernel-5.14.0-10.fx.x86_64",
      "fixture-kernel-5.14.0-9.fx.x86_64",
      "fixture-libgreet-1.0-1.fx.noarch",
      "patterns-fixture-minimal-1-1.fx.noarch",
    ]);
    expect(repo.kernelVersions).toEqual(["5.14.0-9.fx.x86_64", "5.14.0-10.fx.x86_64"]);
    expect(repo.newestKernel).toBe("5.14.0-10.fx.x86_64");
    // The trap the fixture sets: a plain string sort would call the older kernel the newest.
    expect([...repo.kernelVersions].sort().at(-1)).toBe("5.14.0-9.fx.x86_64");
    for (const p of repo.packages) expect(existsSync(p.file), p.file).toBe(true);
    const repomd = await readFile(join(repo.dir, "repodata", "repomd.xml"), "utf8");
    expect(repomd).toContain('<data type="group">');
    expect(repo.signed).toBe(false);
    expect(repo.gpgKey).toBeUndefined();

    const again = await buildFixtureRepo(join(tmp, "repo-again"));
    expect(again.fromCache).toBe(true);
    expect(again.cacheDir).toBe(repo.cacheDir);
    expect(again.nvras).toEqual(repo.nvras);
    expect(again.dir).not.toBe(repo.dir);
  });

  it("installs the comps group into an empty installroot: dependency, %post, rpmdb in /var/lib/rpm", async () => {
    const root = join(tmp, "root-group");
    await mkdir(root);
    await dnfInstall(root, await reposDir("plain", repoFileText(repo)), [`@${repo.group}`]);

    expect(await rpmQa(root)).toEqual(["fixture-base-1-1.fx.x86_64", "fixture-hello-2.1-3.fx.noarch", "fixture-libgreet-1.0-1.fx.noarch"]);
    expect(await readFile(join(root, "var/lib/fixture/post-ran"), "utf8")).toBe("fixture-hello 2.1-3.fx post ran\n");
    expect(existsSync(join(root, "var/lib/rpm/rpmdb.sqlite"))).toBe(true);
    expect(existsSync(join(root, "root/.rpmdb"))).toBe(false);
    // dnf --installroot writes its logs, and expired_repos.json under the *host* cachedir path,
    // inside the root even when cachedir is set on the command line: the build removes them.
    expect(existsSync(join(root, "var/log/dnf.log"))).toBe(true);
    expect(existsSync(join(root, tmp, "dnf-cache", "expired_repos.json"))).toBe(true);
    const osRelease = await readFile(join(root, "etc/os-release"), "utf8");
    expect(osRelease).toMatch(/^ID=fixture$/m);
    expect(osRelease).toMatch(/^VERSION_ID=1$/m);
  });

  it("without the .rpmmacros HOME, Debian's rpm would put the image's database in /root/.rpmdb", async () => {
    const root = join(tmp, "root-default-dbpath");
    await mkdir(root);
    // HOME=/root as under sudo or in CI as root: %_dbpath expands to /root/.rpmdb in the root.
    await dnfInstall(root, await reposDir("plain", repoFileText(repo)), ["fixture-base"], "/root");
    expect(existsSync(join(root, "root/.rpmdb/rpmdb.sqlite"))).toBe(true);
    expect(existsSync(join(root, "var/lib/rpm/rpmdb.sqlite"))).toBe(false);
  });

  it("installs both kernel versions side by side (installonlypkg)", async () => {
    const root = join(tmp, "root-kernels");
    await mkdir(root);
    const kernels = repo.packages.filter((p) => p.name === "fixture-kernel").map((p) => `${p.name}-${p.version}-${p.release}`);
    await dnfInstall(root, await reposDir("plain", repoFileText(repo)), ["fixture-base", ...kernels]);

    const installed = await rpmQa(root);
    expect(installed.filter((n) => n.startsWith("fixture-kernel-"))).toEqual(["fixture-kernel-5.14.0-10.fx.x86_64", "fixture-kernel-5.14.0-9.fx.x86_64"]);
    for (const kver of repo.kernelVersions) {
      const vmlinuz = await readFile(join(root, "boot", `vmlinuz-${kver}`));
      // bzImage header: "HdrS" at 0x202, version string where 0x20E points.
      expect(vmlinuz.toString("ascii", 0x202, 0x206)).toBe("HdrS");
      const versionAt = 0x200 + vmlinuz.readUInt16LE(0x20e);
      expect(vmlinuz.toString("ascii", versionAt, versionAt + kver.length)).toBe(kver);
      expect(await readFile(join(root, "lib/modules", kver, "vmlinuz"))).toEqual(vmlinuz);
      expect(existsSync(join(root, "lib/modules", kver, "modules.dep"))).toBe(true);
      expect(await readFile(join(root, "boot", `config-${kver}`), "utf8")).toMatch(/^CONFIG_SQUASHFS_ZSTD=y$/m);
    }
  });

  it("works in a buildah container's mount: scriptlet, chroot run, dracut stand-in, commit", async () => {
    const suffix = randomBytes(4).toString("hex");
    const name = `bootsmith-fixture-test-${suffix}`;
    const image = `localhost/bootsmith-fixture-test:${suffix}`;
    const buildah = (...args: string[]) => run({ file: "buildah", args }, ctx);
    const chroot = (script: string) => buildah("run", "--isolation", "chroot", name, "--", "/bin/sh", "-c", script);
    await buildah("from", "--name", name, "scratch");
    let committed = false;
    try {
      const mount = (await buildah("mount", name)).stdout.trim();
      await dnfInstall(mount, await reposDir("plain", repoFileText(repo)), [`@${repo.group}`, "fixture-dracut", "fixture-kernel"]);
      expect((await rpmQa(mount)).filter((n) => n.startsWith("fixture-kernel-"))).toEqual([`fixture-kernel-${repo.newestKernel}`]);

      expect((await chroot("cat /var/lib/fixture/post-ran && fixture-hello && id -u")).stdout).toBe(
        "fixture-hello 2.1-3.fx post ran\nhello from fixture-libgreet\n0",
      );

      const kver = repo.newestKernel;
      await chroot(`dracut --no-hostonly --force --kver ${kver} --add "dmsquash-live livenet" --add-drivers "virtio_net" /boot/initramfs-${kver}.img`);
      const initramfs = readInitramfs(await readFile(join(mount, "boot", `initramfs-${kver}.img`)));
      const modules = initramfs.get("usr/lib/dracut/modules.txt")?.toString("utf8").split("\n") ?? [];
      expect(modules).toEqual(expect.arrayContaining(["base", "dmsquash-live", "livenet", "img-lib"]));
      expect(initramfs.has("sbin/livenetroot")).toBe(true);
      expect(initramfs.has("sbin/dmsquash-live-root")).toBe(true);
      expect(initramfs.get("usr/lib/dracut/fixture-drivers.txt")?.toString("utf8")).toBe("virtio_net\n");
      expect(initramfs.has(`lib/modules/${kver}/modules.dep`)).toBe(true);

      // Without the live modules the markers are absent, so a preflight can tell the difference.
      await chroot(`dracut -N -f --kver ${kver} /tmp/plain.img`);
      const plain = readInitramfs(await readFile(join(mount, "tmp/plain.img")));
      expect(plain.has("sbin/livenetroot")).toBe(false);
      expect(plain.get("usr/lib/dracut/modules.txt")?.toString("utf8")).not.toContain("livenet");

      // Like dracut: an unknown kernel and an existing image without --force are errors.
      const failure = await chroot("dracut -N -f --kver 9.9.9-nope /tmp/x.img").catch((e: unknown) => e);
      expect(isCommandError(failure) && failure.exitCode).toBe(1);
      expect(isCommandError(failure) ? failure.outputTail.join("\n") : "").toContain("Cannot find module directory /lib/modules/9.9.9-nope/");
      const noForce = await chroot(`dracut -N --kver ${kver} /tmp/plain.img`).catch((e: unknown) => e);
      expect(isCommandError(noForce) ? noForce.outputTail.join("\n") : "").toContain("without --force");

      await buildah("unmount", name);
      await buildah("commit", "--quiet", name, image);
      committed = true;
      const inspected = JSON.parse((await buildah("inspect", "--type", "image", image)).stdout) as { FromImage?: string };
      expect(inspected.FromImage).toBe(image);
    } finally {
      await buildah("rm", name).catch(() => undefined);
      if (committed) await buildah("rmi", image).catch(() => undefined);
    }
  });
});

describe("signed fixture RPM repository", () => {
  let signed: FixtureRepo;
  beforeAll(async () => {
    signed = await buildFixtureRepo(join(tmp, "signed-repo"), { signed: true });
  });

  it("is accepted by dnf with gpgcheck=1 and the exported key, which lands in the image's rpmdb", async () => {
    expect(signed.signed).toBe(true);
    expect(signed.gpgKey && (await readFile(signed.gpgKey, "utf8"))).toContain("-----BEGIN PGP PUBLIC KEY BLOCK-----");
    const sig = await run({ file: "rpm", args: ["-qp", "--nosignature", "--qf", "%{RSAHEADER:pgpsig}\\n", ...signed.packages.map((p) => p.file)] }, ctx, {
      quiet: true,
    });
    const sigs = sig.stdout.split("\n");
    expect(sigs).toHaveLength(signed.packages.length);
    for (const line of sigs) expect(line).toMatch(new RegExp(`^RSA/SHA\\d+, .*, Key ID [0-9a-f]{8}${signed.gpgKeyId ?? "?"}$`));

    const root = join(tmp, "root-signed");
    await mkdir(root);
    await dnfInstall(root, await reposDir("signed", repoFileText(signed)), [`@${signed.group}`]);
    const installed = await rpmQa(root);
    expect(installed).toContain("fixture-hello-2.1-3.fx.noarch");
    expect(installed.some((n) => n.startsWith(`gpg-pubkey-${signed.gpgKeyId}-`))).toBe(true);
    // repomd.xml is signed too, as zypper checks it.
    expect(await readFile(join(signed.dir, "repodata", "repomd.xml.asc"), "utf8")).toContain("-----BEGIN PGP SIGNATURE-----");
  });

  it("rejects unsigned packages when gpgcheck=1", async () => {
    const root = join(tmp, "root-unsigned-gpgcheck");
    await mkdir(root);
    const text = repoFileText({ ...repo, gpgKeyUrl: signed.gpgKeyUrl }, { id: "unsigned-checked", gpgcheck: true });
    const failure = await dnfInstall(root, await reposDir("unsigned-checked", text), ["fixture-base"]).catch((e: unknown) => e);
    expect(isCommandError(failure)).toBe(true);
    const tail = isCommandError(failure) ? failure.outputTail.join("\n") : "";
    expect(tail).toContain("is not signed");
    expect(tail).toContain("GPG check FAILED");
    expect(existsSync(join(root, "usr/bin/busybox"))).toBe(false);
  });
});
