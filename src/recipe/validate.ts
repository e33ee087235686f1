// Turn schema violations into RecipeIssues that point at the YAML and say what would be valid.
import type { z } from "zod";
import { RecipeSchema, recipeJsonSchema, type RecipeSpec } from "./schema.js";
import { didYouMean, type RecipeIssue } from "./errors.js";
import { issueAt, type YamlSource } from "./source.js";

type ZodIssue = z.core.$ZodIssue;
type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; additionalProperties?: unknown };

let jsonSchema: JsonSchema | undefined;

export function validateSpec(source: YamlSource, data: unknown): { ok: true; spec: RecipeSpec } | { ok: false; issues: RecipeIssue[] } {
  const result = RecipeSchema.safeParse(data ?? {});
  if (result.success) return { ok: true, spec: result.data };
  const issues = result.error.issues.flatMap((issue) => toRecipeIssues(source, issue, data, []));
  return { ok: false, issues: dedupe(issues) };
}

function toRecipeIssues(source: YamlSource, issue: ZodIssue, data: unknown, prefix: PropertyKey[]): RecipeIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeysAt(path, data);
        const guess = didYouMean(key, known);
        const hint = guess ? `did you mean "${guess}"?` : `valid keys: ${known.join(", ")}`;
        return issueAt(source, [...path, key], `unknown key "${key}"; ${hint}`, key);
      });
    case "invalid_union": {
      // Report the branch the user most likely meant: the one whose problems lie deepest.
      const branch = bestBranch(issue.errors);
      if (branch) return branch.flatMap((inner) => toRecipeIssues(source, inner, data, path));
      return [issueAt(source, path, issue.message)];
    }
    case "invalid_value": {
      const value = valueAt(data, path);
      const options = issue.values.map((v) => JSON.stringify(v));
      const guess = typeof value === "string" ? didYouMean(value, issue.values.map(String)) : undefined;
      const base = issue.message.startsWith("Invalid") ? `must be one of ${options.join(", ")}` : issue.message;
      return [issueAt(source, path, guess ? `${base}; did you mean "${guess}"?` : base)];
    }
    case "invalid_type": {
      const value = valueAt(data, path);
      const message = value === undefined ? `is required (${issue.expected})` : `must be ${article(issue.expected)}, not ${describe(value)}`;
      return [issueAt(source, path, message)];
    }
    default:
      return [issueAt(source, path, issue.message)];
  }
}

function bestBranch(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] | undefined {
  const rootMismatch = (issues: readonly ZodIssue[]) => issues.some((i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value" || i.code === "unrecognized_keys"));
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

function describe(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(expected: string): string {
  const named: Record<string, string> = { array: "a list", object: "a mapping", string: "a string", number: "a number", boolean: "true or false" };
  return named[expected] ?? expected;
}

/** Keys the schema allows at `path`, found by walking the generated JSON Schema. */
function knownKeysAt(path: readonly PropertyKey[], data: unknown): string[] {
  jsonSchema ??= recipeJsonSchema() as JsonSchema;
  let nodes: JsonSchema[] = [jsonSchema];
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
