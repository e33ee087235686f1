// Verify a published set: SHA256SUMS must carry a good signature by the given key, and every
// file it lists must hash (streamed, one pass) to its line; manifest.json, itself covered,
// must not list a file SHA256SUMS leaves out, and each file's size must be the manifest's.
// Every problem is collected with the file it concerns, so the report names all of them.
import { createHash } from "node:crypto";
import { isMultiArchManifest, MANIFEST_FILE, type Manifest, type MultiArchManifest } from "../core/manifest.js";
import { parseSums, SIGNATURE_FILE, SUMS_FILE, type SumEntry } from "../core/sums.js";
import { verifySignature } from "../sign/verify-signature.js";
import type { SetSource } from "./sources.js";

export interface FileCheck {
  readonly file: string;
  readonly ok: boolean;
  readonly size?: number;
  /** Why it failed. */
  readonly reason?: string;
  readonly location?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Fingerprint of the key that signed, when the signature was checked and good. */
  readonly signedBy?: string;
  readonly signatureChecked: boolean;
  readonly files: readonly FileCheck[];
}

const SMALL_LIMIT = 16 << 20;

export async function verifySet(
  source: SetSource,
  options: { keyFile?: string; signal?: AbortSignal; onFile?: (check: FileCheck) => void } = {},
): Promise<VerifyReport> {
  const files: FileCheck[] = [];
  const note = (check: FileCheck) => {
    files.push(check);
    options.onFile?.(check);
  };
  const fail = (file: string, reason: string, location?: string): VerifyReport => {
    note({ file, ok: false, reason, ...(location ? { location } : {}) });
    return { ok: false, signatureChecked: false, files };
  };

  const sums = await readSmall(source, SUMS_FILE, options.signal);
  if (!sums) {
    const multi = await readMultiArch(source, options.signal);
    if (multi) return verifyArchitectures(source, multi, options);
    return fail(SUMS_FILE, "missing: the set is not signed (build or publish it with --sign-key)");
  }
  let signedBy: string | undefined;
  if (options.keyFile) {
    const signature = await readSmall(source, SIGNATURE_FILE, options.signal);
    if (!signature) return fail(SIGNATURE_FILE, "missing: SHA256SUMS has no signature", undefined);
    const check = await verifySignature(sums.bytes, signature.bytes, options.keyFile);
    if (!check.ok) return fail(SIGNATURE_FILE, check.reason, signature.location);
    signedBy = check.fingerprint;
    note({ file: SIGNATURE_FILE, ok: true, size: signature.bytes.length, location: signature.location });
  }
  let entries: SumEntry[];
  try {
    entries = parseSums(sums.bytes.toString("utf8"));
  } catch (error) {
    return fail(SUMS_FILE, (error as Error).message, sums.location);
  }
  note({ file: SUMS_FILE, ok: true, size: sums.bytes.length, location: sums.location });

  // manifest.json first: its sizes are what the other files must measure.
  const ordered = [...entries].sort((a, b) => Number(b.file === MANIFEST_FILE) - Number(a.file === MANIFEST_FILE));
  let manifest: Manifest | undefined;
  for (const entry of ordered) {
    options.signal?.throwIfAborted();
    const opened = await source.open(entry.file, options.signal).catch((error: unknown) => error as Error);
    if (opened instanceof Error) {
      note({ file: entry.file, ok: false, reason: `cannot be read: ${opened.message}` });
      continue;
    }
    if (!opened) {
      note({ file: entry.file, ok: false, reason: "missing (listed in SHA256SUMS)" });
      continue;
    }
    const hash = createHash("sha256");
    let size = 0;
    const keep: Buffer[] = [];
    try {
      for await (const chunk of opened.body) {
        hash.update(chunk);
        size += chunk.length;
        // Only manifest.json is kept (to read the sizes), and only while it is small.
        if (entry.file === MANIFEST_FILE && size <= SMALL_LIMIT) keep.push(Buffer.from(chunk));
      }
    } catch (error) {
      note({ file: entry.file, ok: false, reason: `download failed after ${size} bytes: ${(error as Error).message}`, location: opened.location });
      continue;
    }
    const sha256 = hash.digest("hex");
    if (sha256 !== entry.sha256) {
      note({ file: entry.file, ok: false, size, reason: `sha256 ${sha256} does not match SHA256SUMS (${entry.sha256})`, location: opened.location });
      continue;
    }
    const expectedSize = entry.file === MANIFEST_FILE ? undefined : Object.values(manifest?.artifacts ?? {}).find((a) => a?.file === entry.file)?.size;
    if (expectedSize !== undefined && expectedSize !== size) {
      note({ file: entry.file, ok: false, size, reason: `${size} bytes served, manifest.json says ${expectedSize}`, location: opened.location });
      continue;
    }
    if (entry.file === MANIFEST_FILE) manifest = JSON.parse(Buffer.concat(keep).toString("utf8")) as Manifest;
    note({ file: entry.file, ok: true, size, location: opened.location });
  }
  if (!entries.some((e) => e.file === MANIFEST_FILE)) note({ file: SUMS_FILE, ok: false, reason: "does not list manifest.json" });
  for (const artifact of Object.values(manifest?.artifacts ?? {})) {
    if (artifact && !entries.some((e) => e.file === artifact.file && e.sha256 === artifact.sha256)) {
      note({ file: artifact.file, ok: false, reason: "listed in manifest.json but not (or with another sha256) in SHA256SUMS" });
    }
  }
  return { ok: files.every((f) => f.ok), signatureChecked: signedBy !== undefined, ...(signedBy ? { signedBy } : {}), files };
}

