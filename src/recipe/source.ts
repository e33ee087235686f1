// Reading a YAML file while keeping where every value came from, so that any later check can
// point at a line and column.
import { readFileSync, statSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Document, type Node, type Pair } from "yaml";
import type { RecipeIssue } from "./errors.js";
import { formatPath } from "./errors.js";

/** Recipes are small; anything bigger is a mistake (or an attack) worth a clear message. */
export const MAX_RECIPE_BYTES = 1024 * 1024;
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    // prettyErrors is off (it would put a source excerpt into the message), so positions come
    // from the error's offset through the line counter.
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const base = { file, line: pos.line, column: pos.col };
        if (e.code === "DUPLICATE_KEY") {
          const dup = duplicateKeyAt(doc, e.pos[0]);
          if (dup) return { ...base, path: formatPath(dup.path), message: `duplicate key "${dup.key}"; each key may appear once in a mapping` };
        }
        return { ...base, path: "", message: `YAML syntax: ${e.message.split("\n")[0]}` };
      }),
    };
  }
  if (doc.contents === null) return fail(file, "the file is empty; a recipe needs at least name: and packages: (or from:)", 1, 1);
  return { ok: true, source: { file, text, doc, lines } };
}

function fail(file: string, message: string, line?: number, column?: number): ReadResult {
  return { ok: false, issues: [{ file, line, column, path: "", message }] };
}

/** The key (and its data path) of the pair whose key starts at `offset`. */
function duplicateKeyAt(doc: Document.Parsed, offset: number): { key: string; path: (string | number)[] } | undefined {
  let found: { key: string; path: (string | number)[] } | undefined;
  visit(doc, {
    Pair(_key, pair, ancestry) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        const key = String(pair.key.value);
        found = { key, path: [...pathOf([...ancestry, pair]).slice(0, -1), key] };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
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
    return { ok: false, issues: [{ file: source.file, path: "", message: `YAML: ${(error as Error).message} (aliases are limited to ${MAX_ALIAS_COUNT} expansions)` }] };
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
  if (node === null) node = source.doc.contents as Node | null;
  if (key !== undefined && node && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) node = pair.key;
  }
  const offset = node && "range" in node && node.range ? node.range[0] : 0;
  const pos = source.lines.linePos(offset);
  return { file: source.file, line: pos.line, column: pos.col, path: formatPath(path), message };
}
