// Publish an artifact set to S3 (Ceph RGW, MinIO, AWS). Per tag: skip objects whose
// x-amz-meta-sha256 already matches, upload (primary tag) or server-side copy (other tags) the
// rest, HEAD every artifact to verify size and hash, and only then write manifest.json. A tag
// whose manifest is about to change loses its old manifest first, so a reader never sees a
// manifest next to artifacts that do not belong to it.
//
// Tags: each tag gets a self-contained directory (OpenCHAMI image-thrillhouse's shape). Bytes
// cross the network once, under the primary tag; further tags are CopyObject'ed on the server.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { performance } from "node:perf_hooks";
import type { ArtifactRole } from "../core/manifest.js";
import type { ArtifactSet, LocalArtifact } from "./artifacts.js";
import { PublishError } from "./errors.js";
import { sha256Bytes, sha256Chunks } from "../core/hash.js";
import { joinUrl, s3KeyPrefix, s3Keys } from "./layout.js";
import type { PublishOptions, PublishOutcome } from "./publisher.js";
import type { ArtifactTransfer } from "./progress.js";
import { createS3Client, DEFAULT_REGION, explainS3Error, type S3ClientOptions } from "./s3-client.js";
import { DEFAULT_QUEUE_SIZE, SHA256_METADATA, uploadFile } from "./s3-upload.js";
import type { S3Target, S3Verify } from "./targets.js";
import type { PublishedImage } from "../core/published-image.js";

export interface S3PublishOptions extends PublishOptions {
  /** Use this client (tests, or callers publishing many images); otherwise one is made from the target. */
  readonly client?: S3Client;
  readonly clientOptions?: S3ClientOptions;
  /** Multipart part size in bytes (default 8 MiB; raised automatically past 10,000 parts). */
  readonly partSize?: number;
  /** Parts in flight (default 4). */
  readonly queueSize?: number;
  /**
   * How each artifact is checked before manifest.json is written: "metadata" (default) HEADs it
   * and compares size and the x-amz-meta-sha256 the upload set; "full" also downloads it and
   * hashes the bytes the server returns, which catches what metadata cannot (a proxy or gateway
   * that altered the body, corruption at rest) at the price of reading every object back.
   */
  readonly verify?: S3Verify;
}

