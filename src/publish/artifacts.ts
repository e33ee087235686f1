// The input of every publisher: an artifact directory as `bootsmith build` leaves it, checked
// before anything is sent (manifest readable, names and tags safe as path components, every
// listed artifact present with its recorded size). Hashes are checked later, while files are
// read for upload, so a large rootfs is read once.
import { readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ARTIFACT_FILES, isMultiArchManifest, MANIFEST_FILE, multiArchMessage, type ArtifactRole, type Manifest } from "../core/manifest.js";
import { PublishInputError } from "./errors.js";
import { sha256Bytes } from "../core/hash.js";
import { renderSums, SIGNATURE_FILE, sumEntries, SUMS_FILE } from "../core/sums.js";
import { OCI_TAG as TAG } from "../core/oci-tag.js";

export interface LocalArtifact {
  readonly role: ArtifactRole;
  /** Name it is published under (ARTIFACT_FILES[role]). */
  readonly name: string;
  /** Where it is read from. */
  readonly path: string;
  readonly size: number;
  /** From the manifest: what the bytes must hash to. */
  readonly sha256: string;
}

export interface ArtifactSet {
  readonly dir: string;
  readonly manifest: Manifest;
  /** manifest.json exactly as built, published verbatim. */
  readonly manifestBytes: Buffer;
  /** In ARTIFACT_FILES order; empty for a base layer without boot artifacts. */
  readonly artifacts: readonly LocalArtifact[];
  /** SHA256SUMS and SHA256SUMS.sig when the set is signed: published before manifest.json. */
  readonly signature?: SignatureFiles;
}

export interface SignatureFiles {
  readonly sums: Buffer;
  readonly signature: Buffer;
}

/** Image names become one path component / key segment. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export const ARTIFACT_ROLES = Object.keys(ARTIFACT_FILES) as ArtifactRole[];

export interface LoadOptions {
  /**
   * For commands that only read the set (inspect, diff): a manifest without schemaVersion is
   * read as version 1 (the only version any bootsmith wrote) and needs no image.ref.
   */
  readonly readOnly?: boolean;
}

export async function loadArtifactSet(dir: string, options: LoadOptions = {}): Promise<ArtifactSet> {
  const root = resolve(dir);
  const manifestPath = join(root, MANIFEST_FILE);
  let manifestBytes: Buffer;
  try {
    manifestBytes = await readFile(manifestPath);
  } catch (error) {
    throw new PublishInputError(
      `${manifestPath}: cannot read the manifest (${(error as NodeJS.ErrnoException).code ?? String(error)}); is ${dir} an artifact directory left by \`bootsmith build\`?`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestBytes.toString("utf8"));
  } catch (error) {
    throw new PublishInputError(`${manifestPath}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (isMultiArchManifest(parsed))
    throw new PublishInputError(
      multiArchMessage(
        manifestPath,
        parsed,
        `give one architecture's directory (${dir}/${Object.keys(parsed.arches)[0] ?? "ARCH"}), or publish them all with bootsmith publish ${dir}`,
      ),
    );
  const manifest = checkManifest(parsed, manifestPath, options);

  const artifacts: LocalArtifact[] = [];
  for (const role of ARTIFACT_ROLES) {
    const record = manifest.artifacts[role];
    if (!record) continue;
    const where = `${manifestPath}: artifacts.${role}`;
    if (typeof record.file !== "string" || basename(record.file) !== record.file || record.file === "..") {
      throw new PublishInputError(`${where}.file must be a file name inside the artifact directory, got ${JSON.stringify(record.file)}`);
    }
    if (typeof record.sha256 !== "string" || !SHA256.test(record.sha256)) {
      throw new PublishInputError(`${where}.sha256 must be 64 lowercase hex digits, got ${JSON.stringify(record.sha256)}`);
    }
    const path = join(root, record.file);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error("not a regular file");
      size = info.size;
    } catch (error) {
      throw new PublishInputError(
        `${path}: listed in ${where} but missing or unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); rebuild the image`,
        { cause: error },
      );
    }
    if (size !== record.size) {
      throw new PublishInputError(
        `${path}: ${size} bytes on disk but ${where}.size says ${record.size}; the directory was changed after the build — rebuild the image`,
      );
    }
    artifacts.push({ role, name: ARTIFACT_FILES[role], path, size, sha256: record.sha256 });
  }
  const signature = await loadSignature(root, manifest, manifestBytes);
  return { dir: root, manifest, manifestBytes, artifacts, ...(signature ? { signature } : {}) };
}

