// An image whose contents point at the host: var/cache -> /, var/log -> a host directory holding
// files the build's cleanup removes inside images (dnf.log, …), boot/vmlinuz-KVER -> /etc/shadow,
// etc/resolv.conf -> a host file. The build runs more commands and makes its boot artifacts with
// those links in place; it must neither read, delete nor write anything outside the image root:
// the host files keep their bytes and mtimes, and the "kernel" copied out is the image's own
// /etc/shadow, never the host's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, removeImages } from "../support/fixture-build.js";
import { snapshotHost } from "../support/leaks.js";
import { commitWithHostLinks, fingerprint, readInImage, RECORD_SEEN, writeHostTargets } from "../support/host-links.js";

let work: string;
let repo: FixtureRepo;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-hostile-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
}, 300_000);

afterAll(async () => {
  await removeImages(["hostile-image:1", "hostile-resolv:1", "hostile-resolv-child:1"]);
  rmSync(work, { recursive: true, force: true });
});

describe("an image with links that point at the host", () => {
  it("the build reads, deletes and writes nothing outside the image root", { timeout: 600_000 }, async () => {
    const hostResolv = path.join(work, "host-resolv.conf");
    writeFileSync(hostResolv, "nameserver 192.0.2.53 # host file, must stay as is\n");
    const hostLog = path.join(work, "host-log");
    mkdirSync(hostLog);
    for (const f of ["dnf.log", "dnf.librepo.log", "dnf.rpm.log", "hawkey.log"]) writeFileSync(path.join(hostLog, f), `host ${f}\n`);
    const watched = ["/etc/shadow", hostResolv, ...readdirSync(hostLog).map((f) => path.join(hostLog, f))];
    const before = fingerprint(watched);
    const shadow = readFileSync("/etc/shadow");

    const recipe = path.join(work, "hostile.yaml");
    // buildah run bind-mounts its own resolv.conf over the image's while a command runs, so
    // that link can only be tried, not planted, from inside: a refusal is fine here.
    const plant = [
      "rm -rf /var/cache /var/log",
      "ln -s / /var/cache",
      `ln -s ${hostLog} /var/log`,
      `(rm -f /etc/resolv.conf && ln -s ${hostResolv} /etc/resolv.conf) 2>/dev/null || true`,
      "echo 'the image s own shadow file' > /etc/shadow",
      'for k in /boot/vmlinuz-* /lib/modules/*/vmlinuz; do if [ -e "$k" ]; then rm -f "$k"; ln -s /etc/shadow "$k"; fi; done',
    ];
    writeFileSync(
      recipe,
      fixtureRecipe({
        name: "hostile-image",
        baseurl: repo.baseurl,
        keys: {
          commands: [
            { name: "plant links to the host", script: `${plant.join("\n")}\n` },
            { name: "a command run with the links in place", run: ["/bin/sh", "-c", "echo ran > /tmp/ran"] },
          ],
        },
      }),
    );
    const out = path.join(work, "out");
    const leaksBefore = await snapshotHost("bootsmith-hostile-image-");
    const result = await bootsmith(["build", recipe, "--out", out, "--no-publish", "--progress", "plain"], { env: buildEnv(work) });

    expect(fingerprint(watched)).toEqual(before);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) {
      const artifact = path.join(out, f);
      if (existsSync(artifact)) expect(readFileSync(artifact).includes(shadow), `${f} holds the host's /etc/shadow`).toBe(false);
    }
    expect(await snapshotHost("bootsmith-hostile-image-")).toEqual(leaksBefore);
    // The kernel link resolves inside the image, where /etc/shadow is no kernel: a clear failure.
    // The links were planted and the build went through the boot steps: the kernel link
    // resolves inside the image, to the image's own /etc/shadow, which is what gets copied out.
    expect(result.stderr).not.toContain("command-1 (Run: plant links to the host) failed");
    expect(result.stderr).toContain("command-2");
    expect(result.stderr).not.toContain("select-kernel (Select the newest installed kernel) failed");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(path.join(out, "vmlinuz"), "utf8")).toBe("the image s own shadow file\n");
  });
});

describe("a parent image whose etc/resolv.conf and etc/hosts are links to host files", () => {
  // The parent: the committed hostile-image with the two links planted by buildah (see
  // test/support/host-links.ts), an absolute one and a relative one that climbs out of the root.
  it("host dnf --installroot, buildah run and the cleanup leave the host files' bytes and mtimes as they were", { timeout: 600_000 }, async () => {
    const targets = writeHostTargets(work);
    const watched = [targets.resolv, targets.hosts];
    const before = fingerprint(watched);
    // var/log made a directory again, so that only the two links are hostile.
    await commitWithHostLinks("localhost/bootsmith/hostile-image:1", "localhost/bootsmith/hostile-resolv:1", targets, (root) => {
      rmSync(path.join(root, "var/log"), { force: true });
      mkdirSync(path.join(root, "var/log"));
    });

    const recipe = path.join(work, "hostile-resolv-child.yaml");
    writeFileSync(
      recipe,
      fixtureRecipe({
        name: "hostile-resolv-child",
        from: { image: "localhost/bootsmith/hostile-resolv:1" },
        baseurl: repo.baseurl,
        packageGroups: [],
        install: ["fixture-kernel-5.14.0-9.fx"],
        packageOptions: { installer: "host" },
        keys: { commands: [{ name: "a command run through buildah run with the links in place", script: RECORD_SEEN }] },
        boot: false,
      }),
    );
    const leaksBefore = await snapshotHost("bootsmith-hostile-resolv-child-");
    const result = await bootsmith(["build", recipe, "--out", path.join(work, "out-resolv"), "--no-publish", "--progress", "plain"], { env: buildEnv(work) });
    expect(fingerprint(watched)).toEqual(before);
    expect(await snapshotHost("bootsmith-hostile-resolv-child-")).toEqual(leaksBefore);
    expect(result.exitCode, result.stderr).toBe(0);
    // The steps that touch resolv.conf ran: dnf on the host into the root, and buildah run.
    const log = readFileSync(path.join(work, "out-resolv", "build.log"), "utf8");
    expect(log).toContain("--installroot=");
    expect(log).toMatch(/run --isolation chroot bootsmith-hostile-resolv-child-\S+ -- \/bin\/sh -ec/);
    // …and what the command saw in the image was not read from the host files.
    const seen = await readInImage("localhost/bootsmith/hostile-resolv-child:1", "tmp/seen");
    for (const marker of targets.markers) expect(seen).not.toContain(marker);
  });
});
