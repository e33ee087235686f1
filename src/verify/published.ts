// Verify a published image from the URLs nodes will fetch: each artifact at its registered URL,
// manifest.json, SHA256SUMS and its signature beside it. Registration calls this before writing.
import { ARTIFACT_FILES, MANIFEST_FILE, type ArtifactRole } from "../core/manifest.js";
import type { PublishedImage } from "../core/published-image.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import { httpSource } from "./sources.js";
import { verifySet, type VerifyReport } from "./verify.js";

/** File name → URL nodes (and we) fetch it from. */
export function publishedUrls(image: PublishedImage): Map<string, string> {
  const urls = new Map<string, string>();
  for (const [role, url] of Object.entries(image.urls) as [ArtifactRole, string | undefined][]) if (url) urls.set(ARTIFACT_FILES[role], url);
  // Older records lack the signature URLs: in both S3 layouts and directories they sit beside
  // manifest.json, named like it (…/manifest.json → …/SHA256SUMS, x.manifest.json → x.SHA256SUMS).
  const beside = (file: string) => (image.manifestUrl?.endsWith(MANIFEST_FILE) ? `${image.manifestUrl.slice(0, -MANIFEST_FILE.length)}${file}` : undefined);
  for (const [file, url] of [
    [MANIFEST_FILE, image.manifestUrl],
    [SUMS_FILE, image.sumsUrl ?? beside(SUMS_FILE)],
    [SIGNATURE_FILE, image.signatureUrl ?? beside(SIGNATURE_FILE)],
  ] as const) {
    if (url) urls.set(file, url);
  }
  return urls;
}

export async function verifyPublished(image: PublishedImage, keyFile: string, options: { signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const urls = publishedUrls(image);
  const source = httpSource(`${image.name}:${image.tag} (${image.target})`, (file) => urls.get(file));
  try {
    return await verifySet(source, { keyFile, signal: options.signal });
  } finally {
    source.close();
  }
}
