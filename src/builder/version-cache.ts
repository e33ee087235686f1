// A tool's version holds until its binary changes: remember it in /run (a tmpfs, emptied at
// boot), keyed on the binary's path, inode, size and mtime, so a build does not start dnf's and
// mmdebstrap's interpreters (~0.5 s each here, 1.5 s for all the tools on a loaded 2-core
// machine) to ask again. A package upgrade replaces the file, and so the key. Only versions that
// were read are cached; `bootsmith doctor` always asks afresh. Other answers of a program that
// hold as long as it and its configuration do (buildah's default storage paths, host.ts) are
// kept the same way, with what else they depend on in `extraKey`.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export const DEFAULT_VERSION_CACHE_DIR = "/run/bootsmith/tool-versions";

/** The cached version of the program at `binary` run with `args` (and `extraKey`, see above), or undefined. */
export function cachedVersion(dir: string, binary: string, args: readonly string[], extraKey: readonly unknown[] = []): string | undefined {
  try {
    const data = JSON.parse(readFileSync(cacheFile(dir, binary, args, extraKey), "utf8")) as { version?: unknown };
    return typeof data.version === "string" ? data.version : undefined;
  } catch {
    return undefined; // not cached yet, or the binary changed (another key)
  }
}

export function rememberVersion(dir: string, binary: string, args: readonly string[], version: string, extraKey: readonly unknown[] = []): void {
  try {
    const file = cacheFile(dir, binary, args, extraKey);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify({ binary, version }));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // a cache that cannot be written only costs the next build another --version
  }
}

function cacheFile(dir: string, binary: string, args: readonly string[], extraKey: readonly unknown[]): string {
  const s = statSync(binary); // follows links: the program that runs
  const key = createHash("sha256")
    .update(JSON.stringify([binary, args, s.ino, s.size, s.mtimeMs, ...extraKey]))
    .digest("hex")
    .slice(0, 32);
  return path.join(dir, `${key}.json`);
}
