// Reading a YAML file while keeping where every value came from, so that any later check can
// point at a line and column.
import { readFileSync, statSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Document, type Node, type Pair } from "yaml";
import type { RecipeIssue } from "./errors.js";
import { formatPath, MAX_REPORTED_ISSUES } from "./errors.js";

/**
 * Recipes are small (a few KiB); anything bigger is a mistake (or an attack) worth a clear
 * message. The bound also keeps the worst input (a file of short keys) parsed within a second.
 */
export const MAX_RECIPE_BYTES = 64 * 1024;
/** Aliases expanded when converting to plain data: stops "billion laughs" alias bombs. */
const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

export type ReadResult = { ok: true; source: YamlSource } | { ok: false; issues: RecipeIssue[] };

export function readYamlSource(file: string): ReadResult {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_RECIPE_BYTES) {
      return fail(file, `the file is ${size} bytes; recipes are limited to ${MAX_RECIPE_BYTES} bytes (move large content to files: with src:)`);
    }
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, expected a recipe file" : (error as Error).message;
    return fail(file, why);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(file, "the file is not valid UTF-8; save it as UTF-8");
  }
  // Valid UTF-8 but with NUL bytes: UTF-16 without a byte-order mark, or a binary file.
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const at = text.slice(0, nul).split("\n");
    return fail(file, "the file contains NUL bytes: a binary file, or text saved as UTF-16; save it as UTF-8", at.length, at[at.length - 1]!.length + 1);
  }
  const lines = new LineCounter();
  // uniqueKeys is off: yaml compares each key with every earlier key of its map, which takes
  // minutes on a megabyte of short keys; duplicateKeys() below does it in one pass.
  // merge: YAML 1.1 merge keys (`<<: *defaults`), which sites use to share a repository or a
  // publish entry between list items; the yaml library reads them only when asked.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    // prettyErrors is off (it would put a source excerpt into the message), so positions come
    // from the error's offset through the line counter.
    // Only the first: once the parser is lost, the errors after it are echoes of that one
    // (an unquoted ${NAME} in a flow mapping gave twenty, one per later token).
    return {
      ok: false,
      issues: doc.errors.slice(0, 1).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const base = { file, line: pos.line, column: pos.col };
        // A stack overflow inside the parser is nesting, not a syntax error the user can find.
        if (/call stack/i.test(e.message))
          return { ...base, path: "", message: `YAML: nested too deeply to read (a recipe needs a few levels; is this the right file?)` };
        // yaml's own advice here (parseAllDocuments()) is for programmers, not for the recipe's author.
        if (e.code === "MULTIPLE_DOCS")
          return { ...base, path: "", message: "a recipe is one YAML document, but a second one starts here (---): put each recipe in its own file" };
        const line = text.split("\n")[pos.line - 1] ?? "";
        // `${` opens a flow mapping to YAML inside [ ] or { }, where plain values end at { and }.
        const quote = /(^|[^"'])\$\{/.test(line) && /[[{]/.test(line) ? ` (inside [ ] or { }, quote values that use \${NAME}: "\${NAME}")` : "";
        return { ...base, path: "", message: `YAML syntax: ${e.message.split("\n")[0]}${quote}` };
      }),
    };
  }
  const duplicates = duplicateKeys(file, doc, lines);
  if (duplicates.length > 0) return { ok: false, issues: duplicates };
  if (doc.contents === null) return fail(file, "the file is empty; a recipe needs at least name: and packages: (or from:)", 1, 1);
  return { ok: true, source: { file, text, doc, lines } };
}

function fail(file: string, message: string, line?: number, column?: number): ReadResult {
  return { ok: false, issues: [{ file, line, column, path: "", message }] };
}

/** Keys that appear twice in one mapping (scalar keys compared by value, as yaml's uniqueKeys does). */
function duplicateKeys(file: string, doc: Document.Parsed, lines: LineCounter): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  let hidden = 0;
  visit(doc, {
    Map(_key, map, ancestry) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (!seen.has(value)) {
          seen.add(value);
          continue;
        }
        if (issues.length >= MAX_REPORTED_ISSUES) {
          hidden++;
          continue;
        }
        const key = String(value);
        const pos = lines.linePos(pair.key.range?.[0] ?? 0);
        issues.push({
          file,
          line: pos.line,
          column: pos.col,
          path: formatPath([...pathOf([...ancestry, map]), key]),
          message: `duplicate key "${key}"; each key may appear once in a mapping`,
        });
      }
    },
  });
  if (hidden > 0) issues.push({ file, path: "", message: `and ${hidden} more duplicate keys` });
  return issues;
}

/** The data path of a visited node, from its ancestry ending with itself (maps give keys, sequences indices). */
export function pathOf(ancestry: readonly unknown[]): (string | number)[] {
  const path: (string | number)[] = [];
  for (let i = 0; i < ancestry.length; i++) {
    const node = ancestry[i];
    if (isPair(node) && isScalar(node.key)) path.push(String(node.key.value));
    else if (node && typeof node === "object" && "items" in node && !isMap(node)) {
      const next = ancestry[i + 1];
      const items = (node as { items: unknown[] }).items;
      const idx = items.indexOf(next);
      if (idx >= 0) path.push(idx);
    }
  }
  return path;
}

/** Plain data from the document, refusing alias bombs. */
export function toPlainData(source: YamlSource): { ok: true; data: unknown } | { ok: false; issues: RecipeIssue[] } {
  try {
    return { ok: true, data: source.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const message = (error as Error).message;
    const limit = /alias count/i.test(message) ? ` (aliases are limited to ${MAX_ALIAS_COUNT} expansions)` : "";
    return { ok: false, issues: [{ file: source.file, path: "", message: `YAML: ${message}${limit}` }] };
  }
}

/**
 * An issue at `path`, positioned at the deepest node of the document that exists along it.
 * With `key` (the last segment of `path`, for unknown or invalid keys), point at that key in
 * its map rather than at the key's value.
 */
export function issueAt(source: YamlSource, path: readonly PropertyKey[], message: string, key?: string): RecipeIssue {
  const lookup = key !== undefined && path[path.length - 1] === key ? path.slice(0, -1) : path;
  let node: Node | Pair | null = null;
  for (let depth = lookup.length; depth >= 0 && node === null; depth--) {
    const found = source.doc.getIn(lookup.slice(0, depth) as (string | number)[], true);
    if (found && typeof found === "object" && "range" in found) node = found as Node;
  }
  if (node === null) node = source.doc.contents;
  if (key !== undefined && node && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) node = pair.key;
  }
  const offset = node && "range" in node && node.range ? node.range[0] : 0;
  const pos = source.lines.linePos(offset);
  return { file: source.file, line: pos.line, column: pos.col, path: formatPath(path), message };
}

/**
 * Where an entry of a recipe file is, as `FILE:LINE:COL` (the file alone when it cannot be read
 * again): a failed build step names the entry it came from, a name clash both `name:` keys. With
 * `key`, as for issueAt: the key itself rather than its value.
 */
export function locateInRecipe(file: string, at: readonly PropertyKey[], key?: string): string {
  const read = readYamlSource(file);
  if (!read.ok) return file;
  const found = issueAt(read.source, at, "", key);
  return `${file}:${found.line}:${found.column}`;
}
