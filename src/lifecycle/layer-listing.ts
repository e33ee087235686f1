// What a container image's root holds, read from its layers as tar streams (tar-stream, gunzip),
// never unpacked: the layers are applied in order to one listing, with the OCI whiteouts
// (`.wh.NAME` deletes NAME, `.wh..wh..opq` empties a directory of what lower layers put there),
// in the same shape as a squashfs listing (rootfs-listing.ts), so the diff compares either.
// Small files asked for by path are kept in memory; others (an initramfs) are streamed to files.
import { createReadStream } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract, type Header } from "tar-stream";
import { writeHashed } from "../core/hash.js";
import { LifecycleError } from "./errors.js";
import { blobPath, type OciDescriptor } from "./oci-layout.js";
import type { EntryType, RootfsEntry } from "./rootfs-listing.js";

export interface LayerWalkRequest {
  /** Absolute paths whose bytes are wanted in memory (the last layer's copy wins). */
  readonly smallFiles?: readonly string[];
  /** Absolute paths matching this are streamed into `extractDir` (named by a counter) with their sha256. */
  readonly extract?: RegExp;
  readonly extractDir?: string;
  readonly signal?: AbortSignal;
}

export interface LayerWalk {
  readonly listing: Map<string, RootfsEntry>;
  readonly smallFiles: ReadonlyMap<string, Buffer>;
  /** Image path → the extracted copy and its sha256 (only for paths still present at the top). */
  readonly extracted: ReadonlyMap<string, { readonly file: string; readonly sha256: string }>;
}

/** Small files are capped: the in-image manifest of a large image is well under this. */
const SMALL_FILE_LIMIT = 64 << 20;

const TYPES: Partial<Record<NonNullable<Header["type"]>, EntryType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/** `./usr/bin/x/` → `/usr/bin/x`; "" for the root. */
export function layerPath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  return parts.length === 0 ? "" : `/${parts.join("/")}`;
}

const isUnder = (p: string, dir: string) => p.startsWith(`${dir}/`);

export async function walkLayers(layout: string, layers: readonly OciDescriptor[], request: LayerWalkRequest = {}): Promise<LayerWalk> {
  const listing = new Map<string, RootfsEntry>();
  const small = new Map<string, Buffer>();
  const extracted = new Map<string, { file: string; sha256: string }>();
  const wanted = new Set(request.smallFiles ?? []);
  let counter = 0;
  for (const layer of layers) {
    const gzip = /gzip$/.test(layer.mediaType);
    if (!gzip && !/\.tar$|\.layer\.v1\.tar$|diff\.tar$/.test(layer.mediaType))
      throw new LifecycleError(
        `${layout}: layer ${layer.digest} is ${layer.mediaType}; bootsmith reads uncompressed and gzip layers (what buildah pushes by default), not this compression`,
      );
    // Paths this layer added: an opaque whiteout removes what lower layers had, not these.
    const added = new Set<string>();
    /** Remove `p` (unless only its content goes) and everything under it, sparing what this layer added when asked. */
    const removeTree = (p: string, { self, keepAdded }: { self: boolean; keepAdded: boolean }) => {
      for (const key of [...listing.keys()]) if (((self && key === p) || isUnder(key, p)) && !(keepAdded && added.has(key))) listing.delete(key);
    };
    const extract = tarExtract();
    const source = createReadStream(blobPath(layout, layer.digest), { highWaterMark: 1 << 20 });
    const options = request.signal ? { signal: request.signal } : {};
    const feeding = gzip ? pipeline(source, createGunzip(), extract, options) : pipeline(source, extract, options);
    feeding.catch(() => {});
    try {
      for await (const entry of extract) {
        const header = entry.header;
        const p = layerPath(header.name);
        const base = path.posix.basename(p);
        const drain = async () => {
          for await (const _ of entry as AsyncIterable<Buffer>);
        };
        if (base === ".wh..wh..opq") {
          removeTree(path.posix.dirname(p), { self: false, keepAdded: true });
          // The directory itself stays; only lower layers' content under it goes.
          await drain();
          continue;
        }
        if (base.startsWith(".wh.")) {
          removeTree(path.posix.join(path.posix.dirname(p), base.slice(".wh.".length)), { self: true, keepAdded: false });
          await drain();
          continue;
        }
        if (p === "") {
          await drain();
          continue;
        }
        const mode = (header.mode ?? 0) & 0o7777;
        const owner = { uid: header.uid ?? 0, gid: header.gid ?? 0 };
        let entryValue: RootfsEntry | undefined;
        if (header.type === "link") {
          // A hard link: the same inode as its target, which squashfs lists as a plain file.
          const target = listing.get(layerPath(header.linkname ?? ""));
          entryValue = target ? { ...target } : undefined;
        } else {
          const type = TYPES[header.type ?? "file"];
          if (type === undefined) {
            await drain();
            continue;
          }
          entryValue = {
            type,
            mode,
            ...owner,
            size: type === "file" ? (header.size ?? 0) : type === "symlink" ? Buffer.byteLength(header.linkname ?? "") : 0,
            ...(type === "symlink" ? { target: header.linkname ?? "" } : {}),
            ...(type === "char" || type === "block" ? { device: `${header.devmajor ?? 0},${header.devminor ?? 0}` } : {}),
          };
        }
        // A non-directory replaces whatever was there, a directory's whole tree included.
        if (entryValue && entryValue.type !== "dir" && listing.get(p)?.type === "dir") removeTree(p, { self: false, keepAdded: true });
        if (entryValue) {
          listing.set(p, entryValue);
          added.add(p);
        }
        if (header.type === "file" && wanted.has(p) && (header.size ?? 0) <= SMALL_FILE_LIMIT) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
          small.set(p, Buffer.concat(chunks));
        } else if (header.type === "file" && request.extract?.test(p) && request.extractDir) {
          const file = path.join(request.extractDir, `extracted-${counter++}`);
          extracted.set(p, { file, sha256: await writeHashed(entry as AsyncIterable<Buffer>, file, 0o600) });
        } else await drain();
      }
      await feeding;
    } catch (error) {
      extract.destroy();
      await feeding.catch(() => {});
      if ((error as Error).name === "AbortError") throw error;
      throw new LifecycleError(`${layout}: cannot read layer ${layer.digest} (${(error as Error).message})`, { cause: error });
    }
  }
  for (const p of [...small.keys()]) if (listing.get(p)?.type !== "file") small.delete(p);
  for (const p of [...extracted.keys()]) if (listing.get(p)?.type !== "file") extracted.delete(p);
  return { listing, smallFiles: small, extracted };
}
