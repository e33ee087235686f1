// What would change, per node selector, in a form a reviewer reads in a dry run: whole URLs for
// kernel/initrd, and a word-level diff of the kernel command line (params are long; a changed
// rootfs URL should not hide in a 300-character line).
import { joinParams, splitParams } from "../core/params.js";
import type { BootEntry } from "./bss.js";

export interface EntryChange {
  /** "mac 52:54:00:12:34:56", "host x1000c0s0b0n0", "nid 7", "bootconfiguration compute". */
  readonly label: string;
  readonly before: BootEntry | undefined;
  readonly after: BootEntry | undefined;
  /** Changes beyond kernel/initrd/params (boot-service targeting, priority), already rendered. */
  readonly otherChanges?: readonly string[];
}

export function isChange(c: EntryChange): boolean {
  return !sameEntry(c.before, c.after) || (c.otherChanges?.length ?? 0) > 0;
}

export function sameEntry(a: BootEntry | undefined, b: BootEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (a.kernel ?? "") === (b.kernel ?? "") && (a.initrd ?? "") === (b.initrd ?? "") && joinParams(a.params) === joinParams(b.params);
}

/** Words removed from and added to a command line (order-preserving, multiset semantics). */
export function paramsDiff(before: string | undefined, after: string | undefined): { removed: string[]; added: string[] } {
  const a = splitParams(before);
  const b = splitParams(after);
  const remaining = [...b];
  const removed: string[] = [];
  for (const w of a) {
    const i = remaining.indexOf(w);
    if (i >= 0) remaining.splice(i, 1);
    else removed.push(w);
  }
  const left = [...a];
  const added: string[] = [];
  for (const w of b) {
    const i = left.indexOf(w);
    if (i >= 0) left.splice(i, 1);
    else added.push(w);
  }
  return { removed, added };
}

/**
 * Human-readable diff of a set of changes; "no changes" when everything already matches. The
 * summary says "would change" for a dry run and "changing" for a real run (printed just before
 * the write, which "registered …" / "rolled back …" then confirms).
 */
export function renderDiff(changes: readonly EntryChange[], run: "dry-run" | "real"): string {
  const lines: string[] = [];
  for (const c of changes) {
    if (!isChange(c)) {
      lines.push(`  ${c.label}: unchanged`);
      continue;
    }
    if (c.before === undefined) lines.push(`+ ${c.label}: new entry`);
    else if (c.after === undefined) lines.push(`- ${c.label}: entry removed`);
    else lines.push(`~ ${c.label}:`);
    for (const field of ["kernel", "initrd"] as const) {
      const x = c.before?.[field];
      const y = c.after?.[field];
      if ((x ?? "") === (y ?? "")) continue;
      if (x !== undefined) lines.push(`    - ${field}: ${x}`);
      if (y !== undefined) lines.push(`    + ${field}: ${y}`);
    }
    if (joinParams(c.before?.params) !== joinParams(c.after?.params)) {
      const { removed, added } = paramsDiff(c.before?.params, c.after?.params);
      if (removed.length === 0 && added.length === 0) {
        // Order matters to the kernel (the last console= is /dev/console): show both lines whole.
        lines.push("    params (same words, new order):");
        lines.push(`      - ${joinParams(c.before?.params)}`, `      + ${joinParams(c.after?.params)}`);
      } else {
        lines.push("    params:");
        for (const w of removed) lines.push(`      - ${w}`);
        for (const w of added) lines.push(`      + ${w}`);
      }
    }
    for (const other of c.otherChanges ?? []) lines.push(`    ${other}`);
  }
  const changed = changes.filter(isChange).length;
  const entries = `${changed} of ${changes.length} entr${changes.length === 1 ? "y" : "ies"}`;
  lines.push(changed === 0 ? "no changes" : run === "dry-run" ? `${entries} would change` : `changing ${entries}`);
  return lines.join("\n");
}
