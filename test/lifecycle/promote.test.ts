// bootsmith promote on a directory target through the built CLI. A real `bootsmith boot-test`
// on an image whose artifacts are not bootable is refused by its preflight and records nothing;
// a failed run in manifest.json (bootTest.lastRun) is refused by promote (exit 1, nothing created). A passed run is recorded
// with the function boot-test uses (a real QEMU pass takes minutes): promote then makes the new tag
// out of hard links with the history in its manifest. --force promotes without a pass and says
// so; a signed set is signed again for the new tag with --sign-key and refused without it;
// unknown tags and bad arguments are exit 2. (S3: test/lifecycle/ceph.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, CLI } from "../support/cli.js";
import { startBssServer } from "../support/bss-server.js";
import { makeFakeImage, type FakeImage } from "../publish/support/artifacts.js";
import { recordInManifest } from "../../src/boottest/report.js";
import type { Manifest } from "../../src/core/manifest.js";
import { makeTestKey } from "../support/gpg-keys.js";

let work: string;
let image: FakeImage;
let root: string;

const manifestAt = (tag: string) => JSON.parse(readFileSync(path.join(root, "promo", tag, "manifest.json"), "utf8")) as Manifest;
const publish = () => bootsmith(["publish", image.dir, "--to", `dir:${root}`]);

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-promote-"));
  root = path.join(work, "published");
  image = await makeFakeImage({ name: "promo", tags: ["1"], sizes: { kernel: 4096, initrd: 4096, rootfs: 1 << 20 } });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(image.dir, { recursive: true, force: true });
});