/** The combined manifest.json of a recipe built for several architectures, if that is what the source holds. */
async function readMultiArch(source: SetSource, signal: AbortSignal | undefined): Promise<MultiArchManifest | undefined> {
  const bytes = await readSmall(source, MANIFEST_FILE, signal).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.bytes.toString("utf8"));
    return isMultiArchManifest(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A set built for several architectures: each architecture's directory is a signed set of its
 * own (SHA256SUMS covers its manifest.json and files), checked in turn; files are reported as
 * <arch>/<file>. The combined manifest only lists them, and is not itself signed.
 */
async function verifyArchitectures(
  source: SetSource,
  multi: MultiArchManifest,
  options: { keyFile?: string; signal?: AbortSignal; onFile?: (check: FileCheck) => void },
): Promise<VerifyReport> {
  const files: FileCheck[] = [];
  let signedBy: string | undefined;
  let allSigned = true;
  for (const [arch, entry] of Object.entries(multi.arches)) {
    const sub = subSource(source, entry.dir);
    const report = await verifySet(sub, { ...options, onFile: (c) => options.onFile?.({ ...c, file: `${arch}/${c.file}` }) });
    files.push(...report.files.map((c) => ({ ...c, file: `${arch}/${c.file}` })));
    allSigned &&= report.signatureChecked;
    signedBy ??= report.signedBy;
    // The architecture's manifest must be the one the combined manifest lists.
    const manifest = await readSmall(sub, MANIFEST_FILE, options.signal).catch(() => undefined);
    if (manifest && createHash("sha256").update(manifest.bytes).digest("hex") !== entry.manifest.sha256) {
      const check = { file: `${arch}/${MANIFEST_FILE}`, ok: false, reason: "not the manifest.json the combined manifest.json lists (sha256 differs)" };
      files.push(check);
      options.onFile?.(check);
    }
  }
  return { ok: files.every((f) => f.ok), signatureChecked: allSigned, ...(allSigned && signedBy ? { signedBy } : {}), files };
}

/** The files under `dir/` of a source. */
function subSource(source: SetSource, dir: string): SetSource {
  return { description: `${source.description}${dir}/`, open: (file, signal) => source.open(`${dir}/${file}`, signal), close: () => source.close() };
}

async function readSmall(source: SetSource, file: string, signal: AbortSignal | undefined): Promise<{ bytes: Buffer; location: string } | undefined> {
  const opened = await source.open(file, signal);
  if (!opened) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of opened.body) {
    size += chunk.length;
    if (size > SMALL_LIMIT) throw new Error(`${opened.location}: larger than ${SMALL_LIMIT} bytes; not a ${file}`);
    chunks.push(Buffer.from(chunk));
  }
  return { bytes: Buffer.concat(chunks), location: opened.location };
}
