// Where a published set is read from, file by file, as streams: a directory, an HTTP(S) base URL
// (what nodes fetch), an S3 prefix, or one URL per file (the URLs registration will hand to
// nodes). Nothing is read whole except the small SHA256SUMS, its signature and manifest.json.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { S3Target } from "../publish/targets.js";

export interface OpenedFile {
  readonly body: AsyncIterable<Uint8Array>;
  /** Where it came from, for messages. */
  readonly location: string;
}

export interface SetSource {
  /** Human-readable name of the set, e.g. the directory or base URL. */
  readonly description: string;
  /** The file's bytes as a stream, or undefined when it does not exist (404, ENOENT, NoSuchKey). */
  open(file: string, signal?: AbortSignal): Promise<OpenedFile | undefined>;
  close(): void;
}

export function directorySource(dir: string): SetSource {
  const root = path.resolve(dir);
  return {
    description: root,
    async open(file) {
      const p = path.join(root, file);
      const info = await stat(p).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      return { body: createReadStream(p, { highWaterMark: 1 << 20 }), location: p };
    },
    close() {},
  };
}

/** Files under a base URL (`<base>/<file>`), or at the URL a map names for each file. */
export function httpSource(description: string, urlOf: (file: string) => string | undefined): SetSource {
  const controllers = new Set<AbortController>();
  return {
    description,
    async open(file, signal) {
      const url = urlOf(file);
      if (!url) return undefined;
      const controller = new AbortController();
      controllers.add(controller);
      signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
      const response = await fetch(url, { signal: controller.signal, redirect: "follow" });
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
      }
      return { body: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), location: url };
    },
    close() {
      for (const c of controllers) c.abort();
    },
  };
}

export function baseUrlSource(base: string): SetSource {
  const root = base.endsWith("/") ? base : `${base}/`;
  // Per path segment: one architecture's files of a combined set are <arch>/<file>.
  return httpSource(root, (file) => new URL(file.split("/").map(encodeURIComponent).join("/"), root).href);
}

/** s3://BUCKET/PREFIX/ (the tag directory of the bootsmith layout): objects PREFIX<file>. */
export function s3Source(url: string, options: { endpoint?: string; region?: string; caFile?: string; client?: S3Client } = {}): SetSource {
  const rest = url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let prefix = slash < 0 ? "" : rest.slice(slash + 1);
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  const target: S3Target = {
    type: "s3",
    bucket,
    prefix,
    layout: "bootsmith",
    forcePathStyle: true,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
  };
  // The AWS SDK is loaded on the first read (~0.3 s): registration imports this module for URLs only.
  let client = options.client;
  return {
    description: `s3://${bucket}/${prefix}`,
    async open(file, signal) {
      const { getObjectBody } = await import("./s3-object.js");
      client ??= (await import("../publish/s3-client.js")).createS3Client(target);
      const body = await getObjectBody(client, bucket, `${prefix}${file}`, signal);
      return body ? { body, location: `s3://${bucket}/${prefix}${file}` } : undefined;
    },
    close() {
      if (!options.client) client?.destroy();
    },
  };
}
