// When an upload's body goes without SigV4's payload hash. Signing the payload (the SDK's default
// for a Buffer body) makes the client hash every byte with sha256 for x-amz-content-sha256 and the
// server hash it again to check it: on a 2 GiB upload against a local Ceph RGW that was a quarter
// of the CPU the client and the server spent together (docs/benchmarks.md, "S3 upload,
// 2026-12-02"), on top of the whole-file sha256 the upload computes anyway. The payload hash
// guards the body in transit, so it is dropped (`UNSIGNED-PAYLOAD`, which S3, Ceph RGW and MinIO
// accept) exactly where the transport already guarantees the bytes arrive as sent:
//   - https: TLS authenticates every record; a body altered or corrupted on the way fails the
//     connection, and the SDK retries the request (`aws s3 cp` skips payload signing over https
//     for the same reason);
//   - a loopback address (127.0.0.0/8, ::1): the bytes go from memory to memory inside one
//     kernel, with no wire to corrupt them and no network to tamper with them (the W3C Secure
//     Contexts rule counts the same addresses as trustworthy).
// Anything else (plain http to another host) keeps the signed payload, which the server checks:
// a body altered on the way is refused (XAmzContentSHA256Mismatch), not stored.
// Headers, Content-Length included, stay signed in every case.
import { isIP } from "node:net";
import type { S3Client } from "@aws-sdk/client-s3";

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** The commands that carry object bytes. */
const BODY_COMMANDS = new Set(["PutObjectCommand", "UploadPartCommand"]);

/** True when the endpoint's transport protects the body on its own (https, or a loopback IP literal). */
export function transportProtectsPayload(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return true; // AWS S3: https
  const url = new URL(endpoint);
  if (url.protocol === "https:") return true;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // A name is not trusted: what it resolves to is not known here.
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
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
