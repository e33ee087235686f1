// ${NAME} substitution. Values come from the recipe's `vars:`, then `--var NAME=VALUE` on the
// command line (which wins), then environment variables the recipe names in `importEnv:` —
// never the whole environment, so a build cannot silently depend on a stray variable.
// `$${NAME}` stands for a literal `${NAME}` (for shell scripts that use braces).
import { isMap, isPair, isScalar, visit } from "yaml";
import { formatPath, type RecipeIssue } from "./errors.js";
import { issueAt, pathOf, type YamlSource } from "./source.js";

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Keys whose values are not substituted: they define (or name) the variables (a vars: value's own references: expandVarReferences). */
const DEFINING_KEYS = new Set(["vars", "importEnv", "secrets"]);

export interface VarSources {
  readonly cli: Readonly<Record<string, string>>;
  readonly env: NodeJS.ProcessEnv;
}

/** Collect the variables visible to one recipe. */
export function resolveVars(data: unknown, sources: VarSources): Map<string, string> {
  const vars = new Map<string, string>();
  const record = (data ?? {}) as Record<string, unknown>;
  for (const name of Array.isArray(record.importEnv) ? record.importEnv : []) {
    const value = typeof name === "string" ? sources.env[name] : undefined;
    if (typeof name === "string" && value !== undefined) vars.set(name, value);
  }
  if (record.vars && typeof record.vars === "object") {
    for (const [k, v] of Object.entries(record.vars as Record<string, unknown>)) if (typeof v === "string" || typeof v === "number") vars.set(k, String(v));
  }
  for (const [k, v] of Object.entries(sources.cli)) vars.set(k, v);
  return vars;
}

/**
 * The variables a recipe's own text defines or uses: its vars:, importEnv: and secrets: names and
 * every ${NAME} its values reference ($${NAME} is a literal, not a use). Read from the document
 * before substitution.
 */
export function variableNames(data: unknown): Set<string> {
  const names = new Set<string>();
  const record = (data ?? {}) as Record<string, unknown>;
  if (record.vars && typeof record.vars === "object") for (const name of Object.keys(record.vars)) names.add(name);
  for (const key of ["importEnv", "secrets"])
    for (const name of Array.isArray(record[key]) ? (record[key] as unknown[]) : []) if (typeof name === "string") names.add(name);
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      for (const [, escaped, name] of value.matchAll(REFERENCE)) if (!escaped && VAR_NAME.test(name!)) names.add(name!);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(data);
  return names;
}

/** The names a recipe lists under importEnv:. */
export function importedNames(data: unknown): ReadonlySet<string> {
  const list = (data as { importEnv?: unknown } | null)?.importEnv;
  return new Set(Array.isArray(list) ? list.filter((n): n is string => typeof n === "string") : []);
}

/**
 * How to define a variable that has no value. One the recipe imports is missing from the
 * environment: saying "list it in importEnv:" there would send the user to what they already did.
 */
export function howToDefine(name: string, imported: ReadonlySet<string>): string {
  if (imported.has(name)) return `importEnv: lists ${name}, but the environment does not set it: export ${name}=VALUE, or pass --var ${name}=VALUE`;
  return `add it to vars:, pass --var ${name}=VALUE, or list it in importEnv:`;
}

function notDefined(name: string, imported: ReadonlySet<string>): string {
  return `\${${name}} is not defined: ${howToDefine(name, imported)} (write $\${${name}} for a literal)`;
}

function notAReference(text: string): string {
  return `"\${${text}}" is not a valid variable reference (names are letters, digits and _); if the shell is to expand it, write $\${${text}}`;
}

/**
 * A vars: value may build on other variables (BASEOS: "${MIRROR}/9/BaseOS"): its references are
 * expanded in `vars`, in place, from the other variables as resolveVars found them (so --var
 * MIRROR=… changes BASEOS too). Left as written, the reference would reach the field verbatim,
 * and a script's shell would expand it to nothing. Values from --var and the environment are
 * taken as they are.
 */
export function expandVarReferences(
  source: YamlSource,
  vars: Map<string, string>,
  data: unknown,
  sources: VarSources,
  imported: ReadonlySet<string>,
): RecipeIssue[] {
  const defined = (data as { vars?: unknown } | null)?.vars;
  if (!defined || typeof defined !== "object") return [];
  const own = Object.keys(defined).filter((name) => vars.has(name) && !Object.hasOwn(sources.cli, name));
  const issues: RecipeIssue[] = [];
  const expanded = new Map<string, string>();
  const expand = (name: string, chain: readonly string[]): string => {
    const done = expanded.get(name);
    if (done !== undefined) return done;
    const text = vars.get(name)!;
    if (!own.includes(name)) return text;
    const value = text.replace(REFERENCE, (whole, escaped: string, ref: string) => {
      if (escaped) return whole.slice(1);
      const at = ["vars", chain[chain.length - 1]!];
      if (!VAR_NAME.test(ref)) issues.push(issueAt(source, at, notAReference(ref)));
      else if (chain.includes(ref))
        issues.push(issueAt(source, at, `\${${ref}} refers back to itself (${[...chain, ref].join(" → ")}): give one of them a value of its own`));
      else if (!vars.has(ref)) issues.push(issueAt(source, at, notDefined(ref, imported)));
      else return expand(ref, [...chain, ref]);
      return whole;
    });
    expanded.set(name, value);
    return value;
  };
  for (const name of own) vars.set(name, expand(name, [name]));
  return issues;
}

/** Each value substituteVars changed, by its path (formatPath's form): the text as written. */
export type SubstitutedValues = Map<string, string>;

/**
 * Replace references in every string value of the document, in place (keys are names, taken as
 * written: one holding a reference is an issue). `substituted` (when
 * given) collects which values had references, for numbersFromVariables.
 */
export function substituteVars(
  source: YamlSource,
  vars: ReadonlyMap<string, string>,
  imported: ReadonlySet<string> = new Set(),
  substituted?: SubstitutedValues,
): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const root = source.doc.contents;
  if (!isMap(root)) return issues;
  for (const pair of root.items) {
    if (!isPair(pair) || !isScalar(pair.key) || DEFINING_KEYS.has(String(pair.key.value))) continue;
    const topKey = String(pair.key.value);
    visit(pair.value, {
      Scalar(key, node, ancestry) {
        const chain = [...ancestry, node];
        if (typeof node.value !== "string" || !node.value.includes("$")) return;
        if (key === "key") {
          // Keys are names (labels, env, Ansible variables) taken as written, as the JSON Schema's
          // propertyNames say: a reference in one is refused rather than substituted or kept.
          if (node.value.includes("${")) {
            // The key's pair ends the ancestry: its path ends with the key.
            issues.push(
              issueAt(
                source,
                [topKey, ...pathOf(ancestry)],
                `key "${node.value}": \${…} is substituted in values only, never in keys: write the key itself`,
                node.value,
              ),
            );
          }
          return;
        }
        const written = node.value;
        node.value = node.value.replace(REFERENCE, (whole, escaped: string, name: string) => {
          if (escaped) return whole.slice(1);
          const value = VAR_NAME.test(name) ? vars.get(name) : undefined;
          if (value !== undefined) return value;
          const path = [topKey, ...pathOf(chain)];
          const why = VAR_NAME.test(name) ? notDefined(name, imported) : notAReference(name);
          issues.push(issueAt(source, path, why));
          return whole;
        });
        if (node.value !== written) substituted?.set(formatPath([topKey, ...pathOf(chain)]), written);
      },
    });
  }
  return issues;
}
