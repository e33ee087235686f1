// `bootsmith diff A B`: gather each side's facts and compare them. A side is an artifact
// directory (as is, or fetched from S3 where it was published) or an image in a registry, read
// from its layers (registry-facts.ts); either can be compared with the other.
import { diffImages, type ImageDiff, type ImageFacts } from "./image-diff.js";
import { readImageFacts } from "./image-facts.js";
import type { RegistryAccess } from "./oci-layout.js";
import { isRegistryRef } from "./registry-ref.js";
import { openSource, type SourceOptions } from "./source.js";

export interface DiffOptions extends SourceOptions {
  /** Registry sides: TLS verification and auth file. */
  readonly registry?: RegistryAccess;
}

export async function diffSources(a: string, b: string, options: DiffOptions = {}): Promise<ImageDiff> {
  const [x, y] = await Promise.all([readFacts(a, options), readFacts(b, options)]);
  return diffImages(x, y);
}

async function readFacts(spec: string, options: DiffOptions): Promise<ImageFacts> {
  if (isRegistryRef(spec)) {
    const { readRegistryFacts } = await import("./registry-facts.js");
    return readRegistryFacts(spec, { ...options.registry, ...(options.signal ? { signal: options.signal } : {}) });
  }
  const source = await openSource(spec, options);
  try {
    return await readImageFacts(source.dir, spec, options.signal);
  } finally {
    await source.close();
  }
}
