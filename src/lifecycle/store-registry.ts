// An OCI registry repository as an image store, through skopeo (auth files and TLS settings as
// everywhere else; no blob is downloaded). A registry holds the container image, not the boot
// artifacts or bootsmith's manifest.json, so:
//   - a tag's image is the manifest digest it points at; its bootsmith facts are the labels the
//     build set at commit (io.bootsmith.recipe, io.bootsmith.tags) and the config's `created`;
//   - the boot-test record promote is gated on is the build's artifact directory
//     (<artifacts>/<name>/<tag>/manifest.json), which must record pushing exactly that digest;
//     the promotion is appended to that manifest's history;
//   - promote is `skopeo copy --all --preserve-digests docker://R@DIGEST docker://R:TAG2`: the
//     registry already holds every blob, so nothing is uploaded but the manifest, and TAG2 ends
//     up with the same digest (checked); a recipe with `arches:` pushed a manifest list to the
//     tag, whose digest each architecture's manifest records: the list is copied the same way;
//   - delete is by digest (`skopeo delete docker://R@DIGEST`, the registry API's only delete),
//     which removes every tag pointing at it: gc keeps a digest while any of its tags is kept;
//   - a tag holding a manifest list is read raw first (`skopeo inspect` without --raw resolves a
//     list to this host's architecture, and fails on a host whose architecture it lacks): its
//     digest and the images it names, its labels and created time from the first of them. gc
//     keeps or deletes such a set whole (gc.ts).
// A registry's own garbage collection (of unreferenced blobs) is its job, not this one's.
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isMultiArchManifest, MANIFEST_FILE, type Manifest, type MultiArchManifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { silentReporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import type { RegistryTarget } from "../publish/targets.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import type { ImageStore, ReferenceMatch, StoredTag } from "./store.js";
import { matchRegistryReference } from "./registry-references.js";
import { mapSets, renderTagFiles, type TagCopy } from "./tag-copy.js";
import { signPushedImages } from "../publish/registry-signed.js";
import { refusedCredentials } from "../publish/registry-credentials.js";
import type { Signer } from "../sign/gpg.js";

/** Label the build sets to the recipe's name (planner.ts commitStep). */
export const NAME_LABEL = "io.bootsmith.recipe";
/** Label the build sets to the recipe's tags, comma-separated: any other tag on the image was made by a promotion. */
export const TAGS_LABEL = "io.bootsmith.tags";

export interface RegistryImage {
  readonly digest: string;
  readonly created: string;
  readonly labels: Readonly<Record<string, string>>;
  /** A manifest list: the images it names (OCI architecture, digest). */
  readonly platforms?: readonly { readonly arch: string; readonly digest: string }[];
}

/** A manifest as `skopeo inspect --raw` prints it: an image, or a list (Docker manifest list / OCI index) of images. */
interface RawManifest {
  readonly manifests?: readonly { readonly digest?: string; readonly platform?: { readonly architecture?: string } }[];
}

export interface RegistryStoreOptions {
  /** Where the builds' artifact directories are (<artifacts>/<name>/<tag>): the boot-test records. */
  readonly artifacts: string;
}

export class RegistryStore implements ImageStore {
  readonly label: string;
  private readonly repository: string;
  /** Tags inspected by readManifest/copyTag: what copyTag copies and signs, and publishedImage names. */
  private readonly images = new Map<string, RegistryImage>();

  constructor(
    private readonly target: RegistryTarget,
    private readonly options: RegistryStoreOptions,
  ) {
    this.repository = target.repository;
    this.label = `registry:${target.repository}`;
  }

  /**
   * The boot-test record: the build's manifest.json, if it pushed exactly the digest the tag has
   * now. A set of several architectures: the combined manifest, the tag being the manifest list
   * every architecture's manifest records pushing.
   */
  async readManifest(name: string, tag: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    const image = await this.inspect(tag, signal);
    if (!image) return undefined;
    this.checkName(image, name, tag);
    const file = path.join(this.options.artifacts, name, tag, MANIFEST_FILE);
    const bytes = await readFile(file).catch(() => undefined);
    if (!bytes)
      throw new LifecycleInputError(
        `${this.repository}:${tag}: the registry holds the image, but its boot-test record is the build's ${file}, which does not exist; pass --artifacts ROOT where the build's artifact directories (ROOT/${name}/${tag}) are`,
      );
    const record = JSON.parse(bytes.toString("utf8")) as Manifest | MultiArchManifest;
    const ref = `${this.repository}:${tag}`;
    const images = isMultiArchManifest(record) ? Object.values(record.arches).map((e) => e.image) : [record.image];
    for (const built of images) {
      const pushed = (built.pushed ?? []).filter((p) => p.ref === ref).map((p) => p.digest);
      if (!pushed.includes(image.digest))
        throw new LifecycleError(
          `${ref} is ${image.digest}, but ${file} records pushing ${pushed.length > 0 ? pushed.join(", ") : "nothing to that tag"}${images.length > 1 ? ` for ${built.ref}` : ""}: the image in the registry is not the one that build (and its boot test) describes; nothing was promoted`,
        );
    }
    this.images.set(tag, image);
    return bytes;
  }

  /** A file of the build record (an architecture's manifest.json under the combined one). */
  async readSetFile(name: string, tag: string, file: string): Promise<Buffer | undefined> {
    return readFile(path.join(this.options.artifacts, name, tag, file)).catch(() => undefined);
  }

  async copyTag(name: string, from: string, to: string, copy: TagCopy, signal?: AbortSignal): Promise<void> {
    const image = this.images.get(from);
    if (!image) throw new Error(`copyTag ${from} before readManifest`);
    const { digest } = image;
    // A signed set: the new tag's identity is signed before the tag exists (as publish does).
    if (copy.signer) await this.signIdentity(image, to, copy.signer, signal);
    // By digest: a push to FROM after the check cannot change what is promoted. --all: a
    // manifest list is copied with every image it lists.
    await this.skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        ...this.tls("src"),
        ...this.tls("dest"),
        `docker://${this.repository}@${digest}`,
        `docker://${this.repository}:${to}`,
      ],
      signal,
      `copy ${this.repository}@${digest} to :${to}`,
    );
    const now = await this.inspect(to, signal);
    if (now?.digest !== digest)
      throw new LifecycleError(
        `${this.repository}:${to} is ${now?.digest ?? "missing"} after the copy, not ${digest}: the registry did not keep the manifest's digest`,
      );
    this.images.set(to, now);
    // The history lives with the boot-test record: the build's manifests, rewritten whole (each
    // architecture's, then the combined one).
    const ref = `${this.repository}:${to}`;
    const recorded = mapSets(copy, (set) => ({
      ...set,
      tags: set.tags.filter((t) => t !== copy.addedTag),
      image: { ...set.image, pushed: [...(set.image.pushed ?? []).filter((p) => p.ref !== ref), { ref, digest }] },
    }));
    for (const { file, bytes } of await renderTagFiles(recorded, signal)) {
      const target = path.join(this.options.artifacts, name, from, file);
      const partial = `${target}.partial-${process.pid}`;
      await writeFile(partial, bytes);
      await rename(partial, target);
    }
  }

  async list(name?: string, signal?: AbortSignal): Promise<StoredTag[]> {
    const { stdout } = await this.skopeo(["list-tags", ...this.tls(), `docker://${this.repository}`], signal, "list the tags", false).catch(
      (error: unknown) => {
        // A repository nothing was pushed to yet has no tags.
        if (isCommandError(error) && /name unknown|repository name not known/i.test(error.outputTail.join("\n"))) return { stdout: '{"Tags":[]}' };
        if (isCommandError(error)) throw new LifecycleError(`${this.label}: could not list the tags: ${error.report}`, { cause: error });
        throw error;
      },
    );
    const tags = ((JSON.parse(stdout) as { Tags?: string[] | null }).Tags ?? []).sort();
    const out: StoredTag[] = [];
    for (const tag of tags) {
      const image = await this.inspect(tag, signal);
      if (!image) continue; // deleted since the listing
      const imageName = image.labels[NAME_LABEL] ?? this.repository.slice(this.repository.lastIndexOf("/") + 1);
      if (name !== undefined && imageName !== name) continue;
      out.push({
        name: imageName,
        tag,
        image: {
          digest: image.digest,
          builtAt: image.created,
          builtTags: (image.labels[TAGS_LABEL] ?? "").split(",").filter(Boolean),
          ...(image.platforms ? { platforms: image.platforms } : {}),
        },
      });
    }
    return out;
  }

  async deleteTag(name: string, tag: string, signal?: AbortSignal): Promise<void> {
    const image = await this.inspect(tag, signal);
    if (!image) return;
    this.checkName(image, name, tag);
    await this.skopeo(["delete", ...this.tls(), `docker://${this.repository}@${image.digest}`], signal, `delete ${this.repository}@${image.digest}`);
  }

  publishedImage(name: string, tag: string): PublishedImage {
    const digest = this.images.get(tag)?.digest;
    return { name, tag, target: "registry", urls: {}, ...(digest ? { image: { ref: `${this.repository}:${tag}`, digest } } : {}) };
  }

  /** A boot service naming the image refers to it as HOST[:PORT]/PATH:TAG or @DIGEST, compared exactly (registry-references.ts). */
  matchReference(reference: string, tag: StoredTag): ReferenceMatch | undefined {
    return matchRegistryReference(reference, this.repository, tag);
  }

  close(): void {}

  /**
   * Sign <repository>:<to> on the image being promoted: a manifest list and each image it names
   * (a pull host checks the image of its architecture for the tag it pulled).
   */
  private async signIdentity(image: RegistryImage, to: string, signer: Signer, signal?: AbortSignal): Promise<void> {
    const work = await mkdtemp(path.join(tmpdir(), "bootsmith-promote-"));
    const ctx = { step: "promote", reporter: silentReporter, ...(signal ? { signal } : {}) };
    try {
      const images = [...(image.platforms ?? []), { digest: image.digest, index: image.platforms !== undefined }];
      await signPushedImages(this.target, images, [`${this.repository}:${to}`], signer, { work, ctx });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * The tag's digest, creation time and labels (skopeo inspect: the manifest and config only);
   * undefined for an unknown tag. A manifest list: its own digest, the images it names, and the
   * first image's labels and creation time (asked for that platform, not this host's).
   */
  async inspect(tag: string, signal?: AbortSignal): Promise<RegistryImage | undefined> {
    const ref = `docker://${this.repository}:${tag}`;
    const raw = await this.skopeoIfFound(["inspect", "--raw", ...this.tls(), ref], signal, `inspect :${tag}`);
    if (raw === undefined) return undefined;
    const manifests = (JSON.parse(raw) as RawManifest).manifests;
    const listed = manifests !== undefined;
    const platforms = (manifests ?? []).map((m) => ({ arch: m.platform?.architecture ?? "", digest: m.digest ?? "" }));
    if (listed && platforms.length === 0) throw new LifecycleError(`${this.repository}:${tag} is a manifest list naming no image`);
    const overrides = listed ? ["--override-os", "linux", "--override-arch", platforms[0]!.arch] : [];
    const stdout = await this.skopeoIfFound(["inspect", "--no-tags", ...overrides, ...this.tls(), ref], signal, `inspect :${tag}`);
    if (stdout === undefined) return undefined;
    const data = JSON.parse(stdout) as { Digest: string; Created?: string; Labels?: Record<string, string> | null };
    return { digest: data.Digest, created: data.Created ?? "", labels: data.Labels ?? {}, ...(listed ? { platforms } : {}) };
  }

  /** skopeo's output, or undefined when the registry does not know the tag (deleted meanwhile). */
  private async skopeoIfFound(args: string[], signal: AbortSignal | undefined, what: string): Promise<string | undefined> {
    try {
      return (await this.skopeo(args, signal, what, false)).stdout;
    } catch (error) {
      if (isCommandError(error) && /manifest unknown|not found|name unknown/i.test(error.outputTail.join("\n"))) return undefined;
      throw error;
    }
  }

  private checkName(image: RegistryImage, name: string, tag: string): void {
    const built = image.labels[NAME_LABEL];
    if (built !== undefined && built !== name)
      throw new LifecycleInputError(`${this.repository}:${tag} is an image of ${built} (label ${NAME_LABEL}), not ${name}`);
  }

  private tls(side?: "src" | "dest"): string[] {
    const flag = side ? `--${side}-tls-verify` : "--tls-verify";
    const auth = side ? `--${side}-authfile` : "--authfile";
    return [`${flag}=${this.target.tlsVerify ?? true}`, ...(this.target.authFile ? [auth, this.target.authFile] : [])];
  }

  private async skopeo(args: string[], signal: AbortSignal | undefined, what: string, wrap = true): Promise<{ stdout: string }> {
    try {
      return await run(
        { file: "skopeo", args, timeoutMs: 600_000 },
        { step: "registry", reporter: silentReporter, ...(signal ? { signal } : {}) },
        { quiet: true },
      );
    } catch (error) {
      const refused = refusedCredentials(error, this.target, `to ${what}`);
      if (refused) throw refused;
      if (!wrap || !isCommandError(error)) throw error;
      throw new LifecycleError(`${this.label}: could not ${what}: ${error.report}`, { cause: error });
    }
  }
}