/** CopyObject's limit; larger objects are uploaded again for secondary tags. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

const CONTENT_TYPES: Readonly<Record<ArtifactRole, string>> = {
  kernel: "application/octet-stream",
  initrd: "application/octet-stream",
  rootfs: "application/octet-stream",
  sbomCycloneDx: "application/vnd.cyclonedx+json",
  sbomSpdx: "application/spdx+json",
};

export async function publishToS3(set: ArtifactSet, target: S3Target, options: S3PublishOptions = {}): Promise<PublishOutcome> {
  const client =
    options.client ??
    createS3Client(target, {
      ...options.clientOptions,
      maxSockets: Math.max(options.clientOptions?.maxSockets ?? 0, (options.queueSize ?? DEFAULT_QUEUE_SIZE) + 2),
    });
  const secrets = s3Secrets(options);
  const { manifest } = set;
  const layout = target.layout ?? "bootsmith";
  const prefix = target.prefix ?? "";
  const bucket = target.bucket;
  const manifestSha = sha256Bytes(set.manifestBytes);
  const transfers: ArtifactTransfer[] = [];
  const images: PublishedImage[] = [];
  const record = (t: ArtifactTransfer) => {
    transfers.push(t);
    options.onTransfer?.(t);
  };
  const s3url = (key: string) => `s3://${bucket}/${key}`;
  const opts = { abortSignal: options.signal };
  /** The object being worked on, so an error names it. */
  let current = `s3://${bucket}/${s3KeyPrefix(layout, prefix)}`;

  try {
    await preflight(client, bucket, s3Keys(layout, prefix, manifest, manifest.tags[0]!).manifest, options.signal);
    const primaryKeys = s3Keys(layout, prefix, manifest, manifest.tags[0]!);

    for (const [index, tag] of manifest.tags.entries()) {
      const keys = s3Keys(layout, prefix, manifest, tag);
      const existingManifest = await head(client, bucket, keys.manifest, options.signal);
      const manifestCurrent = existingManifest?.sha256 === manifestSha;
      if (existingManifest && !manifestCurrent) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys.manifest }), opts);
      }

      for (const artifact of set.artifacts) {
        const key = keys.artifacts[artifact.role];
        current = s3url(key);
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        const existing = await head(client, bucket, key, options.signal);
        if (existing && existing.sha256 === artifact.sha256 && existing.size === artifact.size) {
          record({ action: "skipped", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination: s3url(key) });
          continue;
        }
        const source = primaryKeys.artifacts[artifact.role];
        if (index > 0 && source !== key && artifact.size <= MAX_COPY_BYTES) {
          await client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: copySource(bucket, source), MetadataDirective: "COPY" }), opts);
          record({ action: "copied", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination: s3url(key) });
          continue;
        }
        await uploadFile(client, {
          bucket,
          key,
          path: artifact.path,
          size: artifact.size,
          sha256: artifact.sha256,
          contentType: CONTENT_TYPES[artifact.role],
          partSize: options.partSize,
          queueSize: options.queueSize,
          signal: options.signal,
          cleanup: options.cleanup,
        });
        record({ action: "uploaded", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination: s3url(key) });
      }

      await verifyArtifacts(client, bucket, set.artifacts, keys.artifacts, options.verify ?? "metadata", options.signal);

      // A signed set: SHA256SUMS and its signature before the manifest, so a complete-looking
      // set (manifest present) is always verifiable.
      if (set.signature) {
        for (const [key, body, file] of [
          [keys.sums, set.signature.sums, "SHA256SUMS"],
          [keys.signature, set.signature.signature, "SHA256SUMS.sig"],
        ] as const) {
          current = s3url(key);
          const sha256 = sha256Bytes(body);
          if ((await head(client, bucket, key, options.signal))?.sha256 === sha256) {
            record({ action: "skipped", tag, file, bytes: body.length, seconds: 0, destination: s3url(key) });
            continue;
          }
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentType: file === "SHA256SUMS" ? "text/plain" : "application/pgp-signature",
              Metadata: { [SHA256_METADATA]: sha256 },
            }),
            opts,
          );
          record({ action: "uploaded", tag, file, bytes: body.length, seconds: 0, destination: s3url(key) });
        }
      }

      const started = performance.now();
      current = s3url(keys.manifest);
      if (manifestCurrent) {
        record({ action: "skipped", tag, file: "manifest.json", bytes: set.manifestBytes.length, seconds: 0, destination: s3url(keys.manifest) });
      } else {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: keys.manifest,
            Body: set.manifestBytes,
            ContentType: "application/json",
            Metadata: { [SHA256_METADATA]: manifestSha },
          }),
          opts,
        );
        record({
          action: "uploaded",
          tag,
          file: "manifest.json",
          bytes: set.manifestBytes.length,
          seconds: (performance.now() - started) / 1000,
          destination: s3url(keys.manifest),
        });
      }

      const urls: PublishedImage["urls"] = {};
      for (const artifact of set.artifacts) urls[artifact.role] = publicUrl(target, keys.artifacts[artifact.role]);
      images.push({
        name: manifest.name,
        tag,
        target: "s3",
        ...(manifest.arches ? { arch: manifest.arch } : {}),
        urls,
        manifestUrl: publicUrl(target, keys.manifest),
        ...(manifest.params ? { paramsTemplate: manifest.params } : {}),
        ...(set.signature ? { sumsUrl: publicUrl(target, keys.sums), signatureUrl: publicUrl(target, keys.signature) } : {}),
      });
    }
  } catch (error) {
    throw explainS3Error(error, `publish ${manifest.name} to ${current}`, target, secrets);
  } finally {
    if (!options.client) client.destroy();
  }
  return { images, transfers };
}

