// Verify a published set: SHA256SUMS must carry a good signature by the given key, and every
// file it lists must hash (streamed, one pass) to its line; manifest.json, itself covered,
// must not list a file SHA256SUMS leaves out, and each file's size must be the manifest's.
// A set without SHA256SUMS (built without a signing key) is checked against manifest.json's
// sha256s instead and reported unsigned, unless a key or a signature was asked for: then it fails.
// Every problem is collected with the file it concerns, so the report names all of them.
import { createHash } from "node:crypto";
import { ARTIFACT_FILES, isMultiArchManifest, MANIFEST_FILE, type ArtifactRecord, type Manifest, type MultiArchManifest } from "../core/manifest.js";
import { parseSums, SIGNATURE_FILE, SUMS_FILE, type SumEntry } from "../core/sums.js";
import { verifySignature } from "../sign/verify-signature.js";
import { sbomSubjectProblem } from "./sbom-subject.js";
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
  /**
   * The set carries no SHA256SUMS (built and published without a signing key): the files were
   * checked against manifest.json's sha256s only, which nothing vouches for.
   */
  readonly unsigned?: boolean;
  readonly files: readonly FileCheck[];
}

export interface VerifyOptions {
  /** Public key SHA256SUMS.sig must be by; an unsigned set then fails. */
  readonly keyFile?: string;
  /** Fail an unsigned set even without a key (the default checks it against manifest.json and says it is unsigned). */
  readonly requireSignature?: boolean;
  readonly signal?: AbortSignal;
  readonly onFile?: (check: FileCheck) => void;
}

const SMALL_LIMIT = 16 << 20;

export async function verifySet(source: SetSource, options: VerifyOptions = {}): Promise<VerifyReport> {
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
    if (options.keyFile || options.requireSignature) return fail(SUMS_FILE, "missing: the set is not signed (build or publish it with --sign-key)");
    return verifyUnsigned(source, options.signal, note, fail);
  }
  let signedBy: string | undefined;
  if (options.keyFile) {
    const signature = await readSmall(source, SIGNATURE_FILE, options.signal);
    if (!signature) return fail(SIGNATURE_FILE, "missing: SHA256SUMS has no signature", undefined);
    const check = await verifySignature(sums.bytes, signature.bytes, options.keyFile);
    if (!check.ok) return fail(SIGNATURE_FILE, check.reason, signature.location);
    signedBy = check.fingerprint;
    note({ file: SIGNATURE_FILE, ok: true, size: signature.bytes.length, location: signature.location });
  } else if (options.requireSignature) {
    const signature = await readSmall(source, SIGNATURE_FILE, options.signal);
    if (!signature) return fail(SIGNATURE_FILE, "missing: SHA256SUMS has no signature", undefined);
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
  let artifacts: readonly ArtifactRecord[] = [];
  let manifest: unknown;
  for (const entry of ordered) {
    options.signal?.throwIfAborted();
    const expectedSize = entry.file === MANIFEST_FILE ? undefined : artifacts.find((a) => a.file === entry.file)?.size;
    const checked = await checkFile(source, entry.file, { sha256: entry.sha256, size: expectedSize, listedIn: SUMS_FILE }, options.signal);
    note(checked.check);
    if (entry.file === MANIFEST_FILE && checked.kept) {
      manifest = JSON.parse(checked.kept.toString("utf8"));
      const listed = manifestArtifacts(manifest);
      if (typeof listed === "string") note({ file: MANIFEST_FILE, ok: false, reason: listed });
      else artifacts = listed;
    }
  }
  if (!entries.some((e) => e.file === MANIFEST_FILE)) note({ file: SUMS_FILE, ok: false, reason: "does not list manifest.json" });
  for (const artifact of artifacts) {
    if (!entries.some((e) => e.file === artifact.file && e.sha256 === artifact.sha256)) {
      note({ file: artifact.file, ok: false, reason: "listed in manifest.json but not (or with another sha256) in SHA256SUMS" });
    }
  }
  for (const check of await sbomSubjectChecks(source, manifest, files, options.signal)) note(check);
  return { ok: files.every((f) => f.ok), signatureChecked: signedBy !== undefined, ...(signedBy ? { signedBy } : {}), files };
}

