// An image published to S3 (bootsmith layout: [PREFIX/]NAME/TAG/{manifest.json,artifacts}),
// fetched into a temporary directory for diff and export. Each artifact is hashed while it
// streams to disk and refused when it does not match the manifest.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { createS3Client, explainS3Error } from "../publish/s3-client.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import type { S3Target } from "../publish/targets.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import type { OpenedSource, SourceOptions } from "./source-types.js";

/** `s3://bucket/a/b/name/tag` → the target (bucket, prefix `a/b/`) and the image's key folder. */
export function parseS3ImageSpec(spec: string, options: SourceOptions): { target: S3Target; folder: string } {
  const parts = spec.slice("s3://".length).replace(/\/+$/, "").split("/");
  if (parts.length < 3) throw new LifecycleInputError(`${spec}: expected s3://BUCKET/[PREFIX/]NAME/TAG (the folder holding manifest.json)`);
  const target = parseTargetSpec(
    `s3://${parts[0]!}`,
    {
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
    },
    null,
  );
  if (target.type !== "s3") throw new Error("unreachable: s3:// parsed as another target");
  return { target, folder: `${parts.slice(1).join("/")}/` };
}

export async function fetchS3Image(spec: string, options: SourceOptions): Promise<OpenedSource> {
  const { target, folder } = parseS3ImageSpec(spec, options);
  const client = createS3Client(target);
  const dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-s3-image-"));
  const close = async () => {
    client.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const get = async (key: string) => {
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: options.signal });
        return result.Body as Readable;
      } catch (error) {
        if ((error as { name?: string }).name === "NoSuchKey")
          throw new LifecycleInputError(
            `${spec}: s3://${target.bucket}/${key} does not exist (no complete image published there: manifest.json is written last)`,
            { cause: error },
          );
        throw new LifecycleError(explainS3Error(error, `reading s3://${target.bucket}/${key}`, target).message, { cause: error });
      }
    };
    const manifestBytes = Buffer.from(await (await get(`${folder}${MANIFEST_FILE}`)).toArray().then((chunks) => Buffer.concat(chunks as Buffer[])));
    let manifest: Manifest;
    try {
      manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
    } catch (error) {
      throw new LifecycleError(`${spec}: ${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`, { cause: error });
    }
    await writeFile(path.join(dir, MANIFEST_FILE), manifestBytes);
    for (const record of Object.values(manifest.artifacts ?? {})) {
      if (!record || path.basename(record.file) !== record.file)
        throw new LifecycleError(`${spec}: ${MANIFEST_FILE} lists an artifact with a bad file name ${JSON.stringify(record?.file)}`);
      const hash = createHash("sha256");
      await pipeline(
        await get(`${folder}${record.file}`),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(path.join(dir, record.file)),
        { signal: options.signal },
      );
      const actual = hash.digest("hex");
      if (actual !== record.sha256)
        throw new LifecycleError(
          `${spec}: ${record.file} has sha256 ${actual}, but the manifest says ${record.sha256}: the published object is damaged or was replaced`,
        );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, close };
}
