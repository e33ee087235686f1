// A directory target as an image store: <dir>/<name>/<tag>/ (each architecture of a combined set
// in <tag>/<arch>/). Promotion assembles the new tag in a staging directory of hard links (no
// byte is copied) with the manifests written last (the combined one after the architectures'), then
// renames it into place; deletion renames the tag aside first, so it stops being complete at
// once, then removes it.
import { makeStagingDir } from "../core/staging-dir.js";
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { sha256File } from "../core/hash.js";
import { MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { dirPublishedImage, swapInto } from "../publish/local.js";
import type { LocalTarget } from "../publish/targets.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import { parseStoredManifest, type ImageStore, type ReferenceMatch, type StoredTag } from "./store.js";
import { renderTagFiles, type TagCopy } from "./tag-copy.js";

export class DirStore implements ImageStore {
  readonly label: string;
  private readonly root: string;

  constructor(private readonly target: LocalTarget) {
    this.root = path.resolve(target.dir);
    this.label = `dir:${target.dir}`;
  }

  async readManifest(name: string, tag: string): Promise<Buffer | undefined> {
    return this.readSetFile(name, tag, MANIFEST_FILE);
  }

  async readSetFile(name: string, tag: string, file: string): Promise<Buffer | undefined> {
    return readFile(path.join(this.root, name, tag, file)).catch(() => undefined);
  }

  async copyTag(name: string, from: string, to: string, copy: TagCopy, signal?: AbortSignal): Promise<void> {
    const imageDir = path.join(this.root, name);
    const source = path.join(imageDir, from);
    const staging = await makeStagingDir(path.join(imageDir, `.${to}.tmp-`));
    try {
      for (const record of copy.artifacts) {
        signal?.throwIfAborted();
        const file = path.join(source, record.file);
        const info = await stat(file).catch(() => undefined);
        if (!info || info.size !== record.size || (await sha256File(file)) !== record.sha256) {
          throw new LifecycleError(
            `${file}: missing or not the bytes the manifest lists (size ${record.size}, sha256 ${record.sha256.slice(0, 12)}…); nothing was promoted`,
          );
        }
        await mkdir(path.dirname(path.join(staging, record.file)), { recursive: true });
        await link(file, path.join(staging, record.file));
      }
      // Each architecture's manifest, then the tag's own (last); the rename makes them visible at once.
      for (const { file, bytes } of await renderTagFiles(copy, signal)) await writeFile(path.join(staging, file), bytes);
      await swapInto(staging, path.join(imageDir, to), imageDir, to);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  async list(name?: string): Promise<StoredTag[]> {
    if (!(await stat(this.root).catch(() => undefined))?.isDirectory())
      throw new LifecycleInputError(`${this.label}: no such directory; give the ROOT that publish --to dir:ROOT wrote (ROOT/NAME/TAG/manifest.json)`);
    const names = name !== undefined ? [name] : await readdir(this.root).catch(() => [] as string[]);
    const out: StoredTag[] = [];
    for (const n of names.filter((x) => !x.startsWith(".")).sort()) {
      const tags = await readdir(path.join(this.root, n), { withFileTypes: true }).catch(() => []);
      for (const t of tags
        .filter((d) => d.isDirectory() && !d.name.startsWith("."))
        .map((d) => d.name)
        .sort()) {
        const bytes = await this.readManifest(n, t);
        const where = path.join(this.root, n, t, MANIFEST_FILE);
        out.push({ name: n, tag: t, ...(bytes ? { manifest: parseStoredManifest(bytes, where) as Manifest } : {}) });
      }
    }
    return out;
  }

  async deleteTag(name: string, tag: string): Promise<void> {
    const imageDir = path.join(this.root, name);
    const dir = path.join(imageDir, tag);
    // manifest.json first (the set stops being complete), then everything else.
    await rm(path.join(dir, MANIFEST_FILE), { force: true });
    const aside = await mkdtemp(path.join(imageDir, `.${tag}.deleting-`));
    await mkdir(aside, { recursive: true });
    await rename(dir, path.join(aside, tag));
    await rm(aside, { recursive: true, force: true });
  }

  publishedImage(name: string, tag: string, manifest: Manifest): PublishedImage {
    const files = (Object.entries(manifest.artifacts) as [ArtifactRole, ArtifactRecord | undefined][]).flatMap(([role, record]) =>
      record ? [[role, record.file] as const] : [],
    );
    return dirPublishedImage(this.target, { ...manifest, name }, tag, files, false);
  }

  /** Every artifact URL of a tag contains /NAME/TAG/ (the trailing slash: tag 1 is not tag 10). */
  matchReference(reference: string, tag: StoredTag): ReferenceMatch | undefined {
    return reference.includes(this.urlFragment(tag.name, tag.tag)) ? { sure: true } : undefined;
  }

  urlFragment(name: string, tag: string): string {
    return `/${name}/${tag}/`;
  }

  close(): void {}
}
