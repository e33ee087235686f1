// Values of a recipe that must never be shown: the variables it lists under `secrets:` (their
// values come from vars:, --var or importEnv:) and the credentials inside its proxy URL. Every
// reporter (build.log, --json events, the terminal), `bootsmith plan` and error output replace
// them with ***; the commands themselves still receive them.
import type { RecipeIssue } from "./errors.js";
import { issueAt, type YamlSource } from "./source.js";

/** Shorter values would be replaced wherever those characters occur, garbling the output. */
export const MIN_SECRET_LENGTH = 4;

/** The parts of a recipe that can hold secrets. */
interface SecretSources {
  readonly secrets: readonly string[];
  readonly packages?: { readonly options: { readonly proxy?: string } };
}

export function recipeSecrets(source: YamlSource, spec: SecretSources, vars: ReadonlyMap<string, string>): { values: string[]; issues: RecipeIssue[] } {
  const values: string[] = [];
  const issues: RecipeIssue[] = [];
  spec.secrets.forEach((name, i) => {
    const value = vars.get(name);
    if (value === undefined)
      issues.push(
        issueAt(source, ["secrets", i], `${name} is not a variable of this recipe: define it in vars:, pass --var ${name}=VALUE, or list it in importEnv:`),
      );
    else if (value.length < MIN_SECRET_LENGTH)
      issues.push(
        issueAt(
          source,
          ["secrets", i],
          `the value of ${name} is shorter than ${MIN_SECRET_LENGTH} characters, too short to be told apart from other text and hidden; use a longer secret`,
        ),
      );
    else values.push(value);
  });
  const proxy = spec.packages?.options.proxy;
  if (proxy) values.push(...urlCredentials(proxy));
  return { values, issues };
}

/** The password of a URL's userinfo (as written and decoded), and the whole userinfo. */
export function urlCredentials(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (!parsed.password) return [];
  const found = [parsed.password, safeDecode(parsed.password), `${parsed.username}:${parsed.password}`];
  return [...new Set(found)].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
