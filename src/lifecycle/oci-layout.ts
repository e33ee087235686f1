// An OCI image layout on disk (image-spec "image-layout": oci-layout, index.json, blobs/sha256/…),
// as skopeo and buildah write it: how diff reads a registry image and how bundles carry one.
// Nothing here unpacks a layer: layers are read as tar streams (layer-listing.ts).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { silentReporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import { dockerReference, type RegistryImageRef } from "./registry-ref.js";

/** The name the one image in a bootsmith-made layout is stored under (index.json ref.name). */
export const LAYOUT_IMAGE_NAME = "image";

export interface RegistryAccess {
  /** false for a plain-http registry (default true). */
  readonly tlsVerify?: boolean;
  readonly authFile?: string;
}

export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface OciImage {
  /** The image manifest's digest (what a registry tag points at). */
  readonly digest: string;
  readonly config: OciDescriptor;
  readonly layers: readonly OciDescriptor[];
  /** The config's labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** The config's `created` (when the image was committed), as a registry reports it; "" when absent. */
  readonly created: string;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** Where a blob lives in the layout. */
export function blobPath(layout: string, digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new LifecycleError(`${layout}: ${JSON.stringify(digest)} is not a sha256 digest`);
  return path.join(layout, "blobs", "sha256", m[1]!);
}

/**
 * `skopeo copy docker://… oci:LAYOUT:image`, byte for byte (--preserve-digests: the manifest keeps
 * its digest, so the signatures made for it stay valid). The host's policy.json applies, as to
 * any pull. A manifest list resolves to this host's platform.
 */
export async function copyRegistryImageToLayout(ref: RegistryImageRef, layout: string, access: RegistryAccess, signal?: AbortSignal): Promise<void> {
  const source = dockerReference(ref);
  try {
    await run(
      {
        file: "skopeo",
        args: [
          "copy",
          "--quiet",
          "--preserve-digests",
          `--src-tls-verify=${access.tlsVerify ?? true}`,
          ...(access.authFile ? ["--src-authfile", access.authFile] : []),
          source,
          `oci:${layout}:${LAYOUT_IMAGE_NAME}`,
        ],
        timeoutMs: 3_600_000,
      },
      { step: "registry", reporter: silentReporter, ...(signal ? { signal } : {}) },
      { quiet: true },
    );
  } catch (error) {
    if (!isCommandError(error)) throw error;
    const tail = error.outputTail.join("\n");
    if (/manifest unknown|name unknown|not found/i.test(tail))
      throw new LifecycleInputError(`${source}: no such image in the registry (${error.outputTail.at(-1)?.trim() ?? ""})`, { cause: error });
    throw new LifecycleError(`${source}: could not copy the image: ${error.report}`, { cause: error });
  }
}

/** The layout's image (the one named `name`, or its only one): manifest digest, config, layers, labels. */
export async function readLayoutImage(layout: string, name: string = LAYOUT_IMAGE_NAME): Promise<OciImage> {
  const json = async <T>(file: string, what: string): Promise<T> => {
    try {
      return JSON.parse(await readFile(file, "utf8")) as T;
    } catch (error) {
      throw new LifecycleError(`${layout}: cannot read the OCI layout's ${what} (${(error as Error).message})`, { cause: error });
    }
  };
  const index = await json<{ manifests?: OciDescriptor[] }>(path.join(layout, "index.json"), "index.json");
  const manifests = index.manifests ?? [];
  const named = manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === name);
  const descriptor = named[0] ?? (manifests.length === 1 ? manifests[0] : undefined);
  if (!descriptor) throw new LifecycleError(`${layout}: index.json holds no image named ${name}`);
  const manifest = await json<{ config?: OciDescriptor; layers?: OciDescriptor[]; manifests?: unknown }>(blobPath(layout, descriptor.digest), "manifest");
  if (!manifest.config || !Array.isArray(manifest.layers))
    throw new LifecycleError(`${layout}: ${descriptor.digest} is not an image manifest (${descriptor.mediaType}); a manifest list is not read here`);
  const config = await json<{ created?: string; config?: { Labels?: Record<string, string> | null } }>(blobPath(layout, manifest.config.digest), "config");
  return { digest: descriptor.digest, config: manifest.config, layers: manifest.layers, labels: config.config?.Labels ?? {}, created: config.created ?? "" };
}