/**
 * A set without SHA256SUMS: every artifact manifest.json lists must have its sha256 and size.
 * That catches a damaged or half-copied set, not a forged one (manifest.json itself is vouched
 * for by nothing), which the report says (`unsigned`).
 */
async function verifyUnsigned(
  source: SetSource,
  signal: AbortSignal | undefined,
  note: (check: FileCheck) => void,
  fail: (file: string, reason: string, location?: string) => VerifyReport,
): Promise<VerifyReport> {
  const read = await readSmall(source, MANIFEST_FILE, signal);
  if (!read) return fail(SUMS_FILE, "missing, and so is manifest.json: not an artifact set");
  let manifest: unknown;
  try {
    manifest = JSON.parse(read.bytes.toString("utf8"));
  } catch (error) {
    return fail(MANIFEST_FILE, `not valid JSON (${(error as Error).message})`, read.location);
  }
  const artifacts = manifestArtifacts(manifest);
  if (typeof artifacts === "string") return fail(MANIFEST_FILE, artifacts, read.location);
  if (artifacts.length === 0) return fail(MANIFEST_FILE, "lists no artifacts to check", read.location);
  const files: FileCheck[] = [];
  const record = (check: FileCheck) => {
    files.push(check);
    note(check);
  };
  record({ file: MANIFEST_FILE, ok: true, size: read.bytes.length, location: read.location });
  for (const artifact of artifacts) {
    signal?.throwIfAborted();
    record((await checkFile(source, artifact.file, { sha256: artifact.sha256, size: artifact.size, listedIn: MANIFEST_FILE }, signal)).check);
  }
  for (const check of await sbomSubjectChecks(source, manifest, files, signal)) record(check);
  return { ok: files.every((f) => f.ok), signatureChecked: false, unsigned: true, files };
}

/**
 * manifest.json's `artifacts` as verify reads them (role → file, sha256, size), or what is wrong
 * with them: a manifest edited by hand or damaged must fail naming the field, not as a file
 * called "undefined".
 */
export function manifestArtifacts(manifest: unknown): ArtifactRecord[] | string {
  const artifacts = (manifest as Partial<Manifest> | null)?.artifacts;
  if (artifacts === undefined) return [];
  if (typeof artifacts !== "object" || artifacts === null || Array.isArray(artifacts))
    return `"artifacts" is ${JSON.stringify(artifacts)}, not an object of role → {file, sha256, size}: the manifest was edited or damaged; publish the set again from its build`;
  const records: ArtifactRecord[] = [];
  for (const [role, record] of Object.entries(artifacts as Record<string, unknown>)) {
    const r = record as Partial<ArtifactRecord> | null;
    const problem =
      typeof r !== "object" || r === null
        ? "is not an object"
        : typeof r.file !== "string" || r.file === ""
          ? "has no file name"
          : typeof r.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(r.sha256)
            ? "has no sha256 (64 hex digits)"
            : typeof r.size !== "number" || !Number.isSafeInteger(r.size) || r.size < 0
              ? "has no size (bytes)"
              : undefined;
    if (problem) return `"artifacts.${role}" ${problem}: the manifest was edited or damaged; publish the set again from its build`;
    records.push({ file: r!.file!, sha256: r!.sha256!, size: r!.size! });
  }
  return records;
}

