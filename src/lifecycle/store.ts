// Where published images live, as promote and gc see them: a directory target
// (<dir>/<name>/<tag>/), an S3 target in the bootsmith layout (<prefix><name>/<tag>/), or a
// registry repository (store-registry.ts: images by digest, no manifest.json beside them). A tag is
// complete when its manifest.json exists (publishers write it last); every operation here keeps
// that true: a copy writes the manifest last, a delete removes it first.
import type { Manifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import type { TagCopy } from "./tag-copy.js";
import { LifecycleError } from "./errors.js";

/**
 * A stored tag's manifest.json, parsed. A damaged one (cut short by a full disk, edited by hand)
 * is an error naming `where` and the fix, not a JSON parser's stack trace, and nothing is changed.
 */
export function parseStoredManifest(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new LifecycleError(
      `${where}: not valid JSON (${(error as Error).message}): this tag's manifest is damaged; publish the tag again or delete its folder, then retry (nothing was changed)`,
      { cause: error },
    );
  }
}

/** How a boot reference string names a stored tag: for sure, or maybe (and why gc cannot tell). */
export type ReferenceMatch = { readonly sure: true } | { readonly sure: false; readonly why: string };

export interface StoredTag {
  readonly name: string;
  readonly tag: string;
  /** Absent when the tag has artifacts but no manifest.json (a publish in progress or cut short). */
  readonly manifest?: Manifest;
  /**
   * Registry stores instead: the image the tag points at (complete by construction). Tags
   * sharing a digest are one image, deleted together; `builtTags` are the tags the build gave it
   * (any other tag on it was made by a promotion).
   */
  readonly image?: {
    readonly digest: string;
    readonly builtAt: string;
    readonly builtTags: readonly string[];
    /**
     * A manifest list (OCI image index, a recipe with `arches:`): the images it names, by OCI
     * architecture and digest. Its builtAt and labels are those of the first image it names.
     */
    readonly platforms?: readonly { readonly arch: string; readonly digest: string }[];
  };
}

export interface ImageStore {
  /** For messages: dir:/srv/boot, s3://bucket/prefix/. */
  readonly label: string;
  /** The tag's manifest.json bytes, or undefined when the tag is not (completely) published. */
  readManifest(name: string, tag: string, signal?: AbortSignal): Promise<Buffer | undefined>;
  /**
   * Another manifest of the tag, `file` relative to its folder (`aarch64/manifest.json`, one
   * architecture's under a combined manifest); for a registry, the build record's file.
   */
  readSetFile(name: string, tag: string, file: string, signal?: AbortSignal): Promise<Buffer | undefined>;
  /**
   * Make `to` hold the artifacts of `from` (hard links / server-side copies, no upload), then
   * write the copy's manifests in order, the tag's own manifest.json last.
   */
  copyTag(name: string, from: string, to: string, copy: TagCopy, signal?: AbortSignal): Promise<void>;
  /** Every tag of every image (or of `name`), complete or not. */
  list(name?: string, signal?: AbortSignal): Promise<StoredTag[]>;
  /** Remove manifest.json first, then the rest of the tag. */
  deleteTag(name: string, tag: string, signal?: AbortSignal): Promise<void>;
  /**
   * Where nodes fetch this tag's artifacts (for `bootsmith register -`). One architecture's set
   * of a combined one (manifest `arches`) is under <tag>/<arch>/ and says its `arch`.
   */
  publishedImage(name: string, tag: string, manifest: Manifest): PublishedImage;
  /** Whether a boot service's kernel, initrd or params string names this tag: for sure, maybe (why), or not. */
  matchReference(reference: string, tag: StoredTag): ReferenceMatch | undefined;
  close(): void;
}
