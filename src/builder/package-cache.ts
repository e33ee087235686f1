// The package caches builds share under the cache directory (dnf's keepcache, on the host and in
// dnf-in-image, and apt's archives: see src/pkg/): what they hold and pruning what no build has used
// for a while. A package's last use is its access time (dnf reads a cached package to
// check its checksum before reusing it, the apt hook copies it into the root), or its
// modification time when that is later (a filesystem mounted noatime: pruning then goes by the
// download date, and a package still in use is downloaded again, nothing worse). Only package
// files are pruned: repository metadata is small and dnf/zypper refresh it themselves.
import { readdirSync, rmSync, statSync, type Dirent } from "node:fs";
import path from "node:path";
import { formatBytes } from "../core/format.js";
import type { HostCheck } from "./host.js";

/** What each manager's downloads look like; the first directory under the cache names the manager. */
const PACKAGE_FILE = /\.(rpm|deb|drpm)$/;

export interface CachedPackage {
  /** Path relative to the cache directory, e.g. dnf/baseos-1a2b…/packages/bash-5.1-6.el9.x86_64.rpm. */
  readonly file: string;
  /** dnf, zypp, apt: the directory under the cache the file is in. */
  readonly manager: string;
  readonly bytes: number;
  readonly lastUsed: Date;
}

export interface CacheSummary {
  readonly manager: string;
  readonly packages: number;
  readonly bytes: number;
  readonly oldestUse?: Date;
  readonly newestUse?: Date;
}

/** Every package file under the cache directory; none when it does not exist yet. */
export function listCachedPackages(cacheDir: string): CachedPackage[] {
  const found: CachedPackage[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(cacheDir, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isFile() || !PACKAGE_FILE.test(entry.name)) continue;
    const full = path.join(entry.parentPath, entry.name);
    const file = path.relative(cacheDir, full);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) continue; // removed meanwhile (a build's own cleanup)
    found.push({ file, manager: file.split(path.sep)[0]!, bytes: stat.size, lastUsed: new Date(Math.max(stat.atimeMs, stat.mtimeMs)) });
  }
  return found.sort((a, b) => a.file.localeCompare(b.file));
}

/** Per manager: how many packages, how many bytes, and the range of last uses. */
export function summarizeCache(packages: readonly CachedPackage[]): CacheSummary[] {
  const byManager = new Map<string, CachedPackage[]>();
  for (const p of packages) byManager.set(p.manager, [...(byManager.get(p.manager) ?? []), p]);
  return [...byManager.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([manager, list]) => {
      const uses = list.map((p) => p.lastUsed.getTime());
      return {
        manager,
        packages: list.length,
        bytes: list.reduce((n, p) => n + p.bytes, 0),
        oldestUse: new Date(Math.min(...uses)),
        newestUse: new Date(Math.max(...uses)),
      };
    });
}

/** The packages last used before `now - days`. */
export function stalePackages(packages: readonly CachedPackage[], days: number, now: Date): CachedPackage[] {
  const cutoff = now.getTime() - days * 86_400_000;
  return packages.filter((p) => p.lastUsed.getTime() < cutoff);
}

/** Delete the given packages from the cache directory; returns the bytes freed. */
export function removeCachedPackages(cacheDir: string, packages: readonly CachedPackage[]): number {
  let freed = 0;
  for (const p of packages) {
    rmSync(path.join(cacheDir, p.file), { force: true });
    freed += p.bytes;
  }
  return freed;
}

/**
 * The doctor's line for the cache: what it holds, and a warning when it has grown past what its
 * filesystem has left (the next builds' downloads and a prune's candidates compete for that space).
 */
export function packageCacheCheck(cacheDir: string, packages: readonly CachedPackage[], freeBytes: number | undefined): HostCheck {
  const summary = summarizeCache(packages);
  const bytes = summary.reduce((n, s) => n + s.bytes, 0);
  const parts = summary.map((s) => `${s.manager} ${formatBytes(s.bytes)}`).join(", ");
  const held = packages.length === 0 ? "no cached packages" : `${packages.length} packages, ${formatBytes(bytes)} (${parts})`;
  const detail = `${held} in ${cacheDir}${freeBytes === undefined ? "" : `; ${formatBytes(freeBytes)} free there`}`;
  const check = { id: "package-cache", title: "package cache" };
  if (freeBytes !== undefined && packages.length > 0 && bytes > freeBytes)
    return { ...check, status: "warn", detail, fix: "bootsmith cache prune --older-than 30 --yes (packages no build read for 30 days)" };
  return { ...check, status: "ok", detail };
}
