// Reading OpenCHAMI image-builder and image-thrillhouse configs as bootsmith recipes. A foreign
// file is validated against its own strict schema, converted to a native recipe, and handed to
// the native loader as a YAML source whose every node carries the position of the foreign value
// it came from: later native checks (schema, files, semantics) still point at the original
// file's line, and their paths are renamed back to the original keys.
import { isMap, isPair, isScalar, parseDocument, stringify, visit, type Document, type Node } from "yaml";
import { RecipeError, formatPath, type RecipeIssue } from "../errors.js";
import type { RecipeInput } from "../schema.js";
import { issueAt, pathOf, toPlainData, type YamlSource } from "../source.js";
import { validateAgainst } from "../validate.js";
import { Conversion, type DataPath, type PathNote } from "./common.js";
import { detectFormat, type ForeignFormat } from "./detect.js";
import { convertImageBuilder, ImageBuilderSchema } from "./image-builder.js";
import { convertThrillhouse, ThrillhouseSchema } from "./thrillhouse.js";

export { detectFormat, FOREIGN_FORMATS, type ForeignFormat, type RecipeFormat } from "./detect.js";
export { ADD_PACKAGE_MANAGER, type PathNote } from "./common.js";

export interface ForeignRecipe {
  readonly format: ForeignFormat;
  /** The native recipe, before the native schema's defaults. */
  readonly recipe: RecipeInput;
  /** The native recipe as a YAML source positioned on the original file. */
  readonly source: YamlSource;
  /** What changed in meaning, by original path. */
  readonly notes: readonly PathNote[];
  /** Issues from the native checks, renamed to the original file's paths. */
  explain(error: unknown): unknown;
  /** A warning from the native checks, renamed the same way. */
  readonly rename: (issue: RecipeIssue) => RecipeIssue;
}

/**
 * undefined for a native recipe; the converted recipe for a foreign one. Throws RecipeError
 * (positioned on the original file) when the foreign file is invalid or uses what bootsmith
 * cannot do.
 */
export interface CompatOptions {
  /** packages.release for an image-builder config from scratch whose repository URLs name none. */
  readonly release?: string;
}

export function convertForeign(source: YamlSource, options: CompatOptions = {}): ForeignRecipe | undefined {
  const data = toPlainData(source);
  if (!data.ok) throw new RecipeError(data.issues);
  const { format } = detectFormat(data.data);
  if (format === "bootsmith") return undefined;

  const conv = new Conversion();
  let recipe: RecipeInput;
  if (format === "image-builder") {
    const parsed = validateAgainst(ImageBuilderSchema, source, data.data);
    if (!parsed.ok) throw new RecipeError(parsed.issues);
    recipe = convertImageBuilder(parsed.value, conv, options.release);
  } else {
    const parsed = validateAgainst(ThrillhouseSchema, source, data.data);
    if (!parsed.ok) throw new RecipeError(parsed.issues);
    recipe = convertThrillhouse(parsed.value, conv);
  }
  if (conv.problems.length > 0) {
    throw new RecipeError(conv.problems.map((p) => issueAt(source, p.path, p.message)));
  }

  const native = positionedSource(source, recipe, conv);
  return {
    format,
    recipe,
    source: native,
    notes: conv.notes,
    explain(error) {
      if (!(error instanceof RecipeError)) return error;
      return new RecipeError(error.issues.map((i) => (i.file === source.file ? renamed(i, conv) : i)));
    },
    rename: (issue) => (issue.file === source.file ? renamed(issue, conv) : issue),
  };
}

function lastKey(path: DataPath): string | undefined {
  const last = path[path.length - 1];
  return typeof last === "string" ? last : undefined;
}

/** An issue found in the converted recipe, named by the original key it came from, its fix in the original's keys. */
function renamed(issue: RecipeIssue, conv: Conversion): RecipeIssue {
  const original = formatPath(conv.foreignPathOf(issue.path));
  let message = issue.message;
  for (const [native, foreign] of conv.spellings) message = message.replaceAll(native, foreign);
  if (original === issue.path) return { ...issue, message };
  return { ...issue, path: original, message: issue.path ? `${message} (bootsmith recipe: ${issue.path})` : message };
}

/**
 * The native recipe as a parsed YAML document whose nodes carry the ranges of the foreign
 * nodes they came from, read through the foreign file's line counter.
 */
function positionedSource(foreign: YamlSource, recipe: RecipeInput, conv: Conversion): YamlSource {
  const doc = parseDocument(stringify(recipe), { uniqueKeys: true });
  visit(doc, {
    Pair(_key, pair, ancestry) {
      if (!isScalar(pair.key)) return;
      const at = conv.foreignPathOf(formatPath(pathOf([...ancestry, pair])));
      pair.key.range = keyRange(foreign.doc, at) ?? valueRange(foreign.doc, at);
    },
    Node(_key, node, ancestry) {
      const parent = ancestry[ancestry.length - 1];
      if (isPair(parent) && parent.key === node) return; // positioned with its pair
      const at = conv.foreignPathOf(formatPath(pathOf([...ancestry, node])));
      node.range = valueRange(foreign.doc, at);
    },
  });
  return { file: foreign.file, text: foreign.text, doc, lines: foreign.lines };
}

type Range = [number, number, number];

/** The range of the deepest node that exists along `path` in the foreign document. */
function valueRange(doc: Document.Parsed, path: DataPath): Range {
  for (let depth = path.length; depth >= 0; depth--) {
    const found: unknown = doc.getIn(path.slice(0, depth), true);
    if (isNodeWithRange(found)) return found.range;
  }
  const root = doc.contents;
  return root && root.range ? root.range : [0, 0, 0];
}

/** The range of the key naming `path`'s last segment, when it is a key in a map. */
function keyRange(doc: Document.Parsed, path: DataPath): Range | undefined {
  const key = lastKey(path);
  if (key === undefined) return undefined;
  const parent: unknown = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair && isScalar(pair.key) && pair.key.range ? pair.key.range : undefined;
}

function isNodeWithRange(value: unknown): value is Node & { range: Range } {
  return value !== null && typeof value === "object" && "range" in value && Array.isArray((value as { range?: unknown }).range);
}
