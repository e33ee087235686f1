// What `bootsmith register` registers: a published-image record (published.json: one
// PublishedImage, a list of them, or a publish outcome {images: [...]}), or an artifact
// directory with manifest.json whose files are served at a base URL the user names.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACT_FILES, isMultiArchManifest, MANIFEST_FILE, type ArtifactRole, type MultiArchEntry, type MultiArchManifest } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import { RegistrationError } from "./errors.js";

export interface RegisterSource {
  readonly image: PublishedImage;
  /** The params template recorded by the build (manifest.params), if any. */
  readonly paramsTemplate?: string;
  /** Where the image came from, for messages. */
  readonly origin: string;
}

const ROLES = Object.keys(ARTIFACT_FILES) as ArtifactRole[];

function invalid(message: string): RegistrationError {
  return new RegistrationError("invalid", message);
}

function asPublishedImage(v: unknown, where: string): PublishedImage {
  const o = (v ?? {}) as Record<string, unknown>;
  const urls = (o.urls ?? {}) as Record<string, unknown>;
  if (typeof o.name !== "string" || typeof o.tag !== "string" || typeof o.target !== "string" || typeof o.urls !== "object") {
    throw invalid(`${where}: not a published image (expected {name, tag, target, urls: {kernel, initrd, rootfs}})`);
  }
  for (const [k, u] of Object.entries(urls)) {
    if (!ROLES.includes(k as ArtifactRole) || typeof u !== "string") throw invalid(`${where}: urls.${k} must be one of ${ROLES.join(", ")} with a string URL`);
  }
  return o as unknown as PublishedImage;
}

/**
 * Parse published.json content and pick the image with `tag` (default: the first, the primary
 * tag) and, for a recipe built for several architectures (images with `arch`), `arch`: required
 * then, since BSS cannot tell an x86 node from an Arm one. `knownArch` is the set's architecture
 * when its manifest says (a single-architecture artifact directory).
 */
export function pickPublished(json: unknown, where: string, tag?: string, arch?: string, knownArch?: string): PublishedImage {
  const list: unknown[] = Array.isArray(json)
    ? json
    : json && typeof json === "object" && Array.isArray((json as { images?: unknown }).images)
      ? (json as { images: unknown[] }).images
      : [json];
  let images = list.map((v, i) => asPublishedImage(v, list.length > 1 ? `${where}[${i}]` : where));
  const arches = [...new Set(images.map((i) => i.arch ?? knownArch).filter((a): a is string => a !== undefined))];
  if (arch !== undefined) {
    if (arches.length === 0)
      throw invalid(
        `${where} records no architecture, so --arch ${arch} cannot be checked: register the artifact directory (its manifest.json names the architecture)`,
      );
    if (!arches.includes(arch)) throw invalid(`${where} has no ${arch} image (it holds ${arches.join(", ")}): --arch names one of them`);
    images = images.filter((i) => (i.arch ?? knownArch) === arch);
  } else if (arches.length > 1) {
    throw invalid(`${where} holds several architectures (${arches.join(", ")}): pass --arch ARCH to pick the one these nodes run`);
  }
  const found = tag === undefined ? images[0] : images.find((i) => i.tag === tag);
  if (!found) throw invalid(`${where}: no published image${tag ? ` with tag "${tag}" (tags: ${images.map((i) => i.tag).join(", ")})` : ""}`);
  return found;
}

