// bootsmith export: an artifact set → one bundle tar, streamed (each file is read once, hashed
// while it is packed and checked against the manifest). The tar is written beside its final
// name and renamed into place when complete, so a failed or interrupted export leaves no file
// that looks like a bundle.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack, type Pack } from "tar-stream";
import { MANIFEST_FILE } from "../core/manifest.js";
import { fileSystemFailure } from "../core/errors.js";
import { loadImageDir } from "./image-dir.js";
import { sha256Bytes, sha256File } from "../core/hash.js";
import { BUNDLE_INDEX, BUNDLE_VERSION, EXTRA_FILE, IMAGE_DIR, type BundleFile, type BundleIndex } from "./bundle-format.js";
import { layoutFiles } from "./bundle-image.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";

export interface ExportOptions {
  readonly signal?: AbortSignal;
  /** Called after each file is packed (progress). */
  readonly onFile?: (file: BundleFile) => void;
  /** --with-image: an OCI layout (bundle-image.ts stageImage) to carry under image/. */
  readonly image?: { readonly layout: string; readonly digest: string; readonly source: string };
}

export interface ExportResult {
  readonly index: BundleIndex;
  readonly output: string;
  readonly bytes: number;
}

/** Entries get a fixed time and owner: the same image gives the same bundle bytes. */
const ENTRY = { mode: 0o644, uid: 0, gid: 0, uname: "root", gname: "root" } as const;

export async function exportBundle(dir: string, output: string, options: ExportOptions = {}): Promise<ExportResult> {
  const set = await loadImageDir(dir);
  // A build lists its SBOMs as artifacts: they are packed (and checked) as such, not again as extras.
  const artifactNames = new Set(set.artifacts.map((a) => a.name));
  const extras = (await readdir(set.dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && EXTRA_FILE.test(e.name) && !artifactNames.has(e.name))
    .map((e) => e.name)
    .sort();
  const sources = new Map<string, string>();
  const files: BundleFile[] = [{ name: MANIFEST_FILE, size: set.manifestBytes.length, sha256: sha256Bytes(set.manifestBytes) }];
  for (const a of set.artifacts) {
    files.push({ name: a.name, size: a.size, sha256: a.sha256 });
    sources.set(a.name, a.path);
  }
  for (const name of extras) {
    const file = path.join(set.dir, name);
    const { size } = await stat(file);
    files.push({ name, size, sha256: await sha256File(file) });
    sources.set(name, file);
  }
  if (options.image) {
    for (const rel of await layoutFiles(options.image.layout)) {
      const file = path.join(options.image.layout, rel);
      const { size } = await stat(file);
      // A blob's name is its sha256: it is checked while it is packed, like the artifacts.
      const sha256 = rel.startsWith("blobs/sha256/") ? path.basename(rel) : await sha256File(file);
      files.push({ name: `${IMAGE_DIR}/${rel}`, size, sha256 });
      sources.set(`${IMAGE_DIR}/${rel}`, file);
    }
  }
  const mtime = new Date(set.manifest.builtAt);
  const index: BundleIndex = {
    bundleVersion: BUNDLE_VERSION,
    name: set.manifest.name,
    tags: set.manifest.tags,
    createdAt: new Date().toISOString(),
    files,
    ...(options.image ? { image: { digest: options.image.digest, source: options.image.source } } : {}),
  };
  const indexBytes = Buffer.from(`${JSON.stringify(index, null, 2)}\n`);

  const final = path.resolve(output);
  if (await stat(final).catch(() => undefined)) throw new LifecycleInputError(`-o ${output}: already exists; remove it or give another file name`);
  const partial = `${final}.partial-${process.pid}`;
  const out = await openOutput(output, partial);
  const pack = tarPack();
  // The pack is a streamx Readable; Readable.from() reads it as an async iterable.
  const written = pipeline(Readable.from(pack as AsyncIterable<Buffer>), out.createWriteStream(), { signal: options.signal });
  written.catch(() => {}); // awaited below; not "unhandled" while entries are still being added
  try {
    await addBuffer(pack, BUNDLE_INDEX, indexBytes, mtime);
    await addBuffer(pack, MANIFEST_FILE, set.manifestBytes, mtime);
    options.onFile?.(files[0]!);
    for (const file of files.slice(1)) {
      options.signal?.throwIfAborted();
      await addFile(pack, file, sources.get(file.name)!, mtime, written, options.signal);
      options.onFile?.(file);
    }
    pack.finalize();
    await written;
  } catch (error) {
    pack.destroy();
    await written.catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, final);
  const { size } = await stat(final);
  return { index, output: final, bytes: size };
}

/**
 * The partial file, opened before anything is packed: a read-only or missing directory is bad
 * input named by -o, not an 'error' event on a half-written tar entry.
 */
async function openOutput(output: string, partial: string): Promise<FileHandle> {
  try {
    return await open(partial, "wx");
  } catch (error) {
    const fs = fileSystemFailure(error);
    if (!fs) throw error;
    throw new LifecycleInputError(`-o ${output}: cannot be written: ${fs.message}; give a file in a writable directory`, { cause: error });
  }
}

function addBuffer(pack: Pack, name: string, bytes: Buffer, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    // A failed output destroys the entry too; its error reaches the callback, so the event needs no crash.
    pack.entry({ ...ENTRY, name, size: bytes.length, mtime }, bytes, (error) => (error ? reject(error) : resolve())).on("error", () => {});
  });
}

/** Stream one file into the tar, hashing it on the way; a changed file fails the export. */
async function addFile(pack: Pack, file: BundleFile, source: string, mtime: Date, written: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  const hash = createHash("sha256");
  let done!: Promise<void>;
  const entry = await new Promise<ReturnType<Pack["entry"]>>((resolveEntry) => {
    done = new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ ...ENTRY, name: file.name, size: file.size, mtime }, (error) => (error ? reject(error) : resolve()));
      entry.on("error", () => {}); // reported through the callback (done) and `written`
      resolveEntry(entry);
    });
  });
  // The entry is a streamx Writable: write with its backpressure (drain), then end it.
  for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    // A failed output (disk full) never drains: its error ends the wait instead.
    if (!entry.write(chunk)) await Promise.race([once(entry, "drain"), written]);
  }
  entry.end(undefined);
  await done;
  const actual = hash.digest("hex");
  if (actual !== file.sha256)
    throw new LifecycleError(
      `${source}: sha256 ${actual} does not match ${file.name.startsWith(`${IMAGE_DIR}/`) ? "its name in the OCI layout" : "the manifest's"} ${file.sha256}; the file changed after the build — no bundle was written`,
    );
}
