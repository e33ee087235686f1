// Turn schema violations into RecipeIssues that point at the YAML and say what would be valid.
// Any zod schema works (the native recipe, and the OpenCHAMI formats read by ./compat/): the
// valid keys for did-you-mean come from that schema's own JSON Schema.
import { isScalar, parse } from "yaml";
import { z } from "zod";
import { ARGV_HINT, RecipeSchema, recipeJsonSchema, type ParsedRecipe } from "./schema.js";
import { didYouMean, MAX_REPORTED_ISSUES, type RecipeIssue } from "./errors.js";
import { issueAt, type YamlSource } from "./source.js";
import { DECIMAL } from "./number-vars.js";

type ZodIssue = z.core.$ZodIssue;
type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; additionalProperties?: unknown };

/** JSON Schemas by zod schema, computed once each (toJSONSchema walks the whole schema). */
const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: RecipeIssue[] };

export function validateSpec(source: YamlSource, data: unknown): { ok: true; spec: ParsedRecipe } | { ok: false; issues: RecipeIssue[] } {
  const result = validateAgainst(RecipeSchema, source, data, recipeJsonSchema);
  return result.ok ? { ok: true, spec: result.value } : result;
}

/**
 * Parse `data` (read from `source`) with `schema`; problems become positioned issues.
 * `jsonSchema` lists the valid keys for did-you-mean (default: generated from `schema`).
 */
export function validateAgainst<S extends z.ZodType>(
  schema: S,
  source: YamlSource,
  data: unknown,
  jsonSchema?: () => Record<string, unknown>,
): Validated<z.output<S>> {
  const result = schema.safeParse(data ?? {});
  if (result.success) return { ok: true, value: result.data };
  let root = jsonSchemas.get(schema);
  if (!root) {
    root = jsonSchema ? jsonSchema() : z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
    jsonSchemas.set(schema, root);
  }
  const { shown, hidden } = capIssues(result.error.issues, MAX_REPORTED_ISSUES);
  const issues = dedupe(shown.flatMap((issue) => toRecipeIssues(source, issue, data, [], root)));
  if (hidden > 0) issues.push({ file: source.file, path: "", message: `and ${hidden} more problems like these (is this the right file?)` });
  return { ok: false, issues };
}

/** The first `max` problems (an unknown-keys issue counts once per key), and how many were left out. */
function capIssues(issues: readonly ZodIssue[], max: number): { shown: ZodIssue[]; hidden: number } {
  const shown: ZodIssue[] = [];
  let count = 0;
  let hidden = 0;
  for (const issue of issues) {
    const size = issue.code === "unrecognized_keys" ? issue.keys.length : 1;
    const room = max - count;
    if (room <= 0) hidden += size;
    else if (issue.code === "unrecognized_keys" && size > room) {
      shown.push({ ...issue, keys: issue.keys.slice(0, room) });
      hidden += size - room;
      count = max;
    } else {
      shown.push(issue);
      count += size;
    }
  }
  return { shown, hidden };
}

/**
 * A repository has keys for a few .repo settings; real ones also carry exclude=, module_hotfixes=,
 * sslverify=, includepkgs= … (and apt's Signed-By, Architectures), which go in its content:.
 */
const REPO_CONTENT_HINT = "; for other settings of the repository file (exclude=, module_hotfixes=, sslverify= …) write the whole file in content:";

function isRepoEntry(path: readonly PropertyKey[]): boolean {
  return path.length === 3 && path[0] === "packages" && path[1] === "repos" && typeof path[2] === "number";
}