/**
 * SHA256SUMS and its signature, if the directory has them. They must describe exactly this
 * manifest and its files: a SHA256SUMS left from another build would publish a set that fails
 * verification.
 */
async function loadSignature(root: string, manifest: Manifest, manifestBytes: Buffer): Promise<SignatureFiles | undefined> {
  const sumsPath = join(root, SUMS_FILE);
  const sums = await readFile(sumsPath).catch(() => undefined);
  if (!sums) return undefined;
  const signature = await readFile(join(root, SIGNATURE_FILE)).catch(() => undefined);
  if (!signature)
    throw new PublishInputError(
      `${join(root, SIGNATURE_FILE)}: missing, but ${SUMS_FILE} is there; sign the set again (bootsmith publish --sign-key KEY) or remove ${SUMS_FILE}`,
    );
  const expected = renderSums(sumEntries(manifest, sha256Bytes(manifestBytes)));
  if (sums.toString("utf8") !== expected) {
    throw new PublishInputError(
      `${sumsPath}: does not match manifest.json and the files it lists (left from another build?); sign the set again with --sign-key KEY`,
    );
  }
  return { sums, signature };
}

function checkManifest(value: unknown, where: string, options: LoadOptions): Manifest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PublishInputError(`${where}: expected a JSON object`);
  const m = value as Partial<Manifest>;
  const version = schemaVersionProblem(m.schemaVersion, options);
  if (version) throw new PublishInputError(`${where}: ${version}`);
  if (typeof m.name !== "string" || !NAME.test(m.name)) {
    throw new PublishInputError(`${where}: name ${JSON.stringify(m.name)} must match ${NAME} (it becomes a path component)`);
  }
  if (!Array.isArray(m.tags) || m.tags.length === 0) throw new PublishInputError(`${where}: tags must list at least one tag (the first is the primary)`);
  for (const tag of m.tags) {
    if (typeof tag !== "string" || !TAG.test(tag)) throw new PublishInputError(`${where}: tag ${JSON.stringify(tag)} must match ${TAG}`);
  }
  if (typeof m.artifacts !== "object" || m.artifacts === null) throw new PublishInputError(`${where}: artifacts must be an object (it may be empty)`);
  if (!options.readOnly && (typeof m.image !== "object" || m.image === null || typeof m.image.ref !== "string"))
    throw new PublishInputError(`${where}: image.ref is missing`);
  return value as Manifest;
}

/**
 * What is wrong with a manifest's schemaVersion, or undefined. Every bootsmith release wrote
 * "schemaVersion": 1 (git history: from the first manifest on), so a manifest without it was
 * written by hand or by another tool; commands that only read it take it as 1.
 */
function schemaVersionProblem(version: unknown, options: LoadOptions): string | undefined {
  if (version === 1) return undefined;
  if (version === undefined)
    return options.readOnly
      ? undefined
      : 'has no "schemaVersion" (every bootsmith release writes "schemaVersion": 1, so this manifest was written by hand or by another tool): add "schemaVersion": 1 at its top level if the rest is a bootsmith manifest (name, tags, arch, image.ref, artifacts with file, sha256 and size), or rebuild the image';
  if (typeof version === "number" && Number.isInteger(version) && version > 1)
    return `schemaVersion ${version} is newer than this bootsmith reads (1): use the bootsmith release that wrote it, or rebuild the image with this one`;
  return `schemaVersion ${JSON.stringify(version)} is not valid: bootsmith manifests carry "schemaVersion": 1`;
}