/** The architecture's entry of a combined manifest: --arch is required, and must be one it lists. */
function pickArch(multi: MultiArchManifest, where: string, arch: string | undefined): MultiArchEntry {
  const arches = Object.keys(multi.arches);
  if (arch === undefined) throw invalid(`${where}: ${multi.name} is built for ${arches.join(", ")}: pass --arch ARCH to pick the one these nodes run`);
  const entry = multi.arches[arch];
  if (!entry) throw invalid(`${where}: ${multi.name} is built for ${arches.join(", ")}, not ${arch}`);
  return entry;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw invalid(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(`${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/** A published record: the params template it carries (publish records the build's). */
function fromRecord(image: PublishedImage, origin: string): RegisterSource {
  return { image, ...(typeof image.paramsTemplate === "string" ? { paramsTemplate: image.paramsTemplate } : {}), origin };
}

/**
 * Load what to register from a path: a published.json file, or a directory holding
 * published.json, or manifest.json plus artifacts (then `baseUrl` says where they are served).
 */
export async function loadRegisterSource(
  path: string,
  options: { baseUrl?: string; tag?: string; arch?: string; stdin?: NodeJS.ReadableStream } = {},
): Promise<RegisterSource> {
  if (path === "-") {
    // `bootsmith publish --json | bootsmith register - …`
    const chunks: Buffer[] = [];
    for await (const c of options.stdin ?? process.stdin) chunks.push(Buffer.from(c as Buffer));
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      throw invalid(`standard input: not valid JSON (expected the output of bootsmith publish --json): ${(error as Error).message}`);
    }
    return fromRecord(pickPublished(json, "standard input", options.tag, options.arch), "standard input");
  }
  const info = await stat(path).catch(() => undefined);
  if (!info) throw invalid(`${path}: no such file or directory (give an artifact directory, or the record \`bootsmith publish … --record FILE\` wrote)`);
  if (info.isFile()) return fromRecord(pickPublished(await readJson(path), path, options.tag, options.arch), path);

  const manifestPath = join(path, MANIFEST_FILE);
  const read = (await stat(manifestPath).catch(() => undefined)) ? await readJson(manifestPath) : undefined;
  // A recipe built for several architectures: the combined manifest names each one's directory.
  const multi = isMultiArchManifest(read) ? read : undefined;
  const entry = multi ? pickArch(multi, manifestPath, options.arch) : undefined;
  const manifest = (entry ? await readJson(join(path, entry.dir, MANIFEST_FILE)) : read) as
    { name?: unknown; tags?: unknown; arch?: unknown; params?: unknown; artifacts?: Record<string, { file?: string }> } | undefined;
  const paramsTemplate = typeof manifest?.params === "string" ? manifest.params : undefined;
  const knownArch = typeof manifest?.arch === "string" ? manifest.arch : undefined;
  if (!multi && options.arch !== undefined && knownArch !== undefined && knownArch !== options.arch)
    throw invalid(`${manifestPath}: the set is ${knownArch}, not ${options.arch}: register its ${options.arch} set for these nodes`);
  const publishedPath = join(path, "published.json");
  if (!options.baseUrl && (await stat(publishedPath).catch(() => undefined))) {
    return {
      image: pickPublished(await readJson(publishedPath), publishedPath, options.tag, options.arch, multi ? undefined : knownArch),
      paramsTemplate,
      origin: publishedPath,
    };
  }
  if (!manifest)
    throw invalid(
      `${path}: neither published.json nor ${MANIFEST_FILE} is there; give the directory a build wrote, or the record \`bootsmith publish … --record FILE\` wrote`,
    );
  if (!options.baseUrl) {
    throw invalid(
      `${path} holds built artifacts but no URLs nodes can fetch them from: pass --base-url http://HOST/PATH/ (where this directory is served), or publish it with \`bootsmith publish … --record FILE\` and register FILE`,
    );
  }
  if (typeof manifest.name !== "string") throw invalid(`${manifestPath}: "name" is missing`);
  const tags = Array.isArray(manifest.tags) ? manifest.tags.filter((t): t is string => typeof t === "string") : [];
  const tag = options.tag ?? tags[0];
  if (!tag) throw invalid(`${manifestPath}: no tags; pass --tag`);
  const base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
  const urls: Partial<Record<ArtifactRole, string>> = {};
  // One architecture's files are in its directory under the combined one.
  const sub = entry ? `${entry.dir}/` : "";
  for (const role of ROLES) {
    const file = sub + (manifest.artifacts?.[role]?.file ?? ARTIFACT_FILES[role]);
    if (manifest.artifacts?.[role] || (await stat(join(path, file)).catch(() => undefined))) urls[role] = new URL(file, base).href;
  }
  const beside = (file: string) => new URL(sub + file, base).href;
  return {
    image: {
      name: manifest.name,
      tag,
      target: "url",
      ...(entry ? { arch: options.arch } : {}),
      urls,
      manifestUrl: beside(MANIFEST_FILE),
      sumsUrl: beside(SUMS_FILE),
      signatureUrl: beside(SIGNATURE_FILE),
    },
    paramsTemplate,
    origin: path,
  };
}
