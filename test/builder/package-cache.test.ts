// The package cache's scan and pruning on a real directory tree laid out as dnf, zypper and apt
// leave it, with access and modification times set per file.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { listCachedPackages, packageCacheCheck, removeCachedPackages, stalePackages, summarizeCache } from "../../src/builder/package-cache.js";

const NOW = new Date("2026-12-02T12:00:00Z");
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
let cache: string;

/** A file of `bytes` bytes, read `readDaysAgo` and written `writtenDaysAgo` days before NOW. */
function put(file: string, bytes: number, readDaysAgo: number, writtenDaysAgo = readDaysAgo): void {
  const full = path.join(cache, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, Buffer.alloc(bytes));
  utimesSync(full, daysAgo(readDaysAgo), daysAgo(writtenDaysAgo));
}

beforeEach(() => {
  cache = mkdtempSync(path.join(tmpdir(), "bootsmith-package-cache-"));
  put("dnf/baseos-1a2b3c/packages/bash-5.1-6.el9.x86_64.rpm", 1000, 2, 40);
  put("dnf/baseos-1a2b3c/packages/old-1-1.el9.noarch.rpm", 300, 45);
  put("dnf/baseos-1a2b3c/repodata/repomd.xml", 50, 90);
  put("zypp/packages/oss/x86_64/zypper-1.14-1.x86_64.rpm", 200, 31);
  put("apt/archives/libc6_2.36-9_amd64.deb", 700, 1);
  // Downloaded 60 days ago on a noatime mount (atime never moved), used since: mtime is the later.
  put("apt/archives/noatime_1_all.deb", 10, 60, 3);
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

describe("package cache", () => {
  it("lists package files only, with the later of access and modification time as the last use", () => {
    const list = listCachedPackages(cache);
    expect(list.map((p) => [p.manager, path.basename(p.file), p.bytes])).toEqual([
      ["apt", "libc6_2.36-9_amd64.deb", 700],
      ["apt", "noatime_1_all.deb", 10],
      ["dnf", "bash-5.1-6.el9.x86_64.rpm", 1000],
      ["dnf", "old-1-1.el9.noarch.rpm", 300],
      ["zypp", "zypper-1.14-1.x86_64.rpm", 200],
    ]);
    expect(list.find((p) => p.file.endsWith("noatime_1_all.deb"))!.lastUsed).toEqual(daysAgo(3));
    expect(list.find((p) => p.file.endsWith("bash-5.1-6.el9.x86_64.rpm"))!.lastUsed).toEqual(daysAgo(2));
  });

  it("summarizes per manager", () => {
    expect(summarizeCache(listCachedPackages(cache))).toEqual([
      { manager: "apt", packages: 2, bytes: 710, oldestUse: daysAgo(3), newestUse: daysAgo(1) },
      { manager: "dnf", packages: 2, bytes: 1300, oldestUse: daysAgo(45), newestUse: daysAgo(2) },
      { manager: "zypp", packages: 1, bytes: 200, oldestUse: daysAgo(31), newestUse: daysAgo(31) },
    ]);
  });

  it("prunes the packages not used for the given days, and nothing else", () => {
    const stale = stalePackages(listCachedPackages(cache), 30, NOW);
    expect(stale.map((p) => path.basename(p.file))).toEqual(["old-1-1.el9.noarch.rpm", "zypper-1.14-1.x86_64.rpm"]);
    expect(removeCachedPackages(cache, stale)).toBe(500);
    expect(existsSync(path.join(cache, "dnf/baseos-1a2b3c/packages/old-1-1.el9.noarch.rpm"))).toBe(false);
    expect(existsSync(path.join(cache, "dnf/baseos-1a2b3c/repodata/repomd.xml"))).toBe(true);
    expect(listCachedPackages(cache).map((p) => path.basename(p.file))).toEqual(["libc6_2.36-9_amd64.deb", "noatime_1_all.deb", "bash-5.1-6.el9.x86_64.rpm"]);
  });

  it("is a doctor check: what the cache holds, and a warning with the fix once it outgrows the free space", () => {
    const packages = listCachedPackages(cache);
    const ok = packageCacheCheck(cache, packages, 10_000);
    expect(ok).toMatchObject({ id: "package-cache", status: "ok" });
    expect(ok.detail).toBe(`5 packages, 2.2 KiB (apt 710 B, dnf 1.3 KiB, zypp 200 B) in ${cache}; 9.8 KiB free there`);
    const full = packageCacheCheck(cache, packages, 2_000);
    expect(full.status).toBe("warn");
    expect(full.fix).toMatch(/^bootsmith cache prune --older-than 30 --yes/);
    expect(packageCacheCheck(cache, [], 0)).toMatchObject({ status: "ok", detail: `no cached packages in ${cache}; 0 B free there` });
  });

  it("reads a cache directory that does not exist yet as empty", () => {
    expect(listCachedPackages(path.join(cache, "nothing-here"))).toEqual([]);
  });
});
