// The lifecycle commands against a real Ceph RGW (test/support/ceph-s3.sh) and the BSS
// contract server, through the built CLI:
//   gc       four tags of one image; BSS points a node at the oldest, one was promoted; --keep 1
//            keeps the newest, the referenced one and both ends of the promotion, deletes the
//            rest (manifest first), leaves a tag without manifest alone; dry run deletes nothing;
//            an unreachable BSS deletes nothing.
//   promote  server-side copies on S3, refused without a passed boot test.
//   diff     between two images published to S3 (fetched and sha256-checked).
//   import   a bundle into S3; a damaged bundle publishes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CephS3 } from "../publish/support/ceph.js";
import { sharedCeph } from "../publish/support/shared-ceph.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { bootsmith } from "../support/cli.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { writeCpio } from "../../src/boottest/cpio-writer.js";
import { createS3Client } from "../../src/publish/s3-client.js";
import { sha256Bytes } from "../../src/core/hash.js";
import type { Manifest } from "../../src/core/manifest.js";
import type { ImageDiff } from "../../src/lifecycle/image-diff.js";

let ceph: CephS3;
let bss: BssServer;
let client: S3Client;
let work: string;
let env: Record<string, string>;
const bucket = `life-${randomBytes(4).toString("hex")}`;

const s3 = (...args: string[]) => bootsmith([...args, "--endpoint", ceph.endpoint], { env });
const keys = async (prefix = "") =>
  ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

/** A fake image with its own builtAt (gc orders by it), published to the bucket. */
async function publishImage(name: string, tag: string, builtAt: string): Promise<string> {
  const image = await makeFakeImage({
    name,
    tags: [tag],
    sizes: { kernel: 4096, initrd: 4096, rootfs: 64 * 1024 },
    dir: mkdtempSync(path.join(work, `${name}-${tag}-`)),
  });
  writeFileSync(path.join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, builtAt }, null, 2));
  const result = await s3("publish", image.dir, "--to", `s3://${bucket}/`);
  expect(result.exitCode, result.stderr).toBe(0);
  return image.dir;
}

