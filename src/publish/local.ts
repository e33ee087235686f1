// Publish an artifact set into a directory tree `<dir>/<name>/<tag>/`, for small sites and boot
// tests (served by `bootsmith serve`). Each tag directory is assembled in a temporary directory
// beside it (same filesystem), manifest.json written last, then renamed into place: readers see
// the old set or the new one, never a half-copied one. Files whose bytes are already published
// are hard-linked instead of copied; copied files are hashed while they are copied.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { makeStagingDir } from "../core/staging-dir.js";
import { link, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { MANIFEST_FILE, type ArtifactRole, type Manifest } from "../core/manifest.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import type { ArtifactSet, LocalArtifact } from "./artifacts.js";
import { PublishError } from "./errors.js";
import { sha256File } from "../core/hash.js";
import { archFolder, joinUrl } from "./layout.js";
import type { ArtifactTransfer } from "./progress.js";
import type { PublishOptions, PublishOutcome } from "./publisher.js";
import type { LocalTarget } from "./targets.js";
import type { PublishedImage } from "../core/published-image.js";

export async function publishToLocal(set: ArtifactSet, target: LocalTarget, options: PublishOptions = {}): Promise<PublishOutcome> {
  const { manifest } = set;
  const arch = archFolder(manifest);
  const nameDir = join(resolve(target.dir), manifest.name);
  const transfers: ArtifactTransfer[] = [];
  const images: PublishedImage[] = [];
  const record = (t: ArtifactTransfer) => {
    transfers.push(t);
    options.onTransfer?.(t);
  };
  /** Files published (and verified) under the primary tag: later tags hard-link them. */
  const primary = new Map<string, string>();

  for (const tag of manifest.tags) {
    options.signal?.throwIfAborted();
    const [imageDir, leaf] = arch ? [join(nameDir, tag), arch] : [nameDir, tag];
    await mkdir(imageDir, { recursive: true });
    const finalDir = join(imageDir, leaf);
    const current = await currentFiles(finalDir, set.artifacts);
    const signatureFiles = set.signature
      ? ([
          [SUMS_FILE, set.signature.sums],
          [SIGNATURE_FILE, set.signature.signature],
        ] as const)
      : [];
    let manifestCurrent = await sameBytes(join(finalDir, MANIFEST_FILE), set.manifestBytes);
    for (const [file, bytes] of signatureFiles) manifestCurrent &&= await sameBytes(join(finalDir, file), bytes);

    if (manifestCurrent && set.artifacts.every((a) => current.has(a.name))) {
      for (const a of set.artifacts) record({ action: "skipped", tag, file: a.name, bytes: a.size, seconds: 0, destination: join(finalDir, a.name) });
      record({ action: "skipped", tag, file: MANIFEST_FILE, bytes: set.manifestBytes.length, seconds: 0, destination: join(finalDir, MANIFEST_FILE) });
    } else {
      const staging = await makeStagingDir(join(imageDir, `.${leaf}.tmp-`));
      const dropUndo = options.cleanup?.push(`remove ${staging}`, () => rm(staging, { recursive: true, force: true })) ?? (() => {});
      try {
        for (const artifact of set.artifacts) {
          options.signal?.throwIfAborted();
          const started = performance.now();
          const into = join(staging, artifact.name);
          const destination = join(finalDir, artifact.name);
          const seconds = () => (performance.now() - started) / 1000;
          if (current.has(artifact.name)) {
            await link(join(finalDir, artifact.name), into);
            record({ action: "skipped", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination });
          } else if (primary.has(artifact.name)) {
            await link(primary.get(artifact.name)!, into);
            record({ action: "copied", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination });
          } else {
            await copyVerified(artifact, into, options.signal);
            record({ action: "uploaded", tag, file: artifact.name, bytes: artifact.size, seconds: seconds(), destination });
          }
        }
        for (const [file, bytes] of signatureFiles) {
          await writeFile(join(staging, file), bytes);
          record({ action: "uploaded", tag, file, bytes: bytes.length, seconds: 0, destination: join(finalDir, file) });
        }
        await writeFile(join(staging, MANIFEST_FILE), set.manifestBytes);
        await swapInto(staging, finalDir, imageDir, leaf);
        record({ action: "uploaded", tag, file: MANIFEST_FILE, bytes: set.manifestBytes.length, seconds: 0, destination: join(finalDir, MANIFEST_FILE) });
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw error;
      } finally {
        dropUndo();
      }
    }
    if (primary.size === 0) for (const a of set.artifacts) primary.set(a.name, join(finalDir, a.name));

    images.push(
      dirPublishedImage(
        target,
        manifest,
        tag,
        set.artifacts.map((a) => [a.role, a.name]),
        set.signature !== undefined,
      ),
    );
  }
  return { images, transfers };
}

/**
 * The record of one tag published to a directory target: its files' URLs (under publicBase, else
 * file:// URLs of ROOT/NAME/TAG[/ARCH]) and the build's params template. Shared with promote.
 */
export function dirPublishedImage(
  target: Pick<LocalTarget, "dir" | "publicBase">,
  manifest: Manifest,
  tag: string,
  files: readonly (readonly [ArtifactRole, string])[],
  signed: boolean,
): PublishedImage {
  const arch = archFolder(manifest);
  const folder = `${manifest.name}/${tag}/${arch ? `${arch}/` : ""}`;
  const url = (file: string) =>
    target.publicBase ? joinUrl(target.publicBase, `${folder}${file}`) : pathToFileURL(join(resolve(target.dir), folder, file)).href;
  const urls: PublishedImage["urls"] = {};
  for (const [role, file] of files) urls[role] = url(file);
  return {
    name: manifest.name,
    tag,
    target: "local",
    ...(arch ? { arch } : {}),
    urls,
    manifestUrl: url(MANIFEST_FILE),
    ...(manifest.params ? { paramsTemplate: manifest.params } : {}),
    ...(signed ? { sumsUrl: url(SUMS_FILE), signatureUrl: url(SIGNATURE_FILE) } : {}),
  };
}

/** Names of the artifacts already present in `dir` with the manifest's size and sha256. */
async function currentFiles(dir: string, artifacts: readonly LocalArtifact[]): Promise<Set<string>> {
  const same = new Set<string>();
  for (const artifact of artifacts) {
    const path = join(dir, artifact.name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.size === artifact.size && (await sha256File(path)) === artifact.sha256) same.add(artifact.name);
  }
  return same;
}

async function sameBytes(path: string, bytes: Buffer): Promise<boolean> {
  const existing = await readFile(path).catch(() => undefined);
  return existing !== undefined && existing.equals(bytes);
}

/** Copy while hashing (one read pass); refuse bytes that do not match the manifest. */
async function copyVerified(artifact: LocalArtifact, into: string, signal: AbortSignal | undefined): Promise<void> {
  const hash = createHash("sha256");
  await pipeline(
    createReadStream(artifact.path, { highWaterMark: 1 << 20 }),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(into, { flags: "wx" }),
    { signal },
  );
  const actual = hash.digest("hex");
  if (actual !== artifact.sha256) {
    throw new PublishError(
      `${artifact.path}: sha256 ${actual} does not match the manifest's ${artifact.sha256}; the file changed after the build — nothing was published`,
      "checksum-mismatch",
    );
  }
}

/**
 * Move the staged directory to its final name. A new tag is one atomic rename; replacing a tag
 * moves the old directory aside first (two renames, the gap is microseconds) since Node has no
 * renameat2(RENAME_EXCHANGE).
 */
export async function swapInto(staging: string, finalDir: string, imageDir: string, tag: string): Promise<void> {
  const exists = await stat(finalDir).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await rename(staging, finalDir);
    return;
  }
  const old = await mkdtemp(join(imageDir, `.${tag}.old-`));
  const aside = join(old, tag);
  await rename(finalDir, aside);
  await rename(staging, finalDir);
  await rm(old, { recursive: true, force: true });
}