/** Base URL nodes fetch from: publicBase, else the endpoint path-style, else AWS's virtual host. */
export function publicUrl(target: S3Target, key: string): string {
  if (target.publicBase) return joinUrl(target.publicBase, key);
  if (target.endpoint) return joinUrl(`${target.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(target.bucket)}`, key);
  return joinUrl(`https://${target.bucket}.s3.${target.region ?? DEFAULT_REGION}.amazonaws.com`, key);
}

/**
 * A request whose errors carry a body (HEAD's do not), so bad credentials or a missing bucket
 * are named before any upload. AccessDenied is let through: some sites grant a publishing key
 * object permissions but not s3:ListBucket.
 */
async function preflight(client: S3Client, bucket: string, prefix: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }), { abortSignal: signal });
  } catch (error) {
    if ((error as { name?: string }).name === "AccessDenied") return;
    throw error;
  }
}

export interface Existing {
  readonly size: number;
  readonly sha256: string | undefined;
}

export async function head(client: S3Client, bucket: string, key: string, signal: AbortSignal | undefined): Promise<Existing | undefined> {
  try {
    const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return { size: result.ContentLength ?? -1, sha256: result.Metadata?.[SHA256_METADATA] };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

async function verifyArtifacts(
  client: S3Client,
  bucket: string,
  artifacts: readonly LocalArtifact[],
  keys: Readonly<Record<ArtifactRole, string>>,
  mode: S3Verify,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const artifact of artifacts) {
    const key = keys[artifact.role];
    const found = await head(client, bucket, key, signal);
    const stored = mode === "full" && found ? await readBack(client, bucket, key, signal) : undefined;
    const bad =
      !found ||
      found.size !== artifact.size ||
      found.sha256 !== artifact.sha256 ||
      (stored !== undefined && (stored.size !== artifact.size || stored.sha256 !== artifact.sha256));
    if (bad) {
      const saw = !found
        ? "no object"
        : stored
          ? `${stored.size} bytes with sha256 ${stored.sha256} when read back (metadata says ${found.sha256 ?? "(none)"})`
          : `${found.size} bytes, sha256 ${found.sha256 ?? "(none)"}`;
      throw new PublishError(
        `s3://${bucket}/${key}: expected ${artifact.size} bytes with sha256 ${artifact.sha256} after upload, found ${saw}; manifest.json was not written`,
        "verify-failed",
      );
    }
  }
}

/** Downloads an object and hashes what the server returns. */
async function readBack(client: S3Client, bucket: string, key: string, signal: AbortSignal | undefined): Promise<{ size: number; sha256: string }> {
  const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  return sha256Chunks(result.Body as AsyncIterable<Uint8Array>);
}

export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Put one small object (a combined manifest.json) with its sha256 as metadata; skipped when the
 * bucket already holds those bytes. Returns what was done.
 */
export async function putSmallObject(
  target: S3Target,
  key: string,
  body: Buffer,
  options: Pick<S3PublishOptions, "client" | "clientOptions" | "signal">,
): Promise<"uploaded" | "skipped"> {
  const client = options.client ?? createS3Client(target, options.clientOptions);
  const secrets = s3Secrets(options);
  const sha256 = sha256Bytes(body);
  try {
    if ((await head(client, target.bucket, key, options.signal))?.sha256 === sha256) return "skipped";
    await client.send(
      new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: "application/json", Metadata: { [SHA256_METADATA]: sha256 } }),
      { abortSignal: options.signal },
    );
    return "uploaded";
  } catch (error) {
    throw explainS3Error(error, `put s3://${target.bucket}/${key}`, target, secrets);
  } finally {
    if (!options.client) client.destroy();
  }
}

/** Credentials given explicitly, which explainS3Error must never print (it hides the environment's itself). */
function s3Secrets(options: Pick<S3PublishOptions, "clientOptions">): string[] {
  const credentials = options.clientOptions?.credentials;
  return [credentials?.secretAccessKey, credentials?.sessionToken].filter((s): s is string => Boolean(s));
}
