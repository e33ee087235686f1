// Upload one file to S3, hashing it in the same read pass. Multipart for files larger than one
// part: parts are read sequentially into a fixed pool of buffers (memory = queueSize ×
// partSize whatever the file size), sent `queueSize` at a time, each request retried by the SDK
// (a Buffer body can be replayed). The object's x-amz-meta-sha256 is the manifest's hash; the
// upload is completed only when the bytes read hash to it. Any failure aborts the multipart
// upload so no parts are left dangling (and stops reading at once).
//
// Not @aws-sdk/lib-storage's Upload: after a part fails it keeps reading and sending the rest of
// the file before aborting, and its abort() returns before AbortMultipartUpload is sent.
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { CleanupStack } from "../exec/cleanup.js";
import { PublishError } from "./errors.js";

export const MIB = 1024 * 1024;
/** 8 MiB × 4 buffers: peak RSS ≈ 110 MB for any file size (bench/s3-upload.mjs), and the fastest setting measured against a local RGW. */
export const DEFAULT_PART_SIZE = 8 * MIB;
export const DEFAULT_QUEUE_SIZE = 4;
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;

export interface FileUpload {
  readonly bucket: string;
  readonly key: string;
  readonly path: string;
  readonly size: number;
  /** Expected sha256 (from the manifest), stored as x-amz-meta-sha256. */
  readonly sha256: string;
  readonly contentType?: string;
  readonly partSize?: number;
  readonly queueSize?: number;
  readonly signal?: AbortSignal;
  /** Holds an "abort multipart upload" undo while the upload is open. */
  readonly cleanup?: CleanupStack;
}

export interface UploadOutcome {
  readonly multipart: boolean;
  readonly parts: number;
}

/** Metadata key: the SDK sends it as x-amz-meta-sha256. */
export const SHA256_METADATA = "sha256";

export async function uploadFile(client: S3Client, upload: FileUpload): Promise<UploadOutcome> {
  const partSize = effectivePartSize(upload.size, upload.partSize ?? DEFAULT_PART_SIZE);
  const file = await open(upload.path, "r");
  try {
    if (upload.size <= partSize) {
      await putSmall(client, upload, file);
      return { multipart: false, parts: 1 };
    }
    const parts = await putMultipart(client, upload, file, partSize, Math.max(1, upload.queueSize ?? DEFAULT_QUEUE_SIZE));
    return { multipart: true, parts };
  } finally {
    await file.close();
  }
}

/** S3 allows 10,000 parts: grow the part size for very large files. */
export function effectivePartSize(size: number, requested: number): number {
  const floor = Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
  return Math.max(requested, floor);
}

async function putSmall(client: S3Client, upload: FileUpload, file: FileHandle): Promise<void> {
  const body = Buffer.allocUnsafe(upload.size);
  await readFully(file, body, 0, upload);
  checkHash(createHash("sha256").update(body).digest("hex"), upload);
  await client.send(
    new PutObjectCommand({
      Bucket: upload.bucket,
      Key: upload.key,
      Body: body,
      ContentLength: upload.size,
      ContentType: upload.contentType,
      Metadata: { [SHA256_METADATA]: upload.sha256 },
    }),
    { abortSignal: upload.signal },
  );
}

async function putMultipart(client: S3Client, upload: FileUpload, file: FileHandle, partSize: number, queueSize: number): Promise<number> {
  const opts = { abortSignal: upload.signal };
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: upload.bucket,
      Key: upload.key,
      ContentType: upload.contentType,
      Metadata: { [SHA256_METADATA]: upload.sha256 },
    }),
    opts,
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new PublishError(`s3://${upload.bucket}/${upload.key}: the server returned no UploadId`, "transfer-failed");
  const dropUndo =
    upload.cleanup?.push(`abort multipart upload of s3://${upload.bucket}/${upload.key}`, () => abortMultipart(client, upload, uploadId, undefined)) ??
    (() => {});

  try {
    const partCount = Math.ceil(upload.size / partSize);
    const completed: CompletedPart[] = new Array<CompletedPart>(partCount);
    const pool: Buffer[] = [];
    const hash = createHash("sha256");
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;

    for (let index = 0; index < partCount && !failure; index++) {
      while (inflight.size >= queueSize) await Promise.race(inflight);
      if (failure) break;
      const offset = index * partSize;
      const length = Math.min(partSize, upload.size - offset);
      const pooled = pool.pop() ?? Buffer.allocUnsafe(partSize);
      const body = length === partSize ? pooled : pooled.subarray(0, length);
      await readFully(file, body, offset, upload);
      hash.update(body);
      const partNumber = index + 1;
      const sent: Promise<void> = client
        .send(
          new UploadPartCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }),
          opts,
        )
        .then((result) => {
          if (!result.ETag) throw new PublishError(`s3://${upload.bucket}/${upload.key}: part ${partNumber} has no ETag in the response`, "transfer-failed");
          completed[index] = { PartNumber: partNumber, ETag: result.ETag };
        })
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => {
          inflight.delete(sent);
          pool.push(pooled);
        });
      inflight.add(sent);
    }
    await Promise.all(inflight);
    if (failure) throw failure.error;
    checkHash(hash.digest("hex"), upload);
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: uploadId, MultipartUpload: { Parts: completed } }),
      opts,
    );
    return partCount;
  } catch (error) {
    await abortMultipart(client, upload, uploadId, error);
    throw error;
  } finally {
    dropUndo();
  }
}

/** Abort with the SDK's retries, without the caller's signal (an interrupt must still clean up). */
async function abortMultipart(client: S3Client, upload: FileUpload, uploadId: string, reason: unknown): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: uploadId }));
  } catch (abortError) {
    if ((abortError as { name?: string }).name === "NoSuchUpload") return;
    // From a cleanup stack (no reason): let the stack report it.
    if (reason === undefined) throw abortError;
    // Keep the original failure as the error; say what is left behind and how to remove it.
    if (reason instanceof Error) {
      reason.message +=
        `\n  and aborting multipart upload ${uploadId} failed (${(abortError as Error).message}); remove it with:` +
        ` aws s3api abort-multipart-upload --bucket ${upload.bucket} --key ${upload.key} --upload-id ${uploadId}`;
    }
  }
}

async function readFully(file: FileHandle, into: Buffer, position: number, upload: FileUpload): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      throw new PublishError(
        `${upload.path}: file ended at ${position + done} bytes, expected ${upload.size}; it changed during the upload`,
        "checksum-mismatch",
      );
    }
    done += bytesRead;
  }
}

function checkHash(actual: string, upload: FileUpload): void {
  if (actual !== upload.sha256) {
    throw new PublishError(
      `${upload.path}: sha256 ${actual} does not match the manifest's ${upload.sha256}; the file changed after the build — nothing was published under ${upload.key}`,
      "checksum-mismatch",
    );
  }
}
