// Two private Ceph instances at once (two checkouts' tests, or a test and the S3 benchmark):
// each gets its own monitor and RGW port, so neither collides with the other.
import { afterAll, describe, expect, it } from "vitest";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { startCeph, type CephS3 } from "./ceph.js";

const started: CephS3[] = [];
afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
});

describe("startCeph", () => {
  it("runs two instances side by side on different ports", { timeout: 240_000 }, async () => {
    const both = await Promise.allSettled([startCeph(), startCeph()]);
    for (const r of both) if (r.status === "fulfilled") started.push(r.value);
    expect(both.map((r) => (r.status === "rejected" ? String(r.reason) : "started"))).toEqual(["started", "started"]);
    const [a, b] = started;
    expect(a!.endpoint).not.toBe(b!.endpoint);
    for (const ceph of [a!, b!]) {
      const client = new S3Client({
        endpoint: ceph.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
      });
      const listed = await client.send(new ListBucketsCommand({}));
      expect(listed.Buckets ?? []).toEqual([]);
      client.destroy();
    }
  });
});
