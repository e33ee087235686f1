// A directory target as an image store: <dir>/<name>/<tag>/. Promotion assembles the new tag in
// a staging directory of hard links (no byte is copied) with manifest.json written last, then
// renames it into place; deletion renames the tag aside first, so it stops being complete at
// once, then removes it.
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { sha256File } from "../core/hash.js";
import { pathToFileURL } from "node:url";
import { MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { joinUrl } from "../publish/layout.js";
import { swapInto } from "../publish/local.js";
import type { LocalTarget } from "../publish/targets.js";
import { LifecycleError } from "./errors.js";
import type { ImageStore, StoredTag } from "./store.js";

export class DirStore implements ImageStore {
  readonly label: string;
  private readonly root: string;

  constructor(private readonly target: LocalTarget) {
    this.root = path.resolve(target.dir);
    this.label = `dir:${target.dir}`;
  }

  async readManifest(name: string, tag: string): Promise<Buffer | undefined> {
    return readFile(path.join(this.root, name, tag, MANIFEST_FILE)).catch(() => undefined);
  }

  async copyTag(name: string, from: string, to: string, manifest: Manifest, manifestBytes: Buffer, signal?: AbortSignal): Promise<void> {
    const imageDir = path.join(this.root, name);
    const source = path.join(imageDir, from);
    const staging = await mkdtemp(path.join(imageDir, `.${to}.tmp-`));
    try {
      for (const record of Object.values(manifest.artifacts)) {
        if (!record) continue;
        signal?.throwIfAborted();
        const file = path.join(source, record.file);
        const info = await stat(file).catch(() => undefined);
        if (!info || info.size !== record.size || (await sha256File(file)) !== record.sha256) {
          throw new LifecycleError(
            `${file}: missing or not the bytes the manifest lists (size ${record.size}, sha256 ${record.sha256.slice(0, 12)}…); nothing was promoted`,
          );
        }
        await link(file, path.join(staging, record.file));
      }
      await writeFile(path.join(staging, MANIFEST_FILE), manifestBytes);
      await swapInto(staging, path.join(imageDir, to), imageDir, to);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  async list(name?: string): Promise<StoredTag[]> {
    const names = name !== undefined ? [name] : await readdir(this.root).catch(() => [] as string[]);
    const out: StoredTag[] = [];
    for (const n of names.filter((x) => !x.startsWith(".")).sort()) {
      const tags = await readdir(path.join(this.root, n), { withFileTypes: true }).catch(() => []);
      for (const t of tags
        .filter((d) => d.isDirectory() && !d.name.startsWith("."))
        .map((d) => d.name)
        .sort()) {
        const bytes = await this.readManifest(n, t);
        out.push({ name: n, tag: t, ...(bytes ? { manifest: JSON.parse(bytes.toString("utf8")) as Manifest } : {}) });
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
    const url = (file: string) =>
      this.target.publicBase ? joinUrl(this.target.publicBase, `${name}/${tag}/${file}`) : pathToFileURL(path.join(this.root, name, tag, file)).href;
    const urls: PublishedImage["urls"] = {};
    for (const [role, record] of Object.entries(manifest.artifacts) as [ArtifactRole, ArtifactRecord | undefined][]) if (record) urls[role] = url(record.file);
    return { name, tag, target: "local", urls, manifestUrl: url(MANIFEST_FILE) };
  }

  urlFragment(name: string, tag: string): string {
    return `/${name}/${tag}/`;
  }

  close(): void {}
}