/** Each SBOM whose sha256 checked out must describe the manifest's image (its name and primary tag): see sbom-subject.ts. */
async function sbomSubjectChecks(source: SetSource, manifest: unknown, checked: readonly FileCheck[], signal: AbortSignal | undefined): Promise<FileCheck[]> {
  const m = manifest as Partial<Manifest> | null | undefined;
  if (typeof m?.name !== "string") return [];
  const image = { name: m.name, version: Array.isArray(m.tags) && typeof m.tags[0] === "string" ? m.tags[0] : "latest" };
  const problems: FileCheck[] = [];
  for (const file of [ARTIFACT_FILES.sbomCycloneDx, ARTIFACT_FILES.sbomSpdx]) {
    if (!checked.some((c) => c.file === file && c.ok)) continue;
    const read = await readSmall(source, file, signal);
    const problem = read && sbomSubjectProblem(read.bytes, image);
    if (problem) problems.push({ file, ok: false, reason: problem, location: read.location });
  }
  return problems;
}

/** Stream one file, hashing it: its sha256 (and size, when known) must be the expected ones. Keeps manifest.json's bytes. */
async function checkFile(
  source: SetSource,
  file: string,
  expected: { sha256: string; size: number | undefined; listedIn: string },
  signal: AbortSignal | undefined,
): Promise<{ check: FileCheck; kept?: Buffer }> {
  const opened = await source.open(file, signal).catch((error: unknown) => error as Error);
  if (opened instanceof Error) return { check: { file, ok: false, reason: `cannot be read: ${opened.message}` } };
  if (!opened)
    return {
      check: { file, ok: false, reason: `missing (listed in ${expected.listedIn}): copy it from the build's output directory, or publish the set again` },
    };
  const hash = createHash("sha256");
  let size = 0;
  const keep: Buffer[] = [];
  try {
    for await (const chunk of opened.body) {
      hash.update(chunk);
      size += chunk.length;
      // Only manifest.json is kept (to read the sizes), and only while it is small.
      if (file === MANIFEST_FILE && size <= SMALL_LIMIT) keep.push(Buffer.from(chunk));
    }
  } catch (error) {
    return { check: { file, ok: false, reason: `download failed after ${size} bytes: ${(error as Error).message}`, location: opened.location } };
  }
  const location = opened.location;
  const sha256 = hash.digest("hex");
  if (sha256 !== expected.sha256)
    return {
      check: {
        file,
        ok: false,
        size,
        reason: `sha256 ${sha256} does not match ${expected.listedIn} (${expected.sha256}): the file was changed or replaced after the set was made; copy it again from the build's output directory, or publish the set again`,
        location,
      },
    };
  if (expected.size !== undefined && expected.size !== size)
    return { check: { file, ok: false, size, reason: `${size} bytes served, manifest.json says ${expected.size}`, location } };
  return { check: { file, ok: true, size, location }, ...(file === MANIFEST_FILE ? { kept: Buffer.concat(keep) } : {}) };
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
async function verifyArchitectures(source: SetSource, multi: MultiArchManifest, options: VerifyOptions): Promise<VerifyReport> {
  const files: FileCheck[] = [];
  let signedBy: string | undefined;
  let allSigned = true;
  let anyUnsigned = false;
  for (const [arch, entry] of Object.entries(multi.arches)) {
    const sub = subSource(source, entry.dir);
    const report = await verifySet(sub, { ...options, onFile: (c) => options.onFile?.({ ...c, file: `${arch}/${c.file}` }) });
    files.push(...report.files.map((c) => ({ ...c, file: `${arch}/${c.file}` })));
    allSigned &&= report.signatureChecked;
    anyUnsigned ||= report.unsigned === true;
    signedBy ??= report.signedBy;
    // The architecture's manifest must be the one the combined manifest lists.
    const manifest = await readSmall(sub, MANIFEST_FILE, options.signal).catch(() => undefined);
    if (manifest && createHash("sha256").update(manifest.bytes).digest("hex") !== entry.manifest.sha256) {
      const check = { file: `${arch}/${MANIFEST_FILE}`, ok: false, reason: "not the manifest.json the combined manifest.json lists (sha256 differs)" };
      files.push(check);
      options.onFile?.(check);
    }
  }
  return {
    ok: files.every((f) => f.ok),
    signatureChecked: allSigned,
    ...(allSigned && signedBy ? { signedBy } : {}),
    ...(anyUnsigned ? { unsigned: true } : {}),
    files,
  };
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
