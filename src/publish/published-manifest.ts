// The manifest.json a publish target holds for one image tag: what `build --check-published`
// compares a recipe's key with on a runner that never built it (a fresh CI runner, another head
// node). Every publish writes manifest.json last, so finding it means the set under that tag is
// complete. S3 (either layout) is asked with one GetObject, a directory target is read from disk.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { s3Keys } from "./layout.js";
import { createS3Client, explainS3Error } from "./s3-client.js";
import type { LocalTarget, S3Target } from "./targets.js";

export type PublishedManifest =
  | { readonly kind: "found"; readonly where: string; readonly manifest: Manifest }
  | { readonly kind: "missing"; readonly where: string }
  | { readonly kind: "unchecked"; readonly where: string; readonly why: string };

/** Where `target` keeps the manifest of `name:tag` (one architecture's set: no `arches`). */
export function publishedManifestLocation(target: S3Target | LocalTarget, name: string, tag: string): string {
  if (target.type === "local") return path.join(path.resolve(target.dir), name, tag, MANIFEST_FILE);
  return `s3://${target.bucket}/${s3Keys(target.layout ?? "bootsmith", target.prefix ?? "", { name }, tag).manifest}`;
}

export async function readPublishedManifest(target: S3Target | LocalTarget, name: string, tag: string): Promise<PublishedManifest> {
  const where = publishedManifestLocation(target, name, tag);
  let text: string | undefined;
  try {
    text = target.type === "local" ? await readLocal(where) : await readS3(target, where.slice(`s3://${target.bucket}/`.length));
  } catch (error) {
    return { kind: "unchecked", where, why: error instanceof Error ? error.message : String(error) };
  }
  if (text === undefined) return { kind: "missing", where };
  try {
    const manifest = JSON.parse(text) as Manifest;
    if (typeof manifest.inputDigest !== "string") return { kind: "unchecked", where, why: "it records no inputDigest" };
    return { kind: "found", where, manifest };
  } catch (error) {
    return { kind: "unchecked", where, why: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}

async function readLocal(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function readS3(target: S3Target, key: string): Promise<string | undefined> {
  // Two attempts, not a publish's six: an unreachable target makes the build go ahead, said why.
  const client = createS3Client(target, { maxAttempts: 2 });
  try {
    const result = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return await result.Body!.transformToString("utf8");
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw explainS3Error(error, `reading s3://${target.bucket}/${key}`, target);
  } finally {
    client.destroy();
  }
}
