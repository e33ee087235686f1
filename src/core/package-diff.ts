// Two package lists compared by name and arch: what `bootsmith diff`, the nightly refresh's
// changelog and `build --locked` all report. A multi-version package such as the kernel is
// compared as a set of versions.
import type { PackageRecord } from "./manifest.js";

export interface PackageChange {
  readonly name: string;
  readonly arch: string;
  readonly from?: string;
  readonly to?: string;
}

export interface PackageDiff {
  readonly added: readonly PackageChange[];
  readonly removed: readonly PackageChange[];
  /** Version changed (up or down: the manifest does not order versions, so neither do we). */
  readonly changed: readonly PackageChange[];
}

/** `[epoch:]version[-release]`, as rpm and dpkg print it (epoch 0 omitted). */
export function versionOf(p: PackageRecord): string {
  return `${p.epoch && p.epoch !== "0" ? `${p.epoch}:` : ""}${p.version}${p.release ? `-${p.release}` : ""}`;
}

export function diffPackages(before: readonly PackageRecord[], after: readonly PackageRecord[]): PackageDiff {
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

export function isEmpty(diff: PackageDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length === 0;
}

/** "packages: 2 changed, 1 added" or "no package changed". */
export function packageDiffSummary(diff: PackageDiff): string {
  const parts = [
    diff.changed.length > 0 ? `${diff.changed.length} changed` : "",
    diff.added.length > 0 ? `${diff.added.length} added` : "",
    diff.removed.length > 0 ? `${diff.removed.length} removed` : "",
  ].filter(Boolean);
  return parts.length > 0 ? `packages: ${parts.join(", ")}` : "no package changed";
}

/** One line per change: `name.arch old → new`, `name.arch new`, `name.arch old`. */
export function packageChangeLine(c: PackageChange): string {
  if (c.from !== undefined && c.to !== undefined) return `${c.name}.${c.arch} ${c.from} → ${c.to}`;
  return `${c.name}.${c.arch} ${c.to ?? c.from ?? ""}`;
}

/** Markdown sections (`## Changed` / `## Added` / `## Removed`, at `level`), empty ones left out. */
export function packageDiffMarkdown(diff: PackageDiff, level = "##"): string[] {
  const lines: string[] = [];
  const section = (title: string, items: readonly PackageChange[]) => {
    if (items.length === 0) return;
    lines.push(`${level} ${title}`, "", ...items.map((c) => `- ${packageChangeLine(c)}`), "");
  };
  section("Changed", diff.changed);
  section("Added", diff.added);
  section("Removed", diff.removed);
  return lines;
}