describe("bootsmith promote (dir: target)", () => {
  it("refuses an image without a passed boot test: exit 1, the failed test named, no new tag", async () => {
    // The preflight refuses the fake artifacts before any guest runs: no verdict, nothing recorded.
    const tested = await bootsmith(["boot-test", image.dir]);
    expect(tested.exitCode).toBe(1);
    expect(tested.stdout).toContain("NOT BOOTED boot-test (preflight)");
    const untested = JSON.parse(readFileSync(path.join(image.dir, "manifest.json"), "utf8")) as Manifest;
    expect(untested.bootTest?.lastRun).toBeUndefined();
    expect((await publish()).exitCode).toBe(0);
    const none = await bootsmith(["promote", "promo:1", "--to", "prod", "--target", `dir:${root}`]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("its manifest records no passed boot test (no boot test on record)");
    // A failed boot, recorded as boot-test records one.
    await recordInManifest(image.dir, { at: new Date().toISOString(), ok: false, phases: [], checks: [{ name: "slurmd", status: "fail" }] });
    expect((await publish()).exitCode).toBe(0);
    const result = await bootsmith(["promote", "promo:1", "--to", "prod", "--target", `dir:${root}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /refusing to promote promo:1 to prod: its manifest records no passed boot test \(the last boot test, \S+, failed: slurmd fail\)/,
    );
    expect(result.stderr).toContain("--force");
    expect(existsSync(path.join(root, "promo", "prod"))).toBe(false);
  });

  it("promotes one with a passed boot test: hard links, manifest last with the history", async () => {
    await recordInManifest(image.dir, { at: new Date().toISOString(), ok: true, totalSeconds: 51, phases: [], checks: [{ name: "marker", status: "pass" }] });
    expect((await publish()).exitCode).toBe(0);
    const result = await bootsmith(["promote", "promo:1", "--to", "prod", "--target", `dir:${root}`], { env: { USER: "operator" } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^promoted promo:1 → promo:prod in dir:.* \(boot test passed .* \(51 s\)\)$/);
    for (const file of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) {
      expect(statSync(path.join(root, "promo", "prod", file)).ino, file).toBe(statSync(path.join(root, "promo", "1", file)).ino);
    }
    // As readable as the published tag (a web server serving the target runs as another user).
    expect(statSync(path.join(root, "promo", "prod")).mode & 0o777).toBe(statSync(path.join(root, "promo")).mode & 0o777);
    const prod = manifestAt("prod");
    expect(prod.tags).toEqual(["1", "prod"]);
    expect(prod.promotions).toEqual([{ from: "1", to: "prod", at: expect.any(String), forced: false, by: "operator" }]);
    expect(prod.artifacts).toEqual(manifestAt("1").artifacts);
    expect(manifestAt("1").promotions).toBeUndefined(); // the source is left as it was
  });

  it("--force promotes without a passed test and records it as forced; an existing tag is replaced", async () => {
    const other = await makeFakeImage({ name: "promo", tags: ["2"], sizes: { kernel: 4096, rootfs: 8192 } });
    expect((await bootsmith(["publish", other.dir, "--to", `dir:${root}`])).exitCode).toBe(0);
    const refused = await bootsmith(["promote", "promo:2", "--to", "prod", "--target", `dir:${root}`]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("(no boot test on record)");
    expect(manifestAt("prod").promotions).toHaveLength(1); // prod untouched
    const forced = await bootsmith(["promote", "promo:2", "--to", "prod", "--target", `dir:${root}`, "--force"]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("FORCED: no passed boot test on record");
    const prod = manifestAt("prod");
    expect(prod.promotions).toEqual([expect.objectContaining({ from: "2", to: "prod", forced: true })]);
    expect(existsSync(path.join(root, "promo", "prod", "initramfs.img"))).toBe(false); // image 2 has none
    rmSync(other.dir, { recursive: true, force: true });
  });

  it("a signed set: refused without --sign-key (exit 2, nothing created); with it the new tag is signed and verifies", async () => {
    const signedImage = await makeFakeImage({ name: "sealed", tags: ["1"], sizes: { kernel: 4096, rootfs: 8192 } });
    const key = await makeTestKey(work, "promoter");
    expect((await bootsmith(["publish", signedImage.dir, "--to", `dir:${root}`, "--sign-key", key.secretFile])).exitCode).toBe(0);
    expect((await bootsmith(["verify", path.join(root, "sealed", "1"), "--key", key.publicFile])).exitCode).toBe(0);

    const refused = await bootsmith(["promote", "sealed:1", "--to", "prod", "--target", `dir:${root}`, "--force"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/sealed:1 is signed \(SHA256SUMS\.sig\).*give --sign-key KEY.*nothing was promoted/);
    expect(existsSync(path.join(root, "sealed", "prod"))).toBe(false);

    const promoted = await bootsmith(["promote", "sealed:1", "--to", "prod", "--target", `dir:${root}`, "--force", "--sign-key", key.secretFile]);
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const verified = await bootsmith(["verify", path.join(root, "sealed", "prod"), "--key", key.publicFile]);
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("signed by");
    const prod = JSON.parse(readFileSync(path.join(root, "sealed", "prod", "manifest.json"), "utf8")) as Manifest;
    expect(prod.promotions).toEqual([expect.objectContaining({ from: "1", to: "prod" })]);
    // The source keeps its own signature, and a key that cannot sign is refused before any copy.
    expect((await bootsmith(["verify", path.join(root, "sealed", "1"), "--key", key.publicFile])).exitCode).toBe(0);
    const badKey = await bootsmith(["promote", "sealed:1", "--to", "qa", "--target", `dir:${root}`, "--force", "--sign-key", key.publicFile]);
    expect(badKey.exitCode).toBe(2);
    expect(existsSync(path.join(root, "sealed", "qa"))).toBe(false);
    rmSync(signedImage.dir, { recursive: true, force: true });
  });

  it("--json prints the new tag's URLs, which bootsmith register - takes (dry run against the BSS contract server)", async () => {
    const promoted = await bootsmith([
      "promote",
      "promo:1",
      "--to",
      "staging",
      "--target",
      `dir:${root}`,
      "--public-base",
      "http://head.example:8080/images",
      "--json",
    ]);
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    const image = JSON.parse(promoted.stdout) as { name: string; tag: string; urls: Record<string, string> };
    expect(image).toMatchObject({
      name: "promo",
      tag: "staging",
      urls: { kernel: "http://head.example:8080/images/promo/staging/vmlinuz", rootfs: "http://head.example:8080/images/promo/staging/rootfs.squashfs" },
    });
    const bss = await startBssServer();
    try {
      const registered = await execa(
        process.execPath,
        [CLI, "register", "-", "--params-template", "root=live:{{ rootfs.url }}", "--bss", bss.url, "--mac", "52:54:00:00:00:07", "--dry-run"],
        { input: promoted.stdout, reject: false, env: { CI: "true" } },
      );
      // The dry run shows the params it would set; it exits 1 because head.example serves nothing.
      expect(registered.stdout).toContain("root=live:http://head.example:8080/images/promo/staging/rootfs.squashfs");
      expect(registered.stdout).toContain("a real run would refuse");
      expect(registered.exitCode).toBe(1);
      expect(bss.violations).toEqual([]);
    } finally {
      await bss.stop();
    }
  });

  it("unknown image, bad tag, bad registry flag: exit 2, nothing created", async () => {
    const unknown = await bootsmith(["promote", "promo:9", "--to", "x", "--target", `dir:${root}`]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("promo:9: not published in dir:");
    const badTag = await bootsmith(["promote", "promo:1", "--to", "-bad", "--target", `dir:${root}`]);
    expect(badTag.exitCode).toBe(2);
    const same = await bootsmith(["promote", "promo:1", "--to", "1", "--target", `dir:${root}`]);
    expect(same.exitCode).toBe(2);
    const registry = await bootsmith(["promote", "promo:1", "--to", "x", "--target", "registry:127.0.0.1:9/promo", "--tls-verify=prob"]);
    expect(registry.exitCode).toBe(2);
    expect(registry.stderr).toContain("--tls-verify=prob: expected true or false");
    expect(existsSync(path.join(root, "promo", "x"))).toBe(false);
  });

  it("a hand-edited manifest is refused naming the file and the field, not with a stack trace; nothing created", async () => {
    const edited = path.join(root, "promo", "edited");
    mkdirSync(edited, { recursive: true });
    writeFileSync(path.join(edited, "manifest.json"), JSON.stringify({ ...manifestAt("1"), artifacts: "vmlinuz" }));
    const bad = await bootsmith(["promote", "promo:edited", "--to", "e2", "--target", `dir:${root}`, "--force"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("promo/edited/manifest.json: artifacts must be an object (role → file, sha256, size) (edited by hand");
    expect(bad.stderr).not.toMatch(/TypeError|^\s+at /m);
    // A boot-test record without its checks list (written by hand): the refusal still says when it failed.
    const { bootTest: _, ...rest } = manifestAt("1");
    writeFileSync(
      path.join(edited, "manifest.json"),
      JSON.stringify({ ...rest, bootTest: { timeoutSeconds: 60, lastRun: { at: "2025-01-01T00:00:00Z", ok: false } } }),
    );
    const refused = await bootsmith(["promote", "promo:edited", "--to", "e2", "--target", `dir:${root}`]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("(the last boot test, 2025-01-01T00:00:00Z, failed)");
    expect(refused.stderr).not.toMatch(/TypeError|^\s+at /m);
    expect(existsSync(path.join(root, "promo", "e2"))).toBe(false);
  });
});