beforeAll(async () => {
  ceph = await sharedCeph();
  env = { PATH: process.env.PATH ?? "/usr/bin:/bin", S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey, BOOTSMITH_WORK_DIR: "" };
  client = createS3Client(
    { type: "s3", endpoint: ceph.endpoint, bucket },
    { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } },
  );
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  bss = await startBssServer();
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-lifecycle-ceph-"));
  env.BOOTSMITH_WORK_DIR = path.join(work, "staging");
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await bss?.stop();
  await ceph?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("lifecycle against Ceph RGW", () => {
  it("promote on S3: refused without a passed boot test, --force copies server-side with manifest last", async () => {
    await publishImage("gcimg", "t1", "2026-11-01T00:00:00Z");
    await publishImage("gcimg", "t2", "2026-11-02T00:00:00Z");
    const refused = await s3("promote", "gcimg:t2", "--to", "prod", "--target", `s3://${bucket}`);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("refusing to promote gcimg:t2 to prod");
    expect(await keys("gcimg/prod/")).toEqual([]);
    const forced = await s3("promote", "gcimg:t2", "--to", "prod", "--target", `s3://${bucket}`, "--force");
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(await keys("gcimg/prod/")).toEqual(["gcimg/prod/initramfs.img", "gcimg/prod/manifest.json", "gcimg/prod/rootfs.squashfs", "gcimg/prod/vmlinuz"]);
    const downloaded = path.join(work, "prod-copy");
    const exported = await s3("export", `s3://${bucket}/gcimg/prod`, "-o", `${downloaded}.tar`);
    expect(exported.exitCode, exported.stderr).toBe(0); // every object fetched and matched its sha256
    const unknown = await s3("promote", "gcimg:nope", "--to", "x", "--target", `s3://${bucket}`);
    expect(unknown.exitCode).toBe(2);
  });

  it("gc --keep 1 with BSS pointing at the oldest tag: keeps it, the newest and the promoted ones, deletes the rest", async () => {
    await publishImage("gcimg", "t3", "2026-11-03T00:00:00Z");
    await publishImage("gcimg", "t4", "2026-11-04T00:00:00Z");
    // A publish cut short: artifacts but no manifest.json.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "gcimg/t5/vmlinuz", Body: "partial" }));
    const base = `${ceph.endpoint}/${bucket}/gcimg/t1`;
    const put = await fetch(`${bss.url}/boot/v1/bootparameters`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        macs: ["52:54:00:00:00:01"],
        kernel: `${base}/vmlinuz`,
        initrd: `${base}/initramfs.img`,
        params: `root=live:${base}/rootfs.squashfs`,
      }),
    });
    expect(put.status).toBe(200);
    const before = await keys();

    const dry = await s3("gc", `s3://${bucket}`, "--keep", "1", "--bss", bss.url);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/keep +gcimg:t1 .*in use by BSS mac 52:54:00:00:00:01/);
    expect(dry.stdout).toMatch(/keep +gcimg:t2 .*promotion t2 → prod .*\(forced\)/);
    expect(dry.stdout).toMatch(/keep +gcimg:t4 .*newest #1/);
    expect(dry.stdout).toMatch(/would delete gcimg:t3 /);
    expect(dry.stdout).toContain("incomplete  gcimg:t5  (no manifest.json: left alone)");
    expect(dry.stdout).toContain("dry run: 1 tag(s) would be deleted");
    expect(await keys()).toEqual(before);

    const down = await s3("gc", `s3://${bucket}`, "--keep", "1", "--bss", "http://127.0.0.1:9", "--yes");
    expect(down.exitCode).toBe(1);
    expect(await keys()).toEqual(before);

    const json = await s3("gc", `s3://${bucket}`, "--keep", "1", "--bss", bss.url, "--yes", "--json");
    expect(json.exitCode, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { deleted: number; remove: { tag: string }[] };
    expect(result.remove.map((r) => r.tag)).toEqual(["t3"]);
    expect(result.deleted).toBe(1);
    expect(await keys("gcimg/t3/")).toEqual([]);
    for (const tag of ["t1", "t2", "t4", "prod"]) expect(await keys(`gcimg/${tag}/`), tag).toContain(`gcimg/${tag}/manifest.json`);
    expect(await keys("gcimg/t5/")).toEqual(["gcimg/t5/vmlinuz"]);
    expect(bss.violations).toEqual([]); // every request and answer matched BSS's swagger
  });

  it("gc without a boot service to ask: exit 2, nothing deleted", async () => {
    const before = await keys();
    const result = await s3("gc", `s3://${bucket}`, "--keep", "1", "--yes");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("it must know which images nodes boot");
    expect(await keys()).toEqual(before);
  });

  it("diff between two images published to S3", async () => {
    // Real squashfs and initramfs, so the listings can be compared.
    const make = async (tag: string, extra: boolean) => {
      const dir = mkdtempSync(path.join(work, `real-${tag}-`));
      const tree = path.join(dir, "tree");
      mkdirSync(path.join(tree, "etc"), { recursive: true });
      writeFileSync(path.join(tree, "etc/motd"), "hello\n");
      if (extra) writeFileSync(path.join(tree, "etc/extra.conf"), "extra\n");
      await execa("mksquashfs", [tree, path.join(dir, "rootfs.squashfs"), "-quiet", "-noappend", "-no-progress"]);
      rmSync(tree, { recursive: true });
      writeFileSync(path.join(dir, "initramfs.img"), writeCpio([{ name: "usr/lib/dracut/modules.txt", data: extra ? "base\nlivenet\n" : "base\n" }]));
      const artifacts: Manifest["artifacts"] = {};
      for (const [role, file] of [
        ["initrd", "initramfs.img"],
        ["rootfs", "rootfs.squashfs"],
      ] as const) {
        const bytes = readFileSync(path.join(dir, file));
        artifacts[role] = { file, sha256: sha256Bytes(bytes), size: bytes.length };
      }
      const manifest = {
        schemaVersion: 1,
        name: "real",
        tags: [tag],
        arch: "x86_64",
        inputDigest: "0".repeat(64),
        recipeFile: "r.yaml",
        base: { kind: "scratch" },
        image: { ref: "localhost/real" },
        artifacts,
        packages: extra ? [{ name: "extra", version: "1", release: "1", arch: "noarch" }] : [],
        packageManager: "dnf",
        tools: {},
        timings: [],
        builtAt: `2026-11-0${extra ? 2 : 1}T00:00:00Z`,
      };
      writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
      expect((await s3("publish", dir, "--to", `s3://${bucket}/`)).exitCode).toBe(0);
    };
    await make("a", false);
    await make("b", true);
    const result = await s3("diff", `s3://${bucket}/real/a`, `s3://${bucket}/real/b`, "--json");
    expect(result.exitCode, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as ImageDiff;
    expect(diff.packages?.added.map((p) => p.name)).toEqual(["extra"]);
    expect(diff.rootfs).toEqual({ added: ["/etc/extra.conf"], removed: [], changed: [] });
    expect(diff.dracutModules).toEqual({ added: ["livenet"], removed: [] });
    const missing = await s3("diff", `s3://${bucket}/real/a`, `s3://${bucket}/real/zz`);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("real/zz/manifest.json does not exist");
    // inspect names the image it read, not the temporary directory it was fetched into.
    const inspected = await s3("inspect", `s3://${bucket}/real/b`, "--json");
    expect(inspected.exitCode, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { source: string }).source).toBe(`s3://${bucket}/real/b`);
  });

  it("import a bundle into S3; a bundle with a flipped byte publishes nothing", async () => {
    const image = await makeFakeImage({
      name: "carried",
      tags: ["1"],
      sizes: { kernel: 4096, rootfs: 3 << 20 },
      dir: mkdtempSync(path.join(work, "carried-")),
    });
    const bundle = path.join(work, "carried.tar");
    expect((await bootsmith(["export", image.dir, "-o", bundle])).exitCode).toBe(0);
    const bytes = readFileSync(bundle);
    const at = bytes.length - 1024 - (1 << 20);
    bytes[at] = bytes[at]! ^ 0x01;
    writeFileSync(path.join(work, "flipped.tar"), bytes);
    const bad = await s3("import", path.join(work, "flipped.tar"), "--to", `s3://${bucket}`);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/rootfs\.squashfs has sha256 .* the bundle is damaged; nothing was published/);
    expect(await keys("carried/")).toEqual([]);
    const good = await s3("import", bundle, "--to", `s3://${bucket}`);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(await keys("carried/")).toEqual(["carried/1/manifest.json", "carried/1/rootfs.squashfs", "carried/1/vmlinuz"]);
  });
});
