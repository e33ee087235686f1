// A recipe built for several architectures (`arches:`) leaves one artifact directory per
// architecture under <name>/<tag>/<arch>/ and, above them, a combined manifest.json
// (core/manifest.ts MultiArchManifest) listing every architecture with its manifest's and
// artifacts' sha256s. Publishing such a set: a registry gets one manifest list per tag
// (./manifest-list.ts); S3 and directory targets get each architecture's keys under
// <name>/<tag>/<arch>/ (the publishers place a set whose manifest has `arches` there) and then
// the combined manifest.json at <name>/<tag>/manifest.json, written last: its presence means
// every architecture is complete.
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { isMultiArchManifest, MANIFEST_FILE, type MultiArchEntry, type MultiArchManifest } from "../core/manifest.js";
import { sha256Bytes } from "../core/hash.js";
import { replaceFile } from "../core/replace-file.js";
import type { PublishedImage } from "../core/published-image.js";
import { loadArtifactSet, type ArtifactSet } from "./artifacts.js";
import { PublishInputError } from "./errors.js";
import { s3Keys } from "./layout.js";
import { publishManifestList, publishManifestListOfPushed } from "./manifest-list.js";
import type { PublishOutcome } from "./publisher.js";
import type { PublishTarget } from "./targets.js";
import type { PublishRunOptions } from "./index.js";
import { publish } from "./index.js";

export interface MultiArchSet {
  readonly dir: string;
  readonly manifest: MultiArchManifest;
  /** One per architecture, in the combined manifest's order. */
  readonly sets: readonly ArtifactSet[];
}

/** The combined manifest of per-architecture sets (pure): each file relative to the combined directory. */
export function combineManifests(sets: readonly ArtifactSet[]): MultiArchManifest {
  const first = sets[0];
  if (!first) throw new PublishInputError("a multi-architecture set needs at least one architecture's artifact directory");
  const arches: Record<string, MultiArchEntry> = {};
  for (const set of sets) {
    const { manifest } = set;
    if (manifest.name !== first.manifest.name || manifest.tags.join(",") !== first.manifest.tags.join(","))
      throw new PublishInputError(
        `${set.dir} is ${manifest.name}:${manifest.tags.join(",")}, ${first.dir} is ${first.manifest.name}:${first.manifest.tags.join(",")}: one image's architectures share name and tags`,
      );
    if (arches[manifest.arch]) throw new PublishInputError(`${set.dir}: architecture ${manifest.arch} twice`);
    const dir = manifest.arch;
    arches[manifest.arch] = {
      dir,
      manifest: { file: `${dir}/${MANIFEST_FILE}`, sha256: sha256Bytes(set.manifestBytes), size: set.manifestBytes.length },
      inputDigest: manifest.inputDigest,
      image: manifest.image,
      artifacts: Object.fromEntries(Object.entries(manifest.artifacts).map(([role, a]) => [role, { ...a, file: `${dir}/${a.file}` }])),
    };
  }
  const builtAt = sets
    .map((s) => s.manifest.builtAt)
    .sort()
    .at(-1)!;
  return { schemaVersion: 1, kind: "multi-arch", name: first.manifest.name, tags: first.manifest.tags, builtAt, arches };
}

export function renderMultiArchManifest(manifest: MultiArchManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Write <dir>/manifest.json from the architectures' directories <dir>/<arch>/ (after every one
 * was built): a new file renamed over the name (replaceFile), so a reader sees the old one or the new one.
 */
export async function writeMultiArchManifest(dir: string, arches: readonly string[]): Promise<MultiArchSet> {
  const root = resolve(dir);
  const sets = await Promise.all(arches.map((a) => loadArtifactSet(join(root, a))));
  const manifest = combineManifests(sets);
  const file = join(root, MANIFEST_FILE);
  await replaceFile(file, renderMultiArchManifest(manifest));
  return { dir: root, manifest, sets };
}

/**
 * After an architecture's manifest.json changed in place (boot-test records its run there): when
 * the directory above holds a combined manifest listing this one, write it again with the new
 * bytes' sha256 (else publish refuses the set as changed after the build), keeping its promotion
 * history. Returns the combined manifest's path, or undefined when there is none.
 */