function toRecipeIssues(source: YamlSource, issue: ZodIssue, data: unknown, prefix: PropertyKey[], root: JsonSchema): RecipeIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeysAt(root, path, data);
        const guess = didYouMean(key, known);
        const hint = guess ? `did you mean "${guess}"?` : `valid keys: ${known.join(", ")}${isRepoEntry(path) ? REPO_CONTENT_HINT : ""}`;
        return issueAt(source, [...path, key], `unknown key "${key}"; ${hint}`, key);
      });
    case "invalid_union": {
      // Report the branch the user most likely meant: the one whose problems lie deepest.
      const branch = bestBranch(issue.errors);
      if (branch) return branch.flatMap((inner) => toRecipeIssues(source, inner, data, path, root));
      return [issueAt(source, path, issue.message)];
    }
    case "invalid_value": {
      const value = valueAt(data, path);
      const options = issue.values.map((v) => JSON.stringify(v));
      const guess = typeof value === "string" && issue.values.length > 1 ? didYouMean(value, issue.values.map(String)) : undefined;
      const base = issue.message.startsWith("Invalid") ? `must be one of ${options.join(", ")}` : issue.message;
      return [issueAt(source, path, guess ? `${base}; did you mean "${guess}"?` : base)];
    }
    case "invalid_type": {
      const value = valueAt(data, path);
      const message =
        value === undefined
          ? `is required (${issue.expected})`
          : `must be ${article(issue.expected)}, not ${describe(value)}${quoteHint(source, path, issue.expected, value)}`;
      return [issueAt(source, path, message)];
    }
    case "invalid_key": {
      // A record key that fails its pattern (env names, variable names): point at the key.
      const key = String(path[path.length - 1]);
      const why = issue.issues.map((inner) => inner.message).join("; ");
      return [issueAt(source, path, `key "${key}" ${why}`, key)];
    }
    case "too_small":
    case "too_big": {
      // zod's defaults ("Too small: expected array to have >=1 items") read like a stack trace;
      // custom messages from the schema are kept.
      if (!/^Too (small|big)/.test(issue.message)) return [issueAt(source, path, issue.message)];
      return [issueAt(source, path, sizeMessage(issue))];
    }
    default:
      return [issueAt(source, path, issue.message)];
  }
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const bound = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case "array":
    case "set":
      if (small && bound === 1) return "must not be empty";
      return small ? `must have at least ${bound} items` : `must have at most ${bound} items`;
    case "string":
      if (small && bound === 1) return "must not be empty";
      return small ? `must be at least ${bound} characters long` : `must be at most ${bound} characters long`;
    default:
      if (small) return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
  }
}

function bestBranch(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] | undefined {
  const rootMismatch = (issues: readonly ZodIssue[]) =>
    issues.some((i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value" || i.code === "unrecognized_keys"));
  const candidates = branches.filter((b) => !rootMismatch(b));
  if (candidates.length === 0) return undefined;
  return candidates.reduce((a, b) => (b.length < a.length ? b : a));
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/**
 * YAML turns unquoted 0755 into the number 755, 9.10 into 9.1 and yes into true: where a string
 * was expected, show what was written and how to quote it.
 */
function quoteHint(source: YamlSource, path: readonly PropertyKey[], expected: string, value: unknown): string {
  // uid: "992" (templating tools quote every value): the number is there, only the quotes are wrong.
  if (expected === "number" && typeof value === "string" && DECIMAL.test(value.trim())) return `; the quotes make it a string: write ${value.trim()}`;
  // run: systemctl enable munge (a shell line where an argv list goes).
  if (expected === "array" && typeof value === "string" && path[path.length - 1] === "run") return `; ${ARGV_HINT}`;
  if (expected !== "string" || (typeof value !== "number" && typeof value !== "boolean")) return "";
  const node = source.doc.getIn(path as (string | number)[], true);
  if (!isScalar(node) || !node.range) return "";
  const written = source.text.slice(node.range[0], node.range[1]);
  // A converted OpenCHAMI config positions nodes at the nearest foreign node: only a scalar whose
  // text reads back as this value is the one written.
  if (readsAs(written) !== value) return "";
  // mode: 0o755 (YAML 1.2's octal) quoted would still not be a mode: the digits are.
  const quoted = path[path.length - 1] === "mode" && /^0o[0-7]+$/.test(written) ? `0${written.slice(2)}` : written;
  return `; YAML reads ${written} unquoted as a ${typeof value}: write "${quoted}"`;
}

function readsAs(text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" && !Number.isFinite(value)) return `a number too large to use (${String(value)})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(expected: string): string {
  const named: Record<string, string> = {
    array: "a list",
    object: "a mapping",
    record: "a mapping",
    string: "a string",
    number: "a number",
    boolean: "true or false",
  };
  return named[expected] ?? expected;
}

/** Keys the schema allows at `path`, found by walking the generated JSON Schema. */
function knownKeysAt(root: JsonSchema, path: readonly PropertyKey[], data: unknown): string[] {
  let nodes: JsonSchema[] = [root];
  for (const seg of path) {
    nodes = nodes.flatMap(expand).flatMap((n) => {
      const next = typeof seg === "number" ? n.items : n.properties?.[String(seg)];
      return next ? [next] : [];
    });
  }
  const candidates = nodes.flatMap(expand).filter((n) => n.properties);
  // For discriminated unions (publish/register), prefer the branch whose `type` matches.
  const type = (valueAt(data, path) as { type?: unknown } | undefined)?.type;
  const matching = candidates.filter((n) => (n.properties?.type as { const?: unknown } | undefined)?.const === type);
  const chosen = matching.length > 0 ? matching : candidates;
  return [...new Set(chosen.flatMap((n) => Object.keys(n.properties ?? {})))].filter((k) => k !== "$schema");
}

function expand(node: JsonSchema): JsonSchema[] {
  const alternatives = [...(node.anyOf ?? []), ...(node.oneOf ?? [])];
  return alternatives.length > 0 ? alternatives.flatMap(expand) : [node];
}

function dedupe(issues: RecipeIssue[]): RecipeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
