// SHA256SUMS: the list of every published file with its sha256, in the format of coreutils'
// `sha256sum` ("<hex>  <name>"), so a site can check a download with `sha256sum -c SHA256SUMS`
// after `gpgv` has verified the signature over this one small file.
import { MANIFEST_FILE, type Manifest } from "./manifest.js";

export const SUMS_FILE = "SHA256SUMS";
export const SIGNATURE_FILE = "SHA256SUMS.sig";

export interface SumEntry {
  readonly file: string;
  readonly sha256: string;
}

/** The entries for an artifact set: every file the manifest lists, and the manifest itself. */
export function sumEntries(manifest: Pick<Manifest, "artifacts">, manifestSha256: string): SumEntry[] {
  const entries = Object.values(manifest.artifacts).flatMap((a) => (a ? [{ file: a.file, sha256: a.sha256 }] : []));
  entries.push({ file: MANIFEST_FILE, sha256: manifestSha256 });
  return entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export function renderSums(entries: readonly SumEntry[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join("");
}

/** Parse SHA256SUMS; throws with the line number on anything that is not "<64 hex>  <name>". */
export function parseSums(text: string, where = SUMS_FILE): SumEntry[] {
  const entries: SumEntry[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (line === "") return;
    const m = /^([0-9a-f]{64}) [ *]([^/\\\0]+)$/.exec(line);
    if (!m || m[2] === "." || m[2] === "..") throw new Error(`${where}:${i + 1}: not a sha256sum line ("<64 hex digits>  <file name>")`);
    if (seen.has(m[2]!)) throw new Error(`${where}:${i + 1}: ${m[2]} is listed twice`);
    seen.add(m[2]!);
    entries.push({ sha256: m[1]!, file: m[2]! });
  });
  if (entries.length === 0) throw new Error(`${where}: lists no files`);
  return entries;
}
