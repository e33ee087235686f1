// Sign an artifact directory: SHA256SUMS over every file manifest.json lists plus manifest.json
// itself, and SHA256SUMS.sig, a detached signature of it. Used by `build` (after the manifest)
// and `publish --sign-key` (an unsigned directory signed before upload).
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Reporter } from "../exec/events.js";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { sha256Bytes } from "../core/hash.js";
import type { Signer } from "./gpg.js";
import { renderSums, SIGNATURE_FILE, sumEntries, SUMS_FILE } from "../core/sums.js";

export async function signArtifactDir(
  dir: string,
  signer: Signer,
  ctx: { step: string; reporter: Reporter; signal?: AbortSignal },
): Promise<{ sums: string; signature: string }> {
  const manifestBytes = readFileSync(path.join(dir, MANIFEST_FILE));
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
  const sums = path.join(dir, SUMS_FILE);
  const signature = path.join(dir, SIGNATURE_FILE);
  writeFileSync(`${sums}.partial`, renderSums(sumEntries(manifest, sha256Bytes(manifestBytes))));
  renameSync(`${sums}.partial`, sums);
  await signer.sign(sums, `${signature}.partial`, ctx);
  renameSync(`${signature}.partial`, signature);
  ctx.reporter.emit({ type: "message", level: "info", text: `signed ${SUMS_FILE} with key ${signer.fingerprint}` });
  return { sums, signature };
}
