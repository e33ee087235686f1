// Is a recipe's build up to date? The key is LoadedRecipe.inputDigest (normalized recipe, copied
// files, parent key, tool version). It is compared with the manifest.json in the recipe's output
// directory and with the `io.bootsmith.input-digest` label on the local image: both must carry the
// current key. A build that committed no image (a leaf: nothing needed one) is up to date by its
// manifest alone, until something needs the image. On a miss the manifest's recorded inputs say
// which part changed, old → new. Deciding is pure (`decide`); gathering facts does the I/O.
//
// The image check costs one process per run, not one per recipe: a graph run lists the local
// images once (`buildah images --json`, name → ID). An image ID is the digest of the image's
// config, which holds its labels, so a name still pointing at the ID the manifest recorded at
// commit time carries the label that build gave it: the manifest's key. Only a name that points
// elsewhere (retagged, rebuilt by another run) or a manifest without a recorded ID (older
// bootsmith) costs a `buildah inspect` of that one image, for its label.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { registryTag } from "../core/image-ref.js";
import type { LoadedRecipe } from "../recipe/load.js";
import { baseImageTag, localImageRef } from "../recipe/load.js";
import { INPUT_DIGEST_LABEL, MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { run, isCommandError } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";
import { inputDigests } from "../recipe/inputs.js";
import type { PublishedManifest } from "../publish/published-manifest.js";
import type { LocalTarget, S3Target } from "../publish/targets.js";
import { recipePublishTarget } from "./publish-targets.js";

/** What is known about the last build of a recipe. */
export interface CacheFacts {
  /** The manifest in the output directory: missing, unreadable, or its content. */
  readonly manifest:
    { readonly kind: "missing" } | { readonly kind: "unreadable"; readonly error: string } | { readonly kind: "found"; readonly manifest: Manifest };
  /**
   * The local image: not checked; missing; still the image the manifest recorded (by ID: its label
   * is the manifest's key); or another image, with its input-digest label (maybe "").
   */
  readonly image:
    | { readonly kind: "unchecked"; readonly why?: string }
    | { readonly kind: "missing" }
    | { readonly kind: "recorded"; readonly id: string }
    | { readonly kind: "found"; readonly label: string };
  /**
   * The parent recipe's local image ID now, when the last build recorded the one it was built on
   * (manifest base.imageId) and the key still matches: a parent rebuilt outside this run (its file
   * built alone, --refresh) keeps its key but not its image.
   */
  readonly parentImage?: { readonly kind: "listed"; readonly id: string } | { readonly kind: "missing" } | { readonly kind: "unchecked" };
  /** The recipe's first registry target, when asked (--check-published). */
  readonly registry?: RegistryFacts;
  /**
   * Without a registry target: the manifest its first S3 or directory target holds, when asked
   * (--check-published).
   */
  readonly published?: PublishedFacts;
}

export type RegistryFacts =
  | { readonly kind: "found"; readonly ref: string; readonly digest: string; readonly label: string }
  | { readonly kind: "missing"; readonly ref: string }
  | { readonly kind: "unchecked"; readonly ref: string; readonly why: string };

export type PublishedFacts =
  | { readonly kind: "found"; readonly where: string; readonly inputDigest: string }
  | { readonly kind: "missing"; readonly where: string }
  | { readonly kind: "unchecked"; readonly where: string; readonly why: string };

export interface DecideOptions {
  /** Rebuild regardless of the key: `--refresh` (nightly) or `--force`. */
  readonly rebuild?: "refresh" | "force";
  /** This run rebuilds the parent (whatever the reason): a child on a new parent image is rebuilt too. */
  readonly parentRebuilt?: string;
  /**
   * Who needs the recipe's committed image (a child recipe, a registry target, a single-file
   * build): a last build that committed none is then rebuilt, with the commit. Undefined: nothing
   * does, and a build without an image is up to date by its manifest alone.
   */
  readonly imageNeededBy?: string;
  /**
   * The image is only a by-product of building (one file's build commits it unless --no-commit):
   * a published set with the current key is then enough, though the target holds no image.
   */
  readonly imageIsByProduct?: boolean;
}

export interface Decision {
  readonly build: boolean;
  /** One line each, most important first. */
  readonly reasons: readonly string[];
  /** Up to date in the registry only: `repository@digest`, pulled when a child is built here. */
  readonly pull?: string;
}

export function decide(recipe: LoadedRecipe, outDir: string, facts: CacheFacts, options: DecideOptions = {}): Decision {
  const local = decideLocally(recipe, outDir, facts, options);
  // On a new parent image, a copy elsewhere with this key was built on the old one.
  if (!local.build || options.rebuild || options.parentRebuilt || parentImageMoved(facts) !== undefined) return local;
  // Built elsewhere (another runner, CI) and published with this key: nothing to build here.
  const registry = facts.registry;
  if (registry?.kind === "found" && registry.label === recipe.inputDigest) {
    const pull = `${repositoryOf(registry.ref)}@${registry.digest}`;
    return {
      build: false,
      pull,
      reasons: [
        `up to date in the registry: ${registry.ref} (${registry.digest.slice(0, 19)}…) carries key ${short(recipe.inputDigest)}; not built here (${local.reasons[0]})`,
      ],
    };
  }
  if (registry?.kind === "found")
    return {
      build: true,
      reasons: [
        ...local.reasons,
        `the registry's ${registry.ref} carries ${INPUT_DIGEST_LABEL}=${short(registry.label) || "(none)"}, not ${short(recipe.inputDigest)}`,
      ],
    };
  if (registry?.kind === "missing") return { build: true, reasons: [...local.reasons, `${registry.ref} is not in the registry`] };
  if (registry?.kind === "unchecked") return { build: true, reasons: [...local.reasons, `registry not checked: ${registry.why}`] };
  return decidePublished(recipe, local, facts.published, options);
}

/** An S3 or directory target's manifest: it holds the artifacts, not the image a child is built on. */
function decidePublished(recipe: LoadedRecipe, local: Decision, published: PublishedFacts | undefined, options: DecideOptions): Decision {
  const key = recipe.inputDigest;
  switch (published?.kind) {
    case undefined:
      return local;
    case "missing":
      return { build: true, reasons: [...local.reasons, `${published.where} does not exist`] };
    case "unchecked":
      return { build: true, reasons: [...local.reasons, `publish target not checked: ${published.why}`] };
    case "found":
      if (published.inputDigest !== key)
        return { build: true, reasons: [...local.reasons, `${published.where} carries key ${short(published.inputDigest)}, not ${short(key)}`] };
      if (options.imageNeededBy && !options.imageIsByProduct)
        return {
          build: true,
          reasons: [
            ...local.reasons,
            `${published.where} carries key ${short(key)}, but ${options.imageNeededBy} needs the image ${localImageRef(recipe.spec)}, which that target does not hold`,
          ],
        };
      return { build: false, reasons: [`up to date where published: ${published.where} carries key ${short(key)}; not built here (${local.reasons[0]})`] };
  }
}

function decideLocally(recipe: LoadedRecipe, outDir: string, facts: CacheFacts, options: DecideOptions): Decision {
  const key = recipe.inputDigest;
  const where = path.join(outDir, MANIFEST_FILE);
  const image = localImageRef(recipe.spec);
  if (options.rebuild === "refresh") return { build: true, reasons: ["--refresh: rebuilt to pick up package updates, whatever the key"] };
  if (options.rebuild === "force") return { build: true, reasons: ["--force"] };
  if (facts.manifest.kind === "missing") return { build: true, reasons: [`never built here: no ${where}`] };
  if (facts.manifest.kind === "unreadable") return { build: true, reasons: [`${where} is unreadable (${facts.manifest.error})`] };
  const old = facts.manifest.manifest;
  if (old.inputDigest !== key) return { build: true, reasons: explainChange(recipe, old) };
  if (options.parentRebuilt) return { build: true, reasons: [`parent ${options.parentRebuilt} is rebuilt in this run`] };
  const moved = parentImageMoved(facts);
  if (moved)
    return {
      build: true,
      reasons: [
        moved.kind === "recipe"
          ? `inputs unchanged, but the parent image ${moved.ref} is now ${moved.now.slice(0, 12)}, not ${moved.then.slice(0, 12)} that the last build was made on (the parent was rebuilt outside this run)`
          : `inputs unchanged, but the base image ${moved.ref} is now ${moved.now.slice(0, 12)}, not ${moved.then.slice(0, 12)} that the last build was made on (a newer image of the tag was pulled)`,
      ],
    };
  if (old.image.committed === false) {
    if (options.imageNeededBy)
      return {
        build: true,
        reasons: [`inputs unchanged, but the last build committed no image (nothing needed it then); ${options.imageNeededBy} needs ${image} now`],
      };
    return { build: false, reasons: [`up to date: key ${short(key)} matches ${where} (no image committed: nothing needs one)`] };
  }
  switch (facts.image.kind) {
    case "missing":
      return { build: true, reasons: [`inputs unchanged, but the image ${image} is gone (removed or built on another host)`] };
    case "found":
    case "recorded":
      if (facts.image.kind === "found" && facts.image.label !== key)
        return {
          build: true,
          reasons: [`inputs unchanged, but the image ${image} carries ${INPUT_DIGEST_LABEL}=${short(facts.image.label) || "(none)"}, not ${short(key)}`],
        };
      return { build: false, reasons: [`up to date: key ${short(key)} matches ${where} and the image ${image}`] };
    case "unchecked":
      return { build: false, reasons: [`up to date: key ${short(key)} matches ${where}${facts.image.why ? ` (image not checked: ${facts.image.why})` : ""}`] };
  }
}

/** The base's image ID then (recorded) and now, when they differ: a parent recipe's image, or a from.image tag's. */
function parentImageMoved(facts: CacheFacts): { kind: "recipe" | "image"; ref: string; then: string; now: string } | undefined {
  if (facts.manifest.kind !== "found" || facts.parentImage?.kind !== "listed") return undefined;
  const base = facts.manifest.manifest.base;
  if (base.kind === "scratch" || base.imageId === undefined || base.imageId === facts.parentImage.id) return undefined;
  return { kind: base.kind, ref: base.ref, then: base.imageId, now: facts.parentImage.id };
}

/** `registry:5000/ns/name:tag` → `registry:5000/ns/name` (a colon after the last slash is the tag). */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf("@");
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

/** Which inputs differ between the last build and now, as `name: old → new` lines. */
export function explainChange(recipe: LoadedRecipe, old: Manifest): string[] {
  const now = inputDigests(recipe);
  if (!old.inputs)
    return [`key changed ${short(old.inputDigest)} → ${short(recipe.inputDigest)} (the old manifest does not record which input; built by an older bootsmith)`];
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(old.inputs), ...Object.keys(now)])].sort(inputOrder)) {
    const before = old.inputs[name];
    const after = now[name];
    if (before === after) continue;
    if (before === undefined) lines.push(`${describe(name)} added (${after})`);
    else if (after === undefined) lines.push(`${describe(name)} removed (was ${before})`);
    else lines.push(`${describe(name)} changed: ${before} → ${after}`);
  }
  // Equal parts but a different key: the key covers something the parts do not (a new key scheme).
  if (lines.length === 0)
    lines.push(`key changed ${short(old.inputDigest)} → ${short(recipe.inputDigest)} (no recorded input differs; the key scheme changed)`);
  return lines;
}

