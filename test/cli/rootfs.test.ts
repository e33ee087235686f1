// bootsmith rootfs / artifacts: the steps the plan prints for what bootsmith does itself, run
// by hand through the real CLI. Paths resolve inside the image root: an image's absolute
// symlink must never reach the host.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";
import { chrootedProcesses, runsIn, untilRuns } from "../support/chrooted-process.js";

const procs = chrootedProcesses();
let work: string;
let root: string;
/** A host file an absolute symlink in the image names: it must never be read or removed. */
let hostFile: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-rootfs-"));
  root = path.join(work, "root");
  hostFile = path.join(work, "host-secret");
  writeFileSync(hostFile, "host");
  mkdirSync(path.join(root, "boot"), { recursive: true });
  mkdirSync(path.join(root, "lib/modules/6.1.0-9"), { recursive: true });
  mkdirSync(path.join(root, "lib/modules/6.1.0-10"), { recursive: true });
  writeFileSync(path.join(root, "boot/vmlinuz-6.1.0-9"), "old kernel");
  writeFileSync(path.join(root, "boot/vmlinuz-6.1.0-10"), "new kernel");
  writeFileSync(path.join(root, "boot/config-6.1.0-10"), "CONFIG_SQUASHFS_ZSTD=y\nCONFIG_SQUASHFS_XZ=y\n");
  // In the image, /vmlinuz -> /boot/vmlinuz-6.1.0-10; /escape -> the host file's absolute path.
  symlinkSync("/boot/vmlinuz-6.1.0-10", path.join(root, "vmlinuz"));
  symlinkSync(hostFile, path.join(root, "escape"));
  mkdirSync(path.join(root, "var/cache/dnf"), { recursive: true });
  writeFileSync(path.join(root, "var/cache/dnf/x.solv"), "cache");
  mkdirSync(path.join(root, "var/log"), { recursive: true });
  symlinkSync(hostFile, path.join(root, "var/log/dnf.log"));
  mkdirSync(path.join(root, "etc"), { recursive: true });
  writeFileSync(path.join(root, "etc/resolv.conf"), "");
  writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost\n");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("bootsmith rootfs", () => {
  it("select-kernel picks the newest by version and records it with the squashfs compressors", async () => {
    const record = path.join(work, "kernel.json");
    const r = await bootsmith(["rootfs", "select-kernel", root, "newest", "--record", record]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("6.1.0-10\t/boot/vmlinuz-6.1.0-10");
    expect(JSON.parse(readFileSync(record, "utf8"))).toEqual({ version: "6.1.0-10", image: "/boot/vmlinuz-6.1.0-10", squashfsCompressors: ["xz", "zstd"] });
  });

  it("copy-out follows symlinks inside the root, never onto the host", async () => {
    const dest = path.join(work, "out/vmlinuz");
    expect((await bootsmith(["rootfs", "copy-out", root, "/vmlinuz", dest])).exitCode).toBe(0);
    expect(readFileSync(dest, "utf8")).toBe("new kernel");
    expect(statSync(dest).mode & 0o777).toBe(0o644);
    // /escape names the host file; inside the root that path does not exist: refused, exit 1.
    const escaped = await bootsmith(["rootfs", "copy-out", root, "/escape", path.join(work, "out/escaped")]);
    expect(escaped.exitCode).toBe(1);
    expect(escaped.stderr).toContain("does not exist in the image");
    expect(existsSync(path.join(work, "out/escaped"))).toBe(false);
  });

  it("clean removes leftovers inside the root; a symlinked leftover goes as a link, its host target stays", async () => {
    const r = await bootsmith(["rootfs", "clean", root, "--if-empty", "etc/resolv.conf", "--if-empty", "etc/hosts", "--", "var/cache/dnf", "var/log/dnf.log"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("removed var/cache/dnf\nremoved var/log/dnf.log\nremoved etc/resolv.conf");
    expect(readFileSync(hostFile, "utf8")).toBe("host");
    expect(existsSync(path.join(root, "etc/hosts"))).toBe(true);
  });

  it("accounts adds the recipe's groups and users with their ids; an id used differently fails (exit 1) naming both", async () => {
    writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(path.join(root, "etc/group"), "root:x:0:\n");
    const recipe = path.join(work, "accounts.yaml");
    const head = 'apiVersion: bootsmith/v1\nname: accounts\ntags: ["${TAG}"]\npackages: { manager: apt, release: bookworm, install: [bash] }\n';
    writeFileSync(recipe, `${head}groups: [{ name: munge, gid: 991 }]\nusers: [{ name: munge, uid: 991, group: munge, system: true }]\n`);
    const r = await bootsmith(["rootfs", "accounts", root, "--recipe", recipe, "--var", "TAG=1"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("accounts: group munge=991, user munge=991");
    expect(readFileSync(path.join(root, "etc/passwd"), "utf8")).toBe("root:x:0:0:root:/root:/bin/sh\nmunge:x:991:991::/:/usr/sbin/nologin\n");
    expect(readFileSync(path.join(root, "etc/group"), "utf8")).toBe("root:x:0:\nmunge:x:991:\n");

    writeFileSync(recipe, `${head}users: [{ name: admin, uid: 0, group: root }]\n`);
    const clash = await bootsmith(["rootfs", "accounts", root, "--recipe", recipe, "--var", "TAG=1"]);
    expect(clash.exitCode).toBe(1);
    expect(clash.stderr).toContain("user admin uid 0 (users[0] of the recipe) clashes with user root uid 0 already in the image's base packages");
  });

  it("check-modules fails (exit 1) when the kernel has no out-of-tree module; a wrong call is exit 2", async () => {
    const r = await bootsmith(["rootfs", "check-modules", root, "6.1.0-10"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("no kernel module was installed for kernel 6.1.0-10");
    expect((await bootsmith(["rootfs", "check-modules", root])).exitCode).toBe(2);
  });

  it("clean --if-empty removes empty directories in order and never follows a link to an empty host file", async () => {
    const emptyHost = path.join(work, "empty-host-file");
    writeFileSync(emptyHost, "");
    const r2 = path.join(work, "root2");
    mkdirSync(path.join(r2, "tmp/bootsmith-cache/cache/dnf"), { recursive: true });
    mkdirSync(path.join(r2, "etc"), { recursive: true });
    mkdirSync(path.join(r2, "srv/kept"), { recursive: true });
    writeFileSync(path.join(r2, "srv/kept/file"), "image");
    symlinkSync(emptyHost, path.join(r2, "etc/hostname"));
    const before = statSync(emptyHost).mtimeMs;
    const args = ["--if-empty", "etc/hostname", "--if-empty", "tmp/bootsmith-cache/cache", "--if-empty", "tmp/bootsmith-cache", "--if-empty", "srv/kept"];
    const r = await bootsmith(["rootfs", "clean", r2, ...args, "--", "tmp/bootsmith-cache/cache/dnf"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("removed tmp/bootsmith-cache/cache/dnf\nremoved tmp/bootsmith-cache/cache\nremoved tmp/bootsmith-cache");
    expect(existsSync(path.join(r2, "tmp"))).toBe(true);
    expect(existsSync(path.join(r2, "srv/kept/file"))).toBe(true);
    // The image's link stays (it is no empty file), and the host file it names is untouched.
    expect(lstatSync(path.join(r2, "etc/hostname")).isSymbolicLink()).toBe(true);
    expect(statSync(emptyHost).mtimeMs).toBe(before);
  });

  it("stop-processes stops the processes in the root, and only those", async () => {
    const image = procs.makeRoot(path.join(work, "daemon-root"));
    const other = procs.makeRoot(path.join(work, "other-root"));
    const daemon = procs.start(image, ["sleep", "300"]);
    const outside = procs.start(other, ["sleep", "301"]);
    await untilRuns(daemon, image, "/bin/busybox sleep 300");
    await untilRuns(outside, other, "/bin/busybox sleep 301");
    const r = await bootsmith(["rootfs", "stop-processes", image]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`stopped pid ${daemon} (/bin/busybox sleep 300) by SIGTERM`);
    expect(runsIn(daemon)).toBe(false);
    expect(runsIn(outside, other)).toBe(true);
    expect((await bootsmith(["rootfs", "stop-processes", image])).stdout).toBe("");
  });

  it("a wrong call is bad input (exit 2)", async () => {
    expect((await bootsmith(["rootfs", "accounts", root])).exitCode).toBe(2);
    expect((await bootsmith(["rootfs", "copy-out", root])).exitCode).toBe(2);
    expect((await bootsmith(["rootfs", "frobnicate"])).exitCode).toBe(2);
    expect((await bootsmith(["rootfs", "stop-processes", root, "extra"])).exitCode).toBe(2);
  });
});

describe("bootsmith artifacts", () => {
  it("verify-initramfs fails (exit 1) on a file that is no initramfs for the kernel", async () => {
    const file = path.join(work, "not-an-initramfs.img");
    writeFileSync(
      file,
      "07070100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000B00000000TRAILER!!!\0\0\0\0",
    );
    const r = await bootsmith(["artifacts", "verify-initramfs", file, "6.1.0-10"]);
    expect(r.exitCode).toBe(1);
  });
});
