// The nightly refresh's question: did the rebuild change any package? Compares two manifests'
// package lists by name and arch (a multi-version package such as the kernel is compared as a
// set of versions) and writes the answer as changelog.md / changelog.json next to the manifest.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Manifest, PackageRecord } from "../core/manifest.js";

export interface PackageChange {
  readonly name: string;
  readonly arch: string;
  readonly from?: string;
  readonly to?: string;
}

export interface Changelog {
  readonly added: readonly PackageChange[];
  readonly removed: readonly PackageChange[];
  /** Version changed (up or down: the manifest does not order versions, so neither do we). */
  readonly changed: readonly PackageChange[];
}

export function versionOf(p: PackageRecord): string {
  return `${p.epoch && p.epoch !== "0" ? `${p.epoch}:` : ""}${p.version}${p.release ? `-${p.release}` : ""}`;
}

export function diffPackages(before: readonly PackageRecord[], after: readonly PackageRecord[]): Changelog {
  const group = (list: readonly PackageRecord[]) => {
    const map = new Map<string, string[]>();
    for (const p of list) map.set(`${p.name}\0${p.arch}`, [...(map.get(`${p.name}\0${p.arch}`) ?? []), versionOf(p)].sort());
    return map;
  };
  const old = group(before);
  const now = group(after);
  const added: PackageChange[] = [];
  const removed: PackageChange[] = [];
  const changed: PackageChange[] = [];
  for (const key of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const [name, arch] = key.split("\0") as [string, string];
    const a = old.get(key);
    const b = now.get(key);
    if (!a) added.push({ name, arch, to: b!.join(", ") });
    else if (!b) removed.push({ name, arch, from: a.join(", ") });
    else if (a.join(",") !== b.join(",")) changed.push({ name, arch, from: a.join(", "), to: b.join(", ") });
  }
  return { added, removed, changed };
}

export function isEmpty(log: Changelog): boolean {
  return log.added.length + log.removed.length + log.changed.length === 0;
}

/** "2 changed, 1 added" or "no package changed". */
export function changelogSummary(log: Changelog): string {
  const parts = [
    log.changed.length > 0 ? `${log.changed.length} changed` : "",
    log.added.length > 0 ? `${log.added.length} added` : "",
    log.removed.length > 0 ? `${log.removed.length} removed` : "",
  ].filter(Boolean);
  return parts.length > 0 ? `packages: ${parts.join(", ")}` : "no package changed";
}

export function changelogMarkdown(name: string, before: Pick<Manifest, "builtAt"> | undefined, after: Pick<Manifest, "builtAt">, log: Changelog): string {
  const lines = [`# ${name}: packages ${before ? `${before.builtAt} → ${after.builtAt}` : `first build ${after.builtAt}`}`, ""];
  const section = (title: string, items: readonly PackageChange[], fmt: (c: PackageChange) => string) => {
    if (items.length === 0) return;
    lines.push(`## ${title}`, "", ...items.map((c) => `- ${c.name}.${c.arch} ${fmt(c)}`), "");
  };
  section("Changed", log.changed, (c) => `${c.from} → ${c.to}`);
  section("Added", log.added, (c) => `${c.to}`);
  section("Removed", log.removed, (c) => `${c.from}`);
  if (isEmpty(log)) lines.push("No package changed.", "");
  return lines.join("\n");
}

/** Write changelog.md and changelog.json into the output directory. */
export function writeChangelog(outDir: string, before: Manifest | undefined, after: Manifest, log: Changelog): void {
  writeFileSync(path.join(outDir, "changelog.md"), changelogMarkdown(after.name, before, after, log));
  writeFileSync(path.join(outDir, "changelog.json"), `${JSON.stringify({ name: after.name, from: before?.builtAt ?? null, to: after.builtAt, ...log }, null, 2)}\n`);
}