export async function refreshCombinedManifest(archDir: string): Promise<string | undefined> {
  const dir = resolve(archDir);
  const root = resolve(dir, "..");
  const file = join(root, MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined; // no combined manifest (or not one bootsmith wrote)
  }
  if (!isMultiArchManifest(parsed) || parsed.arches[basename(dir)]?.dir !== basename(dir)) return undefined;
  const sets = await Promise.all(Object.keys(parsed.arches).map((a) => loadArtifactSet(join(root, a))));
  const manifest = { ...combineManifests(sets), ...(parsed.promotions ? { promotions: parsed.promotions } : {}) };
  await replaceFile(file, renderMultiArchManifest(manifest));
  return file;
}

/** Read a combined manifest and every architecture's set, checking each set is the one it lists. */
export async function loadMultiArchSet(dir: string): Promise<MultiArchSet | undefined> {
  const root = resolve(dir);
  const where = join(root, MANIFEST_FILE);
  const text = await readFile(where, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return undefined; // loadArtifactSet reports the syntax error
  }
  if (!isMultiArchManifest(manifest)) return undefined;
  const sets: ArtifactSet[] = [];
  for (const [arch, entry] of Object.entries(manifest.arches)) {
    if (entry.dir !== arch) throw new PublishInputError(`${where}: arches.${arch}.dir must be ${JSON.stringify(arch)}, got ${JSON.stringify(entry.dir)}`);
    const set = await loadArtifactSet(join(root, arch));
    if (sha256Bytes(set.manifestBytes) !== entry.manifest.sha256)
      throw new PublishInputError(`${join(root, arch, MANIFEST_FILE)} is not the one ${where} lists (changed after the build): rebuild the image`);
    sets.push(set);
  }
  return { dir: root, manifest, sets };
}

/**
 * Publish every architecture to one target. Registry: each image as <tag>-<arch>, then a
 * manifest list per tag (`ofPushed`: the architectures' jobs pushed their images already and
 * recorded the digests in their manifests; only the lists are pushed, none of the images is needed here). S3 / directory: each architecture's set under <name>/<tag>/<arch>/, then
 * per tag the combined manifest.json (re-read: a registry push records digests in the sets).
 */
export async function publishMultiArch(
  multi: MultiArchSet,
  target: PublishTarget,
  options: PublishRunOptions & { readonly ofPushed?: boolean } = {},
): Promise<PublishOutcome> {
  if (target.type === "registry") {
    await (options.ofPushed ? publishManifestListOfPushed : publishManifestList)(multi.sets, target, { ...options, ...options.registry });
    // The sets' manifests now record their pushes: the combined manifest follows them.
    await writeMultiArchManifest(
      multi.dir,
      multi.sets.map((s) => s.manifest.arch),
    );
    return { images: [], transfers: [] };
  }
  if (target.type === "s3" && (target.layout ?? "bootsmith") !== "bootsmith")
    throw new PublishInputError(
      `the ${target.layout} S3 layout has no place for a combined manifest of several architectures: publish each architecture's directory (${multi.dir}/<arch>) on its own, or use the bootsmith layout`,
    );
  const images: PublishedImage[] = [];
  const transfers: PublishOutcome["transfers"][number][] = [];
  for (const set of multi.sets) {
    const outcome = await publish(set, target, options);
    images.push(...outcome.images);
    transfers.push(...outcome.transfers);
  }
  const bytes = renderMultiArchManifest(multi.manifest);
  for (const tag of multi.manifest.tags) {
    options.signal?.throwIfAborted();
    let destination: string;
    let action: "uploaded" | "skipped";
    if (target.type === "s3") {
      const key = s3Keys("bootsmith", target.prefix ?? "", { name: multi.manifest.name }, tag).manifest;
      // Loaded here, as in index.ts: the AWS SDK is for S3 targets only.
      const { putSmallObject } = await import("./s3.js");
      action = await putSmallObject(target, key, bytes, { ...options.s3, signal: options.signal });
      destination = `s3://${target.bucket}/${key}`;
    } else {
      destination = join(resolve(target.dir), multi.manifest.name, tag, MANIFEST_FILE);
      const current = await readFile(destination).catch(() => undefined);
      action = current?.equals(bytes) ? "skipped" : "uploaded";
      if (action === "uploaded") {
        await replaceFile(destination, bytes);
      }
    }
    const transfer = { action, tag, file: MANIFEST_FILE, bytes: bytes.length, seconds: 0, destination };
    transfers.push(transfer);
    options.onTransfer?.(transfer);
  }
  return { images, transfers };
}
