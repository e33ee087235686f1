// `bootsmith diff` output: readable text (default), Markdown for a merge-request comment, JSON
// for scripts. All three render the same ImageDiff.
import { formatBytes } from "../core/format.js";
import type { Change, FileChange, FileDiff, ImageDiff } from "./image-diff.js";
import { isEmpty as isEmptyPackages, packageChangeLine, packageDiffSummary } from "../core/package-diff.js";

export type DiffFormat = "text" | "json" | "markdown";

export function renderDiff(diff: ImageDiff, format: DiffFormat): string {
  switch (format) {
    case "text":
      return renderText(diff);
    case "markdown":
      return renderMarkdown(diff);
    case "json":
      return `${JSON.stringify(diff, null, 2)}\n`;
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

/** True when nothing the diff looks at differs (the artifacts' bytes included). */
export function isIdentical(diff: ImageDiff): boolean {
  return (
    diff.notCompared === undefined &&
    diff.kernel === undefined &&
    diff.params === undefined &&
    diff.artifacts.every((a) => a.sameBytes) &&
    diff.packages !== undefined &&
    isEmptyPackages(diff.packages) &&
    fileDiffEmpty(diff.rootfs) &&
    fileDiffEmpty(diff.initramfs) &&
    (diff.dracutModules === undefined || diff.dracutModules.added.length + diff.dracutModules.removed.length === 0)
  );
}

/** A registry image carries no squashfs: its files are still compared, from the layers. */
const notComparedText = (n: NonNullable<ImageDiff["notCompared"]>[number]) =>
  `not compared: ${n.missingIn} does not carry it (files compared from the image's layers)`;

const recordsNoList = (diff: ImageDiff) =>
  `record${(diff.packagesNotRecordedIn ?? []).length === 1 ? "s" : ""} no package list: built by an older bootsmith, or edited`;
const packagesNotRecorded = (diff: ImageDiff) => `${(diff.packagesNotRecordedIn ?? []).join(" and ")} ${recordsNoList(diff)}`;

const fileDiffEmpty = (d: FileDiff | undefined) => d === undefined || d.added.length + d.removed.length + d.changed.length === 0;

/**
 * What the build inside a side was: NAME:TAG as built. A promoted tag's directory (prod) holds the
 * build of another tag, so each side is headed by what the user named and this follows it.
 */
// An older bootsmith's or a hand-written manifest may have no builtAt.
const builtAs = (s: ImageDiff["from"]) =>
  `built as ${s.name}:${s.tags[0] ?? "?"}${typeof s.builtAt === "string" ? ` at ${s.builtAt}` : ", build time not recorded"}`;
const show = (v: string | null) => (v === null ? "(none)" : v);

function sizeLine(from: number | null, to: number | null): string {
  if (from === null) return `(none) → ${formatBytes(to!)}`;
  if (to === null) return `${formatBytes(from)} → (none)`;
  const delta = to - from;
  return `${formatBytes(from)} → ${formatBytes(to)} (${delta >= 0 ? "+" : "-"}${formatBytes(Math.abs(delta))})`;
}

/** `size 19 → 25, mode 0644 → 0600, owner 0:0 → 1:1, link a → b` */
export function describeFileChange(c: FileChange): string {
  const parts: string[] = [];
  const part = <T>(label: string, ch: Change<T> | undefined) => {
    if (ch) parts.push(`${label} ${String(ch.from)} → ${String(ch.to)}`);
  };
  part("type", c.type);
  part("size", c.size);
  part("mode", c.mode);
  part("owner", c.owner);
  part("link", c.target);
  return parts.join(", ");
}

function fileSummary(d: FileDiff): string {
  const parts = [
    d.added.length ? `${d.added.length} added` : "",
    d.removed.length ? `${d.removed.length} removed` : "",
    d.changed.length ? `${d.changed.length} changed` : "",
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(", ") : "no change";
}

function fileLines(d: FileDiff, indent: string): string[] {
  return [
    ...d.added.map((p) => `${indent}+ ${p}`),
    ...d.removed.map((p) => `${indent}- ${p}`),
    ...d.changed.map((c) => `${indent}~ ${c.path}  ${describeFileChange(c)}`),
  ];
}

function renderText(diff: ImageDiff): string {
  const lines = [`${diff.from.label} (${builtAs(diff.from)})`, `  → ${diff.to.label} (${builtAs(diff.to)})`, ""];
  if (isIdentical(diff)) return `${lines.join("\n")}identical: same artifacts (sha256), packages, kernel and params\n`;
  lines.push(`kernel: ${diff.kernel ? `${show(diff.kernel.from)} → ${show(diff.kernel.to)}` : "unchanged"}`);
  lines.push(diff.params ? `params: ${show(diff.params.from)}\n     → ${show(diff.params.to)}` : "params: unchanged");
  lines.push("artifacts:");
  for (const a of diff.artifacts) lines.push(`  ${a.file.padEnd(16)} ${a.sameBytes ? `${formatBytes(a.to!)} (same bytes)` : sizeLine(a.from, a.to)}`);
  for (const n of diff.notCompared ?? []) lines.push(`  ${n.file.padEnd(16)} ${notComparedText(n)}`);
  if (diff.packages) {
    lines.push(packageDiffSummary(diff.packages).replace(/^no package changed$/, "packages: no change"));
    for (const c of diff.packages.changed) lines.push(`  ~ ${packageChangeLine(c)}`);
    for (const c of diff.packages.added) lines.push(`  + ${packageChangeLine(c)}`);
    for (const c of diff.packages.removed) lines.push(`  - ${packageChangeLine(c)}`);
  } else lines.push(`packages: not compared (${packagesNotRecorded(diff)})`);
  if (diff.rootfs) lines.push(`rootfs files: ${fileSummary(diff.rootfs)}`, ...fileLines(diff.rootfs, "  "));
  if (diff.initramfs) lines.push(`initramfs files: ${fileSummary(diff.initramfs)}`, ...fileLines(diff.initramfs, "  "));
  if (diff.dracutModules) {
    const m = diff.dracutModules;
    lines.push(
      `dracut modules: ${m.added.length + m.removed.length === 0 ? "no change" : [...m.added.map((x) => `+${x}`), ...m.removed.map((x) => `-${x}`)].join(" ")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Long lists fold into <details> so a merge-request comment stays readable. */
const FOLD_OVER = 15;

function renderMarkdown(diff: ImageDiff): string {
  const lines = [`### Image diff: \`${diff.from.label}\` → \`${diff.to.label}\``, "", `Before: ${builtAs(diff.from)}; after: ${builtAs(diff.to)}.`, ""];
  if (isIdentical(diff)) return `${lines.join("\n")}Identical: same artifacts (sha256), packages, kernel and params.\n`;
  lines.push("| | before | after |", "|---|---|---|");
  lines.push(`| kernel | ${diff.kernel ? `${show(diff.kernel.from)} | **${show(diff.kernel.to)}**` : "unchanged | unchanged"} |`);
  for (const a of diff.artifacts)
    lines.push(
      `| \`${a.file}\` | ${a.from === null ? "—" : formatBytes(a.from)} | ${a.to === null ? "—" : formatBytes(a.to)}${a.sameBytes ? " (same bytes)" : ""} |`,
    );
  for (const n of diff.notCompared ?? []) lines.push(`| \`${n.file}\` | ${notComparedText(n)} | |`);
  lines.push("");
  if (diff.params) lines.push("**params**", "", "```diff", `- ${show(diff.params.from)}`, `+ ${show(diff.params.to)}`, "```", "");
  const list = (title: string, items: readonly string[]) => {
    if (items.length === 0) return;
    const body = items.map((i) => `- ${i}`);
    if (items.length > FOLD_OVER) lines.push(`<details><summary>${title} (${items.length})</summary>`, "", ...body, "", "</details>", "");
    else lines.push(`**${title}**`, "", ...body, "");
  };
  const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
  const packages = diff.packages;
  if (packages) {
    list(
      "Packages changed",
      packages.changed.map((c) => `${code(`${c.name}.${c.arch}`)} ${c.from} → ${c.to}`),
    );
    list(
      "Packages added",
      packages.added.map((c) => `${code(`${c.name}.${c.arch}`)} ${c.to}`),
    );
    list(
      "Packages removed",
      packages.removed.map((c) => `${code(`${c.name}.${c.arch}`)} ${c.from}`),
    );
    if (isEmptyPackages(packages)) lines.push("No package changed.", "");
  } else lines.push(`Packages not compared: ${(diff.packagesNotRecordedIn ?? []).map(code).join(" and ")} ${recordsNoList(diff)}.`, "");
  const files = (what: string, d: FileDiff | undefined) => {
    if (!d) return;
    list(`${what} files added`, d.added.map(code));
    list(`${what} files removed`, d.removed.map(code));
    list(
      `${what} files changed`,
      d.changed.map((c) => `${code(c.path)} ${describeFileChange(c)}`),
    );
  };
  files("Rootfs", diff.rootfs);
  files("Initramfs", diff.initramfs);
  if (diff.dracutModules && diff.dracutModules.added.length + diff.dracutModules.removed.length > 0) {
    lines.push(
      `**dracut modules**: ${[...diff.dracutModules.added.map((x) => `+${code(x)}`), ...diff.dracutModules.removed.map((x) => `−${code(x)}`)].join(" ")}`,
      "",
    );
  }
  return `${lines.join("\n")}`;
}