function describe(name: string): string {
  if (name === "tool") return "bootsmith version";
  if (name === "parent") return "parent key";
  if (name.startsWith("recipe.")) return `recipe ${name.slice("recipe.".length)}:`;
  return name;
}

/** tool and parent first (they explain everything below them), then the recipe, then files. */
function inputOrder(a: string, b: string): number {
  const rank = (n: string) => (n === "tool" ? 0 : n === "parent" ? 1 : n.startsWith("recipe.") ? 2 : 3);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function short(digest: string): string {
  return digest.slice(0, 12);
}

export interface GatherOptions {
  /**
   * buildah global options (storage) for the image check; undefined: the storage holds no
   * images yet (builder/storage.ts lookupStorageArgs), so the image is missing without asking.
   */
  readonly globalArgs: readonly string[] | undefined;
  /** Also ask where the recipe publishes (--check-published): its registry, else its S3 or directory target. */
  readonly checkPublished: boolean;
  /** The build happens anyway (--refresh/--force): only the manifest is read. */
  readonly rebuild: boolean;
  /**
   * The run's one listing of local images (`localImageLister`), shared by its recipes. Without it
   * (one recipe) the image is inspected on its own.
   */
  readonly localImages?: () => Promise<LocalImages>;
}

/**
 * Everything `decide` needs about one recipe's last build. The image is looked at only when the
 * manifest already carries the current key (otherwise the answer is "rebuild" without it).
 */
export async function gatherFacts(recipe: LoadedRecipe, outDir: string, options: GatherOptions): Promise<CacheFacts> {
  const manifest = readManifestFacts(outDir);
  const keyMatches = !options.rebuild && manifest.kind === "found" && manifest.manifest.inputDigest === recipe.inputDigest;
  const needImage = keyMatches && manifest.manifest.image?.committed !== false;
  const image = needImage ? await imageFacts(recipe, manifest.manifest, options) : ({ kind: "unchecked" } as const);
  // A leaf that committed no image was still made on its parent's.
  const parentImage = keyMatches ? await parentImageFacts(recipe, manifest.manifest, options) : undefined;
  const published = options.checkPublished && !options.rebuild ? await readPublishTargetFacts(recipe) : {};
  return { manifest, image, ...(parentImage ? { parentImage } : {}), ...published };
}

/**
 * The base's local image ID by the run's listing (one is taken for a single recipe), when the
 * manifest recorded the one it was built on: the parent recipe's image, or the image a
 * from.image tag names in local storage now (a newer one pulled since, by --refresh or by hand,
 * is what the next build would start from). A base pinned by digest cannot move.
 */
async function parentImageFacts(recipe: LoadedRecipe, manifest: Manifest, options: GatherOptions): Promise<CacheFacts["parentImage"]> {
  const base = manifest.base;
  if (base === undefined || base.kind === "scratch" || base.imageId === undefined || options.globalArgs === undefined) return undefined;
  const imageTag = base.kind === "image" ? baseImageTag(recipe.spec) : undefined;
  const parentRef = base.kind === "recipe" && recipe.parent ? localImageRef(recipe.parent.spec) : undefined;
  if (parentRef === undefined && imageTag === undefined) return undefined;
  const listing = await (options.localImages ?? localImageLister(options.globalArgs))();
  if (listing.kind !== "listed") return { kind: "unchecked" };
  const id = parentRef !== undefined ? listing.ids.get(parentRef) : [...listing.ids].find(([name]) => registryTag(name) === imageTag)?.[1];
  return id === undefined ? { kind: "missing" } : { kind: "listed", id };
}

/**
 * The recipe's first registry target decides (it holds the image a child can be pulled onto);
 * without one, its first S3 or directory target's manifest. A recipe built for several
 * architectures publishes them together under a combined manifest: checked by its local output only.
 */
async function readPublishTargetFacts(recipe: LoadedRecipe): Promise<Pick<CacheFacts, "registry" | "published">> {
  const registry = await readRegistryFacts(recipe);
  if (registry) return { registry };
  const found = await readPublishedSet(recipe);
  if (!found) return {};
  return { published: found.kind === "found" ? { kind: "found", where: found.where, inputDigest: found.manifest.inputDigest } : found };
}

/** The manifest the recipe's first S3 or directory target holds for its primary tag; undefined without one. */
export async function readPublishedSet(recipe: LoadedRecipe): Promise<PublishedManifest | undefined> {
  const index = recipe.spec.publish.findIndex((t) => t.type === "s3" || t.type === "local");
  if (index < 0) return undefined;
  const target = recipePublishTarget(recipe, index) as S3Target | LocalTarget;
  const tag = recipe.spec.tags[0] ?? "latest";
  // Loaded only here: the S3 client is for builds that publish, or check, there.
  const { publishedManifestLocation, readPublishedManifest } = await import("../publish/published-manifest.js");
  if (recipe.spec.arches) {
    const where = publishedManifestLocation(target, recipe.spec.name, tag);
    return { kind: "unchecked", where, why: "a recipe built for several architectures is checked by its local output only" };
  }
  return readPublishedManifest(target, recipe.spec.name, tag);
}

/** By the run's listing when the manifest recorded the committed ID; by `buildah inspect` otherwise. */
async function imageFacts(recipe: LoadedRecipe, manifest: Manifest, options: GatherOptions): Promise<CacheFacts["image"]> {
  if (options.globalArgs === undefined) return { kind: "missing" };
  const recorded = manifest.image?.id;
  const listing = recorded && options.localImages ? await options.localImages() : undefined;
  if (recorded && listing?.kind === "listed") {
    const now = listing.ids.get(localImageRef(recipe.spec));
    if (now === undefined) return { kind: "missing" };
    if (now === recorded) return { kind: "recorded", id: recorded };
  }
  // Another image under the name (or no listing): its own label decides, as it says.
  return readImageFacts(recipe, options.globalArgs);
}

/** Local image names (`localhost/bootsmith/NAME:TAG`) → image ID (64 hex), or why they could not be listed. */
export type LocalImages = { readonly kind: "listed"; readonly ids: ReadonlyMap<string, string> } | { readonly kind: "unlisted"; readonly why: string };

/** One `buildah images --json` for a whole run, taken on first use (a run whose manifests all miss takes none). */
export function localImageLister(buildahArgs: readonly string[]): () => Promise<LocalImages> {
  let listing: Promise<LocalImages> | undefined;
  return () => (listing ??= listLocalImages(buildahArgs));
}

export async function listLocalImages(buildahArgs: readonly string[]): Promise<LocalImages> {
  try {
    const { stdout } = await run(
      { file: "buildah", args: [...buildahArgs, "images", "--json", "--no-trunc"] },
      { step: "cache", reporter: silentReporter },
      { quiet: true },
    );
    return { kind: "listed", ids: parseImageListing(stdout) };
  } catch (error) {
    return { kind: "unlisted", why: isCommandError(error) ? error.message : String(error) };
  }
}

/**
 * `buildah images --json --no-trunc` ([{ id: "sha256:…", names }, …]; "null" or nothing when storage
 * is empty) → name → ID as `buildah commit` prints it (64 hex, no algorithm).
 */
export function parseImageListing(json: string): Map<string, string> {
  const data = json.trim() === "" ? null : (JSON.parse(json) as unknown);
  const ids = new Map<string, string>();
  if (data === null) return ids;
  if (!Array.isArray(data)) throw new Error(`buildah images --json printed ${typeof data}, not a list`);
  for (const image of data as { id?: unknown; names?: unknown }[]) {
    if (typeof image.id !== "string" || !Array.isArray(image.names)) continue;
    const id = image.id.replace(/^sha256:/, "");
    for (const name of image.names) if (typeof name === "string") ids.set(name, id);
  }
  return ids;
}

export function readManifestFacts(outDir: string): CacheFacts["manifest"] {
  const file = path.join(outDir, MANIFEST_FILE);
  if (!existsSync(file)) return { kind: "missing" };
  try {
    const data = JSON.parse(readFileSync(file, "utf8")) as Manifest;
    if (typeof data.inputDigest !== "string") return { kind: "unreadable", error: "no inputDigest" };
    return { kind: "found", manifest: data };
  } catch (error) {
    return { kind: "unreadable", error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The local image's input-digest label. "image not known" means missing; any other failure
 * (no buildah, a storage driver mismatch) leaves it unchecked rather than forcing a rebuild.
 */
export async function readImageFacts(recipe: LoadedRecipe, buildahArgs: readonly string[]): Promise<CacheFacts["image"]> {
  const ref = localImageRef(recipe.spec);
  try {
    const { stdout } = await run(
      { file: "buildah", args: [...buildahArgs, "inspect", "--type", "image", "--format", `{{index .OCIv1.Config.Labels "${INPUT_DIGEST_LABEL}"}}`, ref] },
      { step: "cache", reporter: silentReporter },
      { quiet: true },
    );
    // A missing key in a Go template map index prints "<no value>".
    const label = stdout.trim();
    return { kind: "found", label: label === "<no value>" ? "" : label };
  } catch (error) {
    if (isCommandError(error) && error.outputTail.some((l) => /image not known|not found|unknown image/i.test(l))) return { kind: "missing" };
    return { kind: "unchecked", why: isCommandError(error) ? error.message : String(error) };
  }
}

/**
 * The recipe's image in its first registry publish target (`skopeo inspect`, no pull): digest
 * and input-digest label. Undefined when the recipe publishes to no registry.
 */
export async function readRegistryFacts(recipe: LoadedRecipe): Promise<RegistryFacts | undefined> {
  const target = recipe.spec.publish.find((t) => t.type === "registry");
  if (!target || target.type !== "registry") return undefined;
  const ref = `${target.repository}:${recipe.spec.tags[0] ?? "latest"}`;
  const args = ["inspect", "--no-tags", `--tls-verify=${target.tlsVerify}`, ...(target.authFile ? ["--authfile", target.authFile] : []), `docker://${ref}`];
  try {
    const { stdout } = await run({ file: "skopeo", args, timeoutMs: 30_000 }, { step: "cache", reporter: silentReporter }, { quiet: true });
    const data = JSON.parse(stdout) as { Digest?: unknown; Labels?: Record<string, unknown> | null };
    const label = data.Labels?.[INPUT_DIGEST_LABEL];
    if (typeof data.Digest !== "string") return { kind: "unchecked", ref, why: "skopeo reported no digest" };
    return { kind: "found", ref, digest: data.Digest, label: typeof label === "string" ? label : "" };
  } catch (error) {
    if (isCommandError(error) && error.outputTail.some((l) => /manifest unknown|not found|name unknown/i.test(l))) return { kind: "missing", ref };
    return { kind: "unchecked", ref, why: isCommandError(error) ? error.message : String(error) };
  }
}
