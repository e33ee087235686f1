// What a promotion writes under the new tag: the artifacts to carry over and the manifests that
// describe them. One architecture's set is its manifest.json; a set of several architectures
// (`arches:`) is each architecture's <arch>/manifest.json and then the combined manifest.json,
// whose entries list each architecture's manifest by sha256, so it is rendered after them and
// written last: until it exists the tag is incomplete, as every reader treats it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sha256Bytes } from "../core/hash.js";
import { MANIFEST_FILE, type ArtifactRecord, type Manifest, type MultiArchManifest } from "../core/manifest.js";
import { renderSums, SIGNATURE_FILE, sumEntries, SUMS_FILE } from "../core/sums.js";
import { silentReporter } from "../exec/events.js";
import type { Signer } from "../sign/gpg.js";

export interface TagCopy {
  /** Every artifact, `file` relative to the tag's folder (`aarch64/vmlinuz` under a combined manifest). */
  readonly artifacts: readonly ArtifactRecord[];
  /** One architecture's set: its manifest. Several: each architecture's, in the combined manifest's order. */
  readonly sets: readonly Manifest[];
  /** Several architectures: the combined manifest (its per-architecture entries are refreshed on rendering). */
  readonly combined?: MultiArchManifest;
  /**
   * A signed set: the key that signs each set's SHA256SUMS again, over the manifest as the new tag
   * has it (the promotion changes it, so the old signature cannot come along).
   */
  readonly signer?: Signer;
  /**
   * The tag the promotion added to the manifests' `tags` (absent when they listed it already). A
   * registry store writes the history into the build's own manifests, which keep the build's tags:
   * `publish` of that directory pushes every tag listed, and must not push this one unchecked.
   */
  readonly addedTag?: string;
}

export interface ManifestFile {
  /** Relative to the tag's folder. */
  readonly file: string;
  readonly bytes: Buffer;
}

export function renderJson(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where a set's manifest goes in the tag's folder. */
function manifestFile(copy: TagCopy, set: Manifest): string {
  return copy.combined ? `${set.arch}/${MANIFEST_FILE}` : MANIFEST_FILE;
}

/**
 * The manifests in the order they are written: each architecture's, then the combined one with
 * each entry's manifest sha256/size and image taken from the bytes just rendered (last).
 */
export function renderTagCopy(copy: TagCopy): ManifestFile[] {
  const files = copy.sets.map((set) => ({ file: manifestFile(copy, set), bytes: renderJson(set) }));
  if (!copy.combined) return files;
  const arches = Object.fromEntries(
    Object.entries(copy.combined.arches).map(([arch, entry]) => {
      const index = copy.sets.findIndex((s) => s.arch === arch);
      const set = copy.sets[index];
      if (!set) throw new Error(`renderTagCopy: no manifest for ${arch}`);
      const bytes = files[index]!.bytes;
      return [arch, { ...entry, manifest: { ...entry.manifest, sha256: sha256Bytes(bytes), size: bytes.length }, image: set.image }];
    }),
  );
  return [...files, { file: MANIFEST_FILE, bytes: renderJson({ ...copy.combined, arches }) }];
}

/** The same copy with every set's manifest changed by `edit` (the combined one follows on rendering). */
export function mapSets(copy: TagCopy, edit: (set: Manifest) => Manifest): TagCopy {
  return { ...copy, sets: copy.sets.map(edit) };
}

/**
 * The files a store writes for the new tag after the artifacts, in order: with a signer, each
 * set's SHA256SUMS and SHA256SUMS.sig over the manifest bytes that follow, then the manifests as
 * renderTagCopy gives them (the tag's own manifest.json last: until it exists the tag is incomplete).
 */
export async function renderTagFiles(copy: TagCopy, signal?: AbortSignal): Promise<ManifestFile[]> {
  const manifests = renderTagCopy(copy);
  if (!copy.signer) return manifests;
  const setFiles = copy.combined ? manifests.slice(0, -1) : manifests;
  const work = await mkdtemp(path.join(tmpdir(), "bootsmith-promote-sign-"));
  try {
    const signatures: ManifestFile[] = [];
    for (const [i, { file, bytes }] of setFiles.entries()) {
      const sums = Buffer.from(renderSums(sumEntries(JSON.parse(bytes.toString("utf8")) as Manifest, sha256Bytes(bytes))));
      const sumsFile = path.join(work, `${i}.sums`);
      await writeFile(sumsFile, sums);
      await copy.signer.sign(sumsFile, `${sumsFile}.sig`, { step: "promote", reporter: silentReporter, ...(signal ? { signal } : {}) });
      const dir = path.dirname(file) === "." ? "" : `${path.dirname(file)}/`;
      signatures.push({ file: `${dir}${SUMS_FILE}`, bytes: sums }, { file: `${dir}${SIGNATURE_FILE}`, bytes: await readFile(`${sumsFile}.sig`) });
    }
    return [...signatures, ...manifests];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The signature files of a tag's sets, relative to the tag's folder: present when the set is signed. */
export function signatureFiles(sets: readonly Manifest[], combined: boolean): string[] {
  return sets.map((set) => (combined ? `${set.arch}/${SIGNATURE_FILE}` : SIGNATURE_FILE));
}
