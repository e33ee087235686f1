// S3 publishing against a real Ceph RGW (test/support/ceph-s3.sh): upload, HEAD, download and
// compare sha256, skip-unchanged, manifest-last, wrong secret, a changed file, and connections
// cut mid-upload by a proxy — never a manifest listing a missing object, never a dangling
// multipart upload.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishError } from "../../src/publish/errors.js";
import { s3Keys } from "../../src/publish/layout.js";
import { createS3Client, type S3Credentials } from "../../src/publish/s3-client.js";
import { publishToS3 } from "../../src/publish/s3.js";
import type { S3Target } from "../../src/publish/targets.js";
import { makeFakeImage } from "./support/artifacts.js";
import type { CephS3 } from "./support/ceph.js";
import { sharedCeph } from "./support/shared-ceph.js";
import { startCorruptingProxy } from "./support/corrupting-proxy.js";
import { startCuttingProxy } from "./support/cutting-proxy.js";
import { startTlsProxy } from "./support/tls-proxy.js";
import { makeTestKey } from "../support/gpg-keys.js";
import { makeSignedSet } from "../support/signed-set.js";
import { s3Source } from "../../src/verify/sources.js";
import { verifySet } from "../../src/verify/verify.js";
import { bootsmith } from "../support/cli.js";

const MiB = 1024 * 1024;
let ceph: CephS3;
let client: S3Client;
let credentials: S3Credentials;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  ceph = await sharedCeph();
  credentials = { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey };
  client = createS3Client({ type: "s3", endpoint: ceph.endpoint, bucket: "unused" }, { credentials });
}, 150_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  client?.destroy();
  await ceph?.stop();
}, 60_000);

