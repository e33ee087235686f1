// An image whose contents point at the host: var/cache -> /, var/log -> a host directory holding
// files the build's cleanup removes inside images (dnf.log, …), boot/vmlinuz-KVER -> /etc/shadow,
// etc/resolv.conf -> a host file. The build runs more commands and makes its boot artifacts with
// those links in place; it must neither read, delete nor write anything outside the image root:
// the host files keep their bytes and mtimes, and the "kernel" copied out is the image's own
// /etc/shadow, never the host's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, removeImages } from "../support/fixture-build.js";
import { snapshotHost } from "../support/leaks.js";

let work: string;
let repo: FixtureRepo;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-hostile-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
}, 300_000);

afterAll(async () => {
  await removeImages(["hostile-image:1"]);
  rmSync(work, { recursive: true, force: true });
});

/** Bytes and mtime of each file: what "untouched" means. */
function fingerprint(files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, existsSync(f) ? `${statSync(f).mtimeMs} ${readFileSync(f).toString("base64")}` : "absent"]));
}

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
