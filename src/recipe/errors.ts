// Recipe errors name the file, the line and column, the path inside the recipe and what would
// be valid. All problems of one file are collected and reported together.
import { UserError } from "../core/errors.js";

export interface RecipeIssue {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted path with indices, e.g. packages.repos[2].baseurl; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export function formatIssue(issue: RecipeIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Warnings (problems that may still build) as lines for stderr; empty when there are none. */
export function formatWarnings(warnings: readonly RecipeIssue[]): string {
  return warnings.map((w) => `warning: ${formatIssue(w)}\n`).join("");
}

/** Past this many problems a file is the wrong file (or an attack) rather than a recipe with mistakes: the rest are counted, not listed. */
export const MAX_REPORTED_ISSUES = 50;

export class RecipeError extends UserError {
  constructor(readonly issues: readonly RecipeIssue[]) {
    const noun = issues.length === 1 ? "problem" : "problems";
    const shown = issues.slice(0, MAX_REPORTED_ISSUES + 1).map(formatIssue);
    if (issues.length > MAX_REPORTED_ISSUES + 1) shown.splice(MAX_REPORTED_ISSUES, 1, `${issues[0]!.file}: and ${issues.length - MAX_REPORTED_ISSUES} more`);
    super(`${shown.join("\n")}\n${issues.length} ${noun} found; nothing was built.`);
    this.name = "RecipeError";
  }
}

/** Edit distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest candidate, when it is close enough to be what the user meant. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}