async function newBucket(): Promise<string> {
  const bucket = `pub-${randomBytes(4).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function fakeImage(...args: Parameters<typeof makeFakeImage>) {
  const image = await makeFakeImage(...args);
  cleanups.push(() => rm(image.dir, { recursive: true, force: true }));
  return image;
}

async function download(bucket: string, key: string): Promise<{ sha256: string; size: number }> {
  const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of result.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

async function danglingUploads(bucket: string): Promise<number> {
  const result = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return result.Uploads?.length ?? 0;
}

async function keysIn(bucket: string): Promise<string[]> {
  const result = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (result.Contents ?? []).map((o) => o.Key ?? "").sort();
}

/** Record the write requests a client sends, in order: "PutObject key", "CompleteMultipartUpload key", … */
function recordWrites(s3: S3Client): string[] {
  const writes: string[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "";
      if (/^(PutObject|UploadPart|CompleteMultipartUpload|CopyObject|CreateMultipartUpload)Command$/.test(name)) {
        writes.push(`${name.replace(/Command$/, "")} ${(args.input as { Key?: string }).Key ?? ""}`);
      }
      return next(args);
    },
    { step: "initialize", name: "recordWrites" },
  );
  return writes;
}

describe("publishToS3 (Ceph RGW)", () => {
  it("uploads every tag, verifies the bytes, writes manifests last and skips unchanged objects", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1.0", "latest"] });
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket, prefix: "images/", publicBase: "http://boot.example:8080/pub" };
    const set = await loadArtifactSet(image.dir);
    const s3 = createS3Client(target, { credentials });
    cleanups.push(async () => s3.destroy());
    const writes = recordWrites(s3);

    const first = await publishToS3(set, target, { client: s3, partSize: 5 * MiB, queueSize: 3 });

    expect(first.transfers.map((t) => `${t.tag} ${t.action} ${t.file}`)).toEqual([
      "1.0 uploaded vmlinuz",
      "1.0 uploaded initramfs.img",
      "1.0 uploaded rootfs.squashfs",
      "1.0 uploaded manifest.json",
      "latest copied vmlinuz",
      "latest copied initramfs.img",
      "latest copied rootfs.squashfs",
      "latest uploaded manifest.json",
    ]);
    // 24 MiB rootfs in 5 MiB parts: multipart really ran.
    expect(writes.filter((w) => w === "UploadPart images/test-image/1.0/rootfs.squashfs")).toHaveLength(5);

    for (const tag of ["1.0", "latest"]) {
      const keys = s3Keys("bootsmith", "images/", image.manifest, tag);
      // The fake image has the three boot files (no SBOMs): check the keys of what it has.
      for (const artifact of set.artifacts) {
        const key = keys.artifacts[artifact.role];
        const file = artifact.name;
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        expect(head.Metadata?.sha256).toBe(image.sha256[file]);
        expect(await download(bucket, key)).toEqual({ sha256: image.sha256[file], size: set.artifacts.find((a) => a.name === file)!.size });
      }
      expect((await download(bucket, keys.manifest)).sha256).toBe(image.sha256["manifest.json"]);
      // manifest.json is the last write under its tag.
      const underTag = writes.filter((w) => w.includes(`/${tag}/`));
      expect(underTag.at(-1)).toBe(`PutObject ${keys.manifest}`);
    }

    expect(first.images.map((i) => i.tag)).toEqual(["1.0", "latest"]);
    expect(first.images[0]).toEqual({
      name: "test-image",
      tag: "1.0",
      target: "s3",
      urls: {
        kernel: "http://boot.example:8080/pub/images/test-image/1.0/vmlinuz",
        initrd: "http://boot.example:8080/pub/images/test-image/1.0/initramfs.img",
        rootfs: "http://boot.example:8080/pub/images/test-image/1.0/rootfs.squashfs",
      },
      manifestUrl: "http://boot.example:8080/pub/images/test-image/1.0/manifest.json",
    });

    writes.length = 0;
    const second = await publishToS3(set, target, { client: s3, partSize: 5 * MiB });
    expect(second.transfers.every((t) => t.action === "skipped")).toBe(true);
    expect(second.transfers).toHaveLength(8);
    expect(writes).toEqual([]);
    expect(await danglingUploads(bucket)).toBe(0);
  });

  it("--verify full reads every object back and catches bytes that differ although the metadata matches", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["v1"], sizes: { kernel: 4096, initrd: 8192, rootfs: 65536 } });
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket };
    const set = await loadArtifactSet(image.dir);
    const s3 = createS3Client(target, { credentials });
    cleanups.push(async () => s3.destroy());
    const reads: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetObjectCommand") reads.push((args.input as { Key?: string }).Key ?? "");
        return next(args);
      },
      { step: "initialize", name: "recordReads" },
    );

    await publishToS3(set, target, { client: s3, verify: "full" });
    const keys = s3Keys("bootsmith", "", image.manifest, "v1");
    // The fake image has the three boot files (no SBOMs): each is read back once.
    expect(reads.sort()).toEqual(set.artifacts.map((a) => keys.artifacts[a.role]).sort());

    // The stored rootfs changes under unchanged metadata (corruption at rest, a gateway that
    // rewrote the body): same size, same x-amz-meta-sha256, other bytes.
    const rootfsKey = keys.artifacts.rootfs;
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: rootfsKey, Body: Buffer.alloc(65536, 7), Metadata: { sha256: image.sha256["rootfs.squashfs"]! } }),
    );
    reads.length = 0;
    const byMetadata = await publishToS3(set, target, { client: s3 });
    expect(byMetadata.transfers.every((t) => t.action === "skipped")).toBe(true); // the default trusts the metadata
    expect(reads).toEqual([]);
    const full = await publishToS3(set, target, { client: s3, verify: "full" }).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(PublishError);
    expect((full as PublishError).kind).toBe("verify-failed");
    expect((full as PublishError).message).toBe(
      `s3://${bucket}/${rootfsKey}: expected 65536 bytes with sha256 ${image.sha256["rootfs.squashfs"]} after upload, found 65536 bytes with sha256 ${createHash("sha256").update(Buffer.alloc(65536, 7)).digest("hex")} when read back (metadata says ${image.sha256["rootfs.squashfs"]}); manifest.json was not written`,
    );
  });

  it("defaults public URLs to the endpoint, path-style, and supports the image-builder layout", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["v1"], sizes: { kernel: 4096, initrd: 8192, rootfs: 65536 } });
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket, layout: "image-builder", prefix: "compute-" };
    const outcome = await publishToS3(await loadArtifactSet(image.dir), target, { clientOptions: { credentials } });
    expect(outcome.images[0]?.urls).toEqual({
      kernel: `${ceph.endpoint}/${bucket}/efi-images/compute-vmlinuz-6.1.0-test-amd64`,
      initrd: `${ceph.endpoint}/${bucket}/efi-images/compute-initramfs-6.1.0-test-amd64.img`,
      rootfs: `${ceph.endpoint}/${bucket}/compute-test-image-v1`,
    });
    expect(await keysIn(bucket)).toEqual([
      "compute-test-image-v1",
      "compute-test-image-v1.manifest.json",
      "efi-images/compute-initramfs-6.1.0-test-amd64.img",
      "efi-images/compute-vmlinuz-6.1.0-test-amd64",
    ]);
  });

  it("a signed set: SBOMs, SHA256SUMS and its signature go up before the manifest; verify s3:// checks them and names a swapped object", async () => {
    const bucket = await newBucket();
    const keyDir = await mkdtemp(join(tmpdir(), "bootsmith-s3sign-"));
    cleanups.push(() => rm(keyDir, { recursive: true, force: true }));
    const key = await makeTestKey(keyDir, "builder");
    await makeSignedSet(join(keyDir, "set"), key, "signed", "1");
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket, prefix: "images/" };
    const outcome = await publishToS3(await loadArtifactSet(join(keyDir, "set")), target, { clientOptions: { credentials } });
    const files = outcome.transfers.map((t) => t.file);
    expect(files.slice(-3)).toEqual(["SHA256SUMS", "SHA256SUMS.sig", "manifest.json"]);
    expect(files).toEqual(expect.arrayContaining(["sbom.cdx.json", "sbom.spdx.json"]));
    expect(outcome.images[0]?.signatureUrl).toBe(`${ceph.endpoint}/${bucket}/images/signed/1/SHA256SUMS.sig`);
    const source = () => s3Source(`s3://${bucket}/images/signed/1/`, { client });
    const good = await verifySet(source(), { keyFile: key.publicFile });
    expect(good.files.filter((f) => !f.ok)).toEqual([]);
    expect(good.signedBy).toBe(key.fingerprint);
    // The same through the shipped CLI (the esbuild bundle, which loads the AWS SDK on demand).
    const cli = await bootsmith(["verify", `s3://${bucket}/images/signed/1/`, "--key", key.publicFile, "--endpoint", ceph.endpoint], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey },
    });
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`signed by ${key.fingerprint}`);
    // Someone with bucket access swaps the kernel for bytes of the same size.
    const size = (await download(bucket, "images/signed/1/vmlinuz")).size;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "images/signed/1/vmlinuz", Body: Buffer.alloc(size, 1) }));
    const bad = await verifySet(source(), { keyFile: key.publicFile });
    expect(bad.ok).toBe(false);
    expect(bad.files.filter((f) => !f.ok).map((f) => f.file)).toEqual(["vmlinuz"]);
  });

  it("publishes a base layer without boot artifacts as a manifest only", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["base"], sizes: {} });
    const outcome = await publishToS3(await loadArtifactSet(image.dir), { type: "s3", endpoint: ceph.endpoint, bucket }, { clientOptions: { credentials } });
    expect(outcome.images[0]?.urls).toEqual({});
    expect(await keysIn(bucket)).toEqual(["test-image/base/manifest.json"]);
  });

  it("rejects a wrong secret with an error that names the fix and not the secret", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ sizes: { kernel: 1024 } });
    const secret = "WRONG-SECRET-d41d8cd98f00b204";
    const error = await publishToS3(
      await loadArtifactSet(image.dir),
      { type: "s3", endpoint: ceph.endpoint, bucket },
      { clientOptions: { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: secret } } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).kind).toBe("credentials");
    expect((error as Error).message).toMatch(/rejected the credentials.*S3_ACCESS\/S3_SECRET/s);
    expect((error as Error).message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("reads credentials from OpenCHAMI's S3_ACCESS/S3_SECRET", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 1024 } });
    const outcome = await publishToS3(
      await loadArtifactSet(image.dir),
      { type: "s3", endpoint: ceph.endpoint, bucket },
      { clientOptions: { env: { S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey } } },
    );
    expect(outcome.transfers.map((t) => t.action)).toEqual(["uploaded", "uploaded"]);
  });

  it("refuses a file that changed after the build, aborts its multipart upload and writes no manifest", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 1024, rootfs: 12 * MiB } });
    const set = await loadArtifactSet(image.dir);
    const file = await open(join(image.dir, "rootfs.squashfs"), "r+");
    await file.write(Buffer.from("tampered"), 0, 8, 11 * MiB);
    await file.close();
    const error = await publishToS3(set, { type: "s3", endpoint: ceph.endpoint, bucket }, { clientOptions: { credentials }, partSize: 5 * MiB }).catch(
      (e: unknown) => e,
    );
    expect((error as PublishError).kind).toBe("checksum-mismatch");
    expect((error as Error).message).toContain("does not match the manifest");
    expect(await keysIn(bucket)).toEqual(["test-image/1/vmlinuz"]);
    expect(await danglingUploads(bucket)).toBe(0);
  });

  it("survives a connection cut mid-upload: the SDK retries the part and the bytes are right", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 1024, rootfs: 20 * MiB } });
    const proxy = await startCuttingProxy(new URL(ceph.endpoint), 2 * MiB, 1);
    cleanups.push(() => proxy.close());
    const outcome = await publishToS3(
      await loadArtifactSet(image.dir),
      { type: "s3", endpoint: proxy.endpoint, bucket },
      { clientOptions: { credentials }, partSize: 5 * MiB },
    );
    expect(proxy.cuts).toBe(1);
    expect(outcome.transfers.map((t) => `${t.action} ${t.file}`)).toEqual(["uploaded vmlinuz", "uploaded rootfs.squashfs", "uploaded manifest.json"]);
    expect(await download(bucket, "test-image/1/rootfs.squashfs")).toEqual({ sha256: image.sha256["rootfs.squashfs"], size: 20 * MiB });
    expect(await danglingUploads(bucket)).toBe(0);
  });

  it("fails clearly when every attempt is cut, leaving no manifest and no multipart upload", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 1024, rootfs: 20 * MiB } });
    const proxy = await startCuttingProxy(new URL(ceph.endpoint), 2 * MiB, Infinity);
    cleanups.push(() => proxy.close());
    const error = await publishToS3(
      await loadArtifactSet(image.dir),
      { type: "s3", endpoint: proxy.endpoint, bucket },
      { clientOptions: { credentials, maxAttempts: 3 }, partSize: 5 * MiB },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).kind).toBe("transfer-failed");
    expect((error as Error).message).toMatch(
      /^publish test-image to s3:\/\/pub-[0-9a-f]+\/test-image\/1\/rootfs.squashfs: the connection to http:\/\/127.0.0.1:\d+ kept dropping .*(ECONNRESET|EPIPE|socket hang up)/s,
    );
    expect(proxy.cuts).toBeGreaterThanOrEqual(3);
    expect(await keysIn(bucket)).toEqual(["test-image/1/vmlinuz"]);
    expect(await danglingUploads(bucket)).toBe(0);
  });

  it("over plain http the payload stays signed: a body altered on the way is refused and nothing is published", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 1024, rootfs: 12 * MiB } });
    // One bit flipped 3 MiB into a connection: inside the first part's body.
    const proxy = await startCorruptingProxy(new URL(ceph.endpoint), 3 * MiB);
    cleanups.push(() => proxy.close());
    const error = await publishToS3(
      await loadArtifactSet(image.dir),
      { type: "s3", endpoint: proxy.endpoint, bucket },
      { clientOptions: { credentials }, partSize: 5 * MiB },
    ).catch((e: unknown) => e);
    expect(proxy.flips).toBe(1);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).kind).toBe("transfer-failed");
    expect((error as Error).message).toMatch(/rootfs.squashfs: http:\/\/[^ ]+ received a body that does not hash to what was sent \(XAmzContentSHA256Mismatch/);
    expect(await keysIn(bucket)).toEqual(["test-image/1/vmlinuz"]);
    expect(await danglingUploads(bucket)).toBe(0);
  });

  it("replaces a tag whose content changed: the old manifest goes first, the new one last", async () => {
    const bucket = await newBucket();
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket };
    const before = await fakeImage({ tags: ["dev"], sizes: { kernel: 2048, rootfs: 4096 } });
    await publishToS3(await loadArtifactSet(before.dir), target, { clientOptions: { credentials } });
    const after = await fakeImage({ tags: ["dev"], sizes: { kernel: 2048, rootfs: 8192 } });
    const s3 = createS3Client(target, { credentials });
    cleanups.push(async () => s3.destroy());
    const requests: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (/^(PutObject|DeleteObject)Command$/.test(context.commandName ?? ""))
          requests.push(`${context.commandName} ${(args.input as { Key?: string }).Key}`);
        return next(args);
      },
      { step: "initialize", name: "recordRequests" },
    );
    await publishToS3(await loadArtifactSet(after.dir), target, { client: s3 });
    expect(requests).toEqual([
      "DeleteObjectCommand test-image/dev/manifest.json",
      "PutObjectCommand test-image/dev/vmlinuz",
      "PutObjectCommand test-image/dev/rootfs.squashfs",
      "PutObjectCommand test-image/dev/manifest.json",
    ]);
    expect((await download(bucket, "test-image/dev/manifest.json")).sha256).toBe(after.sha256["manifest.json"]);
    expect((await download(bucket, "test-image/dev/rootfs.squashfs")).sha256).toBe(after.sha256["rootfs.squashfs"]);
  });

  it("talks https to an endpoint signed by a private CA given as caFile, and says so when it is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bootsmith-tls-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const proxy = await startTlsProxy(new URL(ceph.endpoint), dir);
    cleanups.push(() => proxy.close());
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { kernel: 2048, rootfs: 6 * MiB } });
    const set = await loadArtifactSet(image.dir);

    const error = await publishToS3(set, { type: "s3", endpoint: proxy.endpoint, bucket }, { clientOptions: { credentials, maxAttempts: 1 } }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*--ca-file/s);

    const outcome = await publishToS3(
      set,
      { type: "s3", endpoint: proxy.endpoint, bucket, caFile: proxy.caFile },
      { clientOptions: { credentials }, partSize: 5 * MiB },
    );
    expect(outcome.images[0]?.urls.rootfs).toBe(`${proxy.endpoint}/${bucket}/test-image/1/rootfs.squashfs`);
    expect((await download(bucket, "test-image/1/rootfs.squashfs")).sha256).toBe(image.sha256["rootfs.squashfs"]);
  });

  it("stops on an abort signal (SIGINT), aborting the open multipart upload it held on the cleanup stack", async () => {
    const bucket = await newBucket();
    const image = await fakeImage({ tags: ["1"], sizes: { rootfs: 24 * MiB } });
    const target: S3Target = { type: "s3", endpoint: ceph.endpoint, bucket };
    const s3 = createS3Client(target, { credentials });
    cleanups.push(async () => s3.destroy());
    const cleanup = new CleanupStack();
    const interrupt = new AbortController();
    const heldDuringUpload: number[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand" && (args.input as { PartNumber?: number }).PartNumber === 2) {
          heldDuringUpload.push(cleanup.size);
          interrupt.abort(new Error("SIGINT"));
        }
        return next(args);
      },
      { step: "initialize", name: "interruptOnPart2" },
    );
    const error = await publishToS3(await loadArtifactSet(image.dir), target, {
      client: s3,
      partSize: 5 * MiB,
      queueSize: 2,
      signal: interrupt.signal,
      cleanup,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(heldDuringUpload).toEqual([1]);
    expect(cleanup.size).toBe(0);
    expect(await danglingUploads(bucket)).toBe(0);
    expect(await keysIn(bucket)).toEqual([]);
  });
});
