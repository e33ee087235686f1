// The lock file: a recipe's resolved package versions, written by `bootsmith lock` from the last
// build's manifest and kept next to the recipe (recipes/x.yaml → recipes/x.lock.json, in git).
// `bootsmith build --locked` compares each new build's package list with it and fails on drift,
// before anything is committed, published or registered. It detects drift; it does not pin the
// versions at install time (see docs/pipelines.md for why).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BootsmithError, EXIT, UserError } from "../core/errors.js";
import type { Manifest, PackageRecord } from "../core/manifest.js";
import { diffPackages, isEmpty, type PackageDiff, type PackageChange } from "../core/package-diff.js";

export const LOCK_VERSION = 1;

export interface LockFile {
  readonly lockVersion: typeof LOCK_VERSION;
  /** The recipe's name (a lock file belongs to one recipe). */
  readonly recipe: string;
  /** The recipe's key when the locked build was made (informational: explains drift after a recipe edit). */
  readonly inputDigest?: string;
  /** Sorted by name, arch, version. */
  readonly packages: readonly PackageRecord[];
}

/** recipes/debian-12-live.yaml → recipes/debian-12-live.lock.json */
export function lockFilePath(recipeFile: string): string {
  const ext = path.extname(recipeFile);
  const base = [".yaml", ".yml"].includes(ext) ? recipeFile.slice(0, -ext.length) : recipeFile;
  return `${base}.lock.json`;
}

function comparePackages(a: PackageRecord, b: PackageRecord): number {
  const key = (p: PackageRecord) => [p.name, p.arch, p.epoch ?? "", p.version, p.release ?? ""];
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** Only the version fields, in a fixed order, so the file diffs well in git. */
function packageRecord(p: PackageRecord): PackageRecord {
  return {
    name: p.name,
    ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
    version: p.version,
    ...(p.release !== undefined ? { release: p.release } : {}),
    arch: p.arch,
  };
}

export function lockFromManifest(manifest: Pick<Manifest, "name" | "inputDigest" | "packages">): LockFile {
  return {
    lockVersion: LOCK_VERSION,
    recipe: manifest.name,
    inputDigest: manifest.inputDigest,
    packages: manifest.packages.map(packageRecord).sort(comparePackages),
  };
}

export function formatLockFile(lock: LockFile): string {
  return `${JSON.stringify(lock, null, 2)}\n`;
}

export function writeLockFile(file: string, lock: LockFile): void {
  writeFileSync(`${file}.partial`, formatLockFile(lock));
  renameSync(`${file}.partial`, file);
}

/** Read and check a lock file; UserError (exit 2) naming the file when it is missing or malformed. */
export function readLockFile(file: string, recipeFile?: string): LockFile {
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    const recipe = recipeFile ? path.relative(process.cwd(), recipeFile) || recipeFile : "RECIPE";
    throw new UserError(`--locked: no lock file ${shown}; build the recipe and write one with: bootsmith lock ${recipe}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${shown}: not a lock file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bad = (what: string) => new UserError(`${shown}: not a bootsmith lock file: ${what}`);
  if (!isObject(data)) throw bad("expected a JSON object");
  if (data.lockVersion !== LOCK_VERSION) throw bad(`lockVersion ${JSON.stringify(data.lockVersion)}, expected ${LOCK_VERSION}`);
  if (typeof data.recipe !== "string" || data.recipe === "") throw bad("recipe: expected the recipe's name");
  if (data.inputDigest !== undefined && typeof data.inputDigest !== "string") throw bad("inputDigest: expected a string");
  if (!Array.isArray(data.packages)) throw bad("packages: expected a list");
  const packages = data.packages.map((p: unknown, i: number): PackageRecord => {
    if (!isObject(p)) throw bad(`packages[${i}]: expected an object`);
    for (const field of ["name", "version", "arch"] as const)
      if (typeof p[field] !== "string" || p[field] === "") throw bad(`packages[${i}].${field}: expected a non-empty string`);
    for (const field of ["epoch", "release"] as const)
      if (p[field] !== undefined && typeof p[field] !== "string") throw bad(`packages[${i}].${field}: expected a string`);
    return packageRecord(p as unknown as PackageRecord);
  });
  return { lockVersion: LOCK_VERSION, recipe: data.recipe, ...(typeof data.inputDigest === "string" ? { inputDigest: data.inputDigest } : {}), packages };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A build's packages differ from its lock file (`build --locked`). */
export class LockDriftError extends BootsmithError {
  constructor(
    readonly lockFile: string,
    readonly drift: PackageDiff,
    message: string,
  ) {
    super(message, EXIT.failed);
    this.name = "LockDriftError";
  }
}

/**
 * The check `build --locked` runs once the package list is known: throws LockDriftError listing
 * every difference and how to accept them.
 */
export function checkLocked(
  lock: LockFile,
  lockFile: string,
  recipe: { name: string; file: string; inputDigest: string },
  packages: readonly PackageRecord[],
): void {
  const drift = diffPackages(lock.packages, packages);
  if (isEmpty(drift)) return;
  const shown = path.relative(process.cwd(), lockFile) || lockFile;
  const recipeFile = path.relative(process.cwd(), recipe.file) || recipe.file;
  const line = (kind: string, c: PackageChange, versions: string) => `  ${kind.padEnd(7)} ${c.name}.${c.arch} ${versions}`;
  const lines = [
    `--locked: the packages of ${recipe.name} differ from ${shown}:`,
    ...drift.changed.map((c) => line("changed", c, `${c.from} (locked) → ${c.to} (built)`)),
    ...drift.added.map((c) => line("added", c, `${c.to} (not in the lock file)`)),
    ...drift.removed.map((c) => line("removed", c, `${c.from} (locked, not installed)`)),
  ];
  if (lock.inputDigest !== undefined && lock.inputDigest !== recipe.inputDigest)
    lines.push(`The recipe changed since the lock file was written (key ${lock.inputDigest.slice(0, 12)} → ${recipe.inputDigest.slice(0, 12)}).`);
  lines.push(
    "Nothing was published or registered.",
    `To accept these versions: bootsmith build ${recipeFile} --no-publish (with this build's --var/--out), then bootsmith lock ${recipeFile}, and commit ${shown}.`,
  );
  throw new LockDriftError(lockFile, drift, lines.join("\n"));
}

/** For `build --locked`: read RECIPE's lock file now (exit 2 when missing) and return the check to run on its packages. */
export function lockedVerifier(recipe: {
  spec: { name: string; arches?: readonly string[] };
  file: string;
  inputDigest: string;
}): (packages: readonly PackageRecord[]) => void {
  // One lock file holds one package list; each architecture has its own (arch is in every entry).
  if (recipe.spec.arches)
    throw new UserError(
      `${recipe.file}: --locked and lock files are per architecture, and a recipe with arches: (${recipe.spec.arches.join(", ")}) has no per-architecture lock file yet: build it without --locked`,
    );
  const file = lockFilePath(recipe.file);
  const lock = readLockFile(file, recipe.file);
  if (lock.recipe !== recipe.spec.name)
    throw new UserError(
      `${path.relative(process.cwd(), file) || file} locks the recipe "${lock.recipe}", not "${recipe.spec.name}"; write it again with: bootsmith lock ${path.relative(process.cwd(), recipe.file) || recipe.file}`,
    );
  return (packages) => checkLocked(lock, file, { name: recipe.spec.name, file: recipe.file, inputDigest: recipe.inputDigest }, packages);
}
