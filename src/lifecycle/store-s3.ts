// An S3 target (bootsmith layout) as an image store. Promotion is server-side: CopyObject per
// artifact (the sha256 metadata travels with it), a HEAD of each copy, and the manifests last
// (a combined set's: each architecture's <arch>/manifest.json, then the combined one); the
// destination's old manifests are deleted before anything is copied, so a failure leaves an
// incomplete tag, never a complete-looking mix. Deletion removes manifest.json first.
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { sha256Bytes } from "../core/hash.js";
import { MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { copySource, head, publicUrl } from "../publish/s3.js";
import { createS3Client, explainS3Error } from "../publish/s3-client.js";
import { SHA256_METADATA } from "../publish/s3-upload.js";
import type { S3Target } from "../publish/targets.js";
import { LifecycleError } from "./errors.js";
import { parseStoredManifest, type ImageStore, type ReferenceMatch, type StoredTag } from "./store.js";
import { renderTagFiles, type TagCopy } from "./tag-copy.js";
import { archFolder, s3KeyPrefix } from "../publish/layout.js";

/** CopyObject's limit (a larger object would need UploadPartCopy). */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

export class S3Store implements ImageStore {
  readonly label: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(private readonly target: S3Target) {
    this.client = createS3Client(target);
    this.bucket = target.bucket;
    this.prefix = s3KeyPrefix("bootsmith", target.prefix ?? "");
    this.label = `s3://${this.bucket}/${this.prefix}`;
  }

  private key(name: string, tag: string, file: string): string {
    return `${this.prefix}${name}/${tag}/${file}`;
  }

  private async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof LifecycleError) throw error;
      throw new LifecycleError(explainS3Error(error, what, this.target).message, { cause: error });
    }
  }

  async readManifest(name: string, tag: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    return this.readSetFile(name, tag, MANIFEST_FILE, signal);
  }

  async readSetFile(name: string, tag: string, file: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    const key = this.key(name, tag, file);
    return this.guard(`reading s3://${this.bucket}/${key}`, async () => {
      try {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
        return Buffer.from(await res.Body!.transformToByteArray());
      } catch (error) {
        if ((error as { name?: string }).name === "NoSuchKey") return undefined;
        throw error;
      }
    });
  }

  async copyTag(name: string, from: string, to: string, copy: TagCopy, signal?: AbortSignal): Promise<void> {
    const opts = { abortSignal: signal };
    const manifests = await renderTagFiles(copy, signal);
    await this.guard(`promoting ${name}:${from} to ${name}:${to} in s3://${this.bucket}`, async () => {
      for (const r of copy.artifacts) {
        const found = await head(this.client, this.bucket, this.key(name, from, r.file), signal);
        if (!found || found.size !== r.size || found.sha256 !== r.sha256)
          throw new LifecycleError(
            `s3://${this.bucket}/${this.key(name, from, r.file)}: missing or not the object the manifest lists (size ${r.size}, sha256 ${r.sha256.slice(0, 12)}…); nothing was promoted`,
          );
        if (r.size > MAX_COPY_BYTES)
          throw new LifecycleError(`${r.file}: ${r.size} bytes is over CopyObject's 5 GiB limit; promote does not re-upload; nothing was promoted`);
      }
      // The destination stops being complete before any of its objects change: its own
      // manifest.json first (written last), then each architecture's.
      for (const { file } of [...manifests].reverse())
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name, to, file) }), opts);
      for (const r of copy.artifacts) {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: this.key(name, to, r.file),
            CopySource: copySource(this.bucket, this.key(name, from, r.file)),
            MetadataDirective: "COPY",
          }),
          opts,
        );
        const copied = await head(this.client, this.bucket, this.key(name, to, r.file), signal);
        if (!copied || copied.size !== r.size || copied.sha256 !== r.sha256)
          throw new LifecycleError(
            `s3://${this.bucket}/${this.key(name, to, r.file)}: the copy does not match (size ${copied?.size ?? "none"}); manifest.json was not written`,
          );
      }
      for (const { file, bytes } of manifests)
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(name, to, file),
            Body: bytes,
            ContentType: file.endsWith(".json") ? "application/json" : file.endsWith(".sig") ? "application/pgp-signature" : "text/plain",
            Metadata: { [SHA256_METADATA]: sha256Bytes(bytes) },
          }),
          opts,
        );
    });
  }

  async list(name?: string, signal?: AbortSignal): Promise<StoredTag[]> {
    const keys = await this.listKeys(`${this.prefix}${name !== undefined ? `${name}/` : ""}`, signal);
    const tags = new Map<string, { name: string; tag: string; hasManifest: boolean }>();
    for (const key of keys) {
      const parts = key.slice(this.prefix.length).split("/");
      if (parts.length !== 3) continue;
      const [n, t, file] = parts as [string, string, string];
      const entry = tags.get(`${n}/${t}`) ?? { name: n, tag: t, hasManifest: false };
      if (file === MANIFEST_FILE) entry.hasManifest = true;
      tags.set(`${n}/${t}`, entry);
    }
    const out: StoredTag[] = [];
    for (const e of [...tags.values()].sort((a, b) => `${a.name}/${a.tag}`.localeCompare(`${b.name}/${b.tag}`))) {
      const bytes = e.hasManifest ? await this.readManifest(e.name, e.tag, signal) : undefined;
      const where = `s3://${this.bucket}/${this.key(e.name, e.tag, MANIFEST_FILE)}`;
      out.push({ name: e.name, tag: e.tag, ...(bytes ? { manifest: parseStoredManifest(bytes, where) as Manifest } : {}) });
    }
    return out;
  }

  private async listKeys(prefix: string, signal?: AbortSignal): Promise<string[]> {
    return this.guard(`listing s3://${this.bucket}/${prefix}`, async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), {
          abortSignal: signal,
        });
        for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return keys;
    });
  }

  async deleteTag(name: string, tag: string, signal?: AbortSignal): Promise<void> {
    const folder = `${this.prefix}${name}/${tag}/`;
    await this.guard(`deleting s3://${this.bucket}/${folder}`, async () => {
      // manifest.json first: from here on the tag is not complete, whatever happens next.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${folder}${MANIFEST_FILE}` }), { abortSignal: signal });
      // One DeleteObject per key: a tag holds a handful of objects, and DeleteObjects needs a
      // body checksum that S3-compatible servers disagree about.
      for (const key of await this.listKeys(folder, signal))
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    });
  }

  publishedImage(name: string, tag: string, manifest: Manifest): PublishedImage {
    const arch = archFolder(manifest);
    const key = (file: string) => this.key(name, tag, arch ? `${arch}/${file}` : file);
    const urls: PublishedImage["urls"] = {};
    for (const [role, record] of Object.entries(manifest.artifacts) as [ArtifactRole, ArtifactRecord | undefined][])
      if (record) urls[role] = publicUrl(this.target, key(record.file));
    return {
      name,
      tag,
      target: "s3",
      ...(arch ? { arch } : {}),
      urls,
      manifestUrl: publicUrl(this.target, key(MANIFEST_FILE)),
      ...(manifest.params ? { paramsTemplate: manifest.params } : {}),
    };
  }

  /** Every artifact URL of a tag contains /NAME/TAG/ (the trailing slash: tag 1 is not tag 10). */
  matchReference(reference: string, tag: StoredTag): ReferenceMatch | undefined {
    return reference.includes(this.urlFragment(tag.name, tag.tag)) ? { sure: true } : undefined;
  }

  urlFragment(name: string, tag: string): string {
    return `/${this.prefix}${name}/${tag}/`;
  }

  close(): void {
    this.client.destroy();
  }
}
