// When an upload's body goes without SigV4's payload hash. Signing the payload (the SDK's default
// for a Buffer body) makes the client hash every byte with sha256 for x-amz-content-sha256 and the
// server hash it again to check it: on a 2 GiB upload against a local Ceph RGW that was a quarter
// of the CPU the client and the server spent together (docs/benchmarks.md, "S3 upload,
// 2026-12-02"), on top of the whole-file sha256 the upload computes anyway. The payload hash
// guards the body in transit, so it is dropped (`UNSIGNED-PAYLOAD`, which S3, Ceph RGW and MinIO
// accept) exactly where the transport already guarantees the bytes arrive as sent: https, where
// TLS authenticates every record (a body altered or corrupted on the way fails the connection,
// and the SDK retries the request; `aws s3 cp` skips payload signing over https for the same
// reason). Plain http keeps the signed payload, which the server checks: a body altered on the
// way is refused (XAmzContentSHA256Mismatch), not stored. That includes a loopback endpoint:
// nothing on one host alters the bytes, but exempting it would speed up only test and benchmark
// set-ups (a Ceph on 127.0.0.1), not a site's publish to its object store.
// Headers, Content-Length included, stay signed in every case.
import type { S3Client } from "@aws-sdk/client-s3";

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** The commands that carry object bytes. */
const BODY_COMMANDS = new Set(["PutObjectCommand", "UploadPartCommand"]);

/** True when the endpoint's transport protects the body on its own: https. */
export function transportProtectsPayload(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return true; // AWS S3: https
  return new URL(endpoint).protocol === "https:";
}

/** Send PutObject/UploadPart bodies with UNSIGNED-PAYLOAD when `transportProtectsPayload(endpoint)`. */
export function skipPayloadHashWhereSafe(client: S3Client, endpoint: string | undefined): void {
  if (!transportProtectsPayload(endpoint)) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      // The signer uses a payload hash already in the headers instead of hashing the body.
      if (BODY_COMMANDS.has(context.commandName ?? "") && request.headers) request.headers["x-amz-content-sha256"] ??= UNSIGNED_PAYLOAD;
      return next(args);
    },
    { step: "build", priority: "low", name: "bootsmithUnsignedPayload" },
  );
}
