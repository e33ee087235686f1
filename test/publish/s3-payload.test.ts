// Which endpoints get UNSIGNED-PAYLOAD, and what the client really signs: the request as it leaves
// the middleware stack (after SigV4), caught before it reaches the network. The server side (a
// body altered on plain http is refused) is in test/publish/s3.test.ts.
import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createS3Client } from "../../src/publish/s3-client.js";
import { transportProtectsPayload } from "../../src/publish/s3-payload.js";

describe("transportProtectsPayload", () => {
  it.each([
    [undefined, true],
    ["https://s3.example.org", true],
    ["https://10.0.0.5:7480", true],
    ["http://127.0.0.1:7480", false],
    ["http://[::1]:9000", false],
    ["http://10.0.0.5:7480", false],
    ["http://192.0.2.2:7480", false],
    ["http://s3:7480", false],
    ["http://localhost:7480", false],
    ["http://[::2]:9000", false],
    ["http://128.0.0.1", false],
  ])("%s → %s", (endpoint, expected) => {
    expect(transportProtectsPayload(endpoint)).toBe(expected);
  });
});

class Caught extends Error {
  constructor(readonly headers: Record<string, string>) {
    super("caught before sending");
  }
}

/** The x-amz-content-sha256 header and whether it is signed, as the client would send `command` to `endpoint`. */
async function sentPayloadHash(
  endpoint: string,
  command: PutObjectCommand | UploadPartCommand | GetObjectCommand,
): Promise<{ payloadHash?: string; signed: boolean }> {
  const client = createS3Client(
    { type: "s3", endpoint, bucket: "b" },
    { credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }, maxAttempts: 1 },
  );
  client.middlewareStack.add(
    () => async (args) => {
      throw new Caught((args.request as { headers: Record<string, string> }).headers);
    },
    { step: "deserialize", name: "catchSignedRequest" },
  );
  try {
    // One command type at a time: send() is overloaded per command.
    const error = await client.send(command as PutObjectCommand).catch((e: unknown) => e);
    if (!(error instanceof Caught)) throw error;
    return {
      payloadHash: error.headers["x-amz-content-sha256"],
      signed: /SignedHeaders=[^,]*\bx-amz-content-sha256\b/.test(error.headers.authorization ?? ""),
    };
  } finally {
    client.destroy();
  }
}

describe("S3 bodies are sent", () => {
  const body = Buffer.from("rootfs bytes");
  const sha = createHash("sha256").update(body).digest("hex");
  const put = () => new PutObjectCommand({ Bucket: "b", Key: "k", Body: body });
  const part = () => new UploadPartCommand({ Bucket: "b", Key: "k", UploadId: "u", PartNumber: 1, Body: body });

  it("with their sha256 signed over plain http, to another host or this one", async () => {
    expect(await sentPayloadHash("http://192.0.2.10:7480", put())).toEqual({ payloadHash: sha, signed: true });
    expect(await sentPayloadHash("http://s3.example.org:7480", part())).toEqual({ payloadHash: sha, signed: true });
    expect(await sentPayloadHash("http://127.0.0.1:7480", part())).toEqual({ payloadHash: sha, signed: true });
  });

  it("as UNSIGNED-PAYLOAD (a signed header) over https", async () => {
    for (const endpoint of ["https://s3.example.org", "https://10.0.0.5:7480"]) {
      expect(await sentPayloadHash(endpoint, put())).toEqual({ payloadHash: "UNSIGNED-PAYLOAD", signed: true });
      expect(await sentPayloadHash(endpoint, part())).toEqual({ payloadHash: "UNSIGNED-PAYLOAD", signed: true });
    }
  });

  it("leaves requests without an object body alone", async () => {
    const empty = createHash("sha256").digest("hex");
    expect(await sentPayloadHash("https://s3.example.org", new GetObjectCommand({ Bucket: "b", Key: "k" }))).toEqual({ payloadHash: empty, signed: true });
  });
});
