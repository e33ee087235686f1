// The S3 server going away in the middle of `bootsmith publish`: a real Ceph RGW (the shared
// tool, started through test/publish/support/ceph.ts) receives a ~100 MB artifact set; once the
// rootfs's multipart upload is under way, radosgw is killed. The publish must fail clearly
// (exit 1, the endpoint and the failed transfer named, no stack trace), and once radosgw is back
// the bucket must hold no manifest: nothing that nodes or `register` could take for a complete
// image. Other S3 faults (cut connections, wrong secret, changed file, SIGINT) are in
// test/publish/s3.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { execa } from "execa";
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { startCeph, type CephS3 } from "../publish/support/ceph.js";
import { makeFakeImage, type FakeImage } from "../publish/support/artifacts.js";
import { createS3Client } from "../../src/publish/s3-client.js";
import { startBootsmith } from "../support/cli.js";

const MiB = 1 << 20;
let ceph: CephS3;
let client: S3Client;
let image: FakeImage;

beforeAll(async () => {
  ceph = await startCeph();
  client = createS3Client(
    { type: "s3", endpoint: ceph.endpoint, bucket: "unused" },
    { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } },
  );
  image = await makeFakeImage({ name: "fault-s3", tags: ["1"], sizes: { kernel: 2 * MiB, initrd: 8 * MiB, rootfs: 100 * MiB } });
}, 150_000);

afterAll(async () => {
  client?.destroy();
  await ceph?.stop();
  if (image) rmSync(image.dir, { recursive: true, force: true });
}, 60_000);

/** Poll `check` every `everyMs` until it returns a value, failing after `withinMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, withinMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

describe("S3 server stopped mid-publish", () => {
  it("publish fails clearly and the bucket holds no manifest", { timeout: 170_000 }, async () => {
    if (!ceph.dir) throw new Error("this test stops radosgw itself: unset TEST_S3_ENDPOINT so it starts its own Ceph");
    const bucket = "fault-mid-publish";
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const pidFile = `${ceph.dir}/run/client.rgw.a.pid`;
    const rgwPid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
    const rgwArgv = readFileSync(`/proc/${rgwPid}/cmdline`, "utf8")
      .split("\0")
      .filter((a) => a !== "");

    const publish = startBootsmith(["publish", image.dir, "--to", `s3://${bucket}/`, "--endpoint", ceph.endpoint, "--part-size", "5", "--concurrency", "1"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey, AWS_MAX_ATTEMPTS: "3" },
      timeoutMs: 150_000,
    });
    let exited = false;
    void publish.then(() => (exited = true));
    // The rootfs upload is under way once its multipart upload exists.
    const seen = await until(
      "the rootfs multipart upload",
      async () => {
        if (exited) return "publish ended first";
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        return uploads.Uploads?.some((u) => u.Key?.endsWith("rootfs.squashfs")) ? "uploading" : undefined;
      },
      60_000,
      20,
    );
    expect(seen, exited ? String((await publish).all) : "").toBe("uploading");
    process.kill(rgwPid, "SIGKILL");
    await until("radosgw to exit", async () => (alive(rgwPid) ? undefined : true), 10_000);

    const result = await publish;
    const all = String(result.all);
    expect(result.exitCode, all).toBe(1);
    expect(all).toContain("rootfs.squashfs");
    expect(all).toContain(`cannot reach ${ceph.endpoint}`);
    expect(all).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    // The multipart upload it could not abort is named, with the command that removes it.
    expect(all).toMatch(/remove it with: aws s3api abort-multipart-upload --bucket fault-mid-publish --key fault-s3\/1\/rootfs\.squashfs --upload-id \S+/);
    expect(all).not.toMatch(/^ {4}at /m);

    // radosgw back (same command line; it daemonizes), then look at what the bucket holds.
    await execa(rgwArgv[0]!, rgwArgv.slice(1));
    await until("radosgw to answer again", async () => ((await fetch(ceph.endpoint)).status > 0 ? true : undefined), 60_000, 200);
    const listed = await until("the bucket listing", async () => client.send(new ListObjectsV2Command({ Bucket: bucket })), 30_000, 200);
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? "");
    expect(
      keys.filter((k) => k.endsWith("manifest.json")),
      `objects: ${keys.join(", ")}`,
    ).toEqual([]);
    expect(
      keys.filter((k) => k.endsWith("rootfs.squashfs")),
      "no rootfs object: its upload never completed",
    ).toEqual([]);
  });
});
