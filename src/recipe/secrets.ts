// Values of a recipe that must never be shown: the variables it lists under `secrets:` (their
// values come from vars:, --var or importEnv:) and the credentials inside its proxy URL and its
// repositories (user:password in a URL, password= in a .repo file's content). Every
// reporter (build.log, --json events, the terminal), `bootsmith plan` and error output replace
// them with ***; the commands themselves still receive them.
import { MIN_SECRET_LENGTH } from "../core/redact.js";
import type { RecipeIssue } from "./errors.js";
import { issueAt, type YamlSource } from "./source.js";
import { howToDefine } from "./vars.js";

/** The parts of a recipe that can hold secrets. */
interface SecretSources {
  readonly secrets: readonly string[];
  readonly importEnv: readonly string[];
  readonly packages?: {
    readonly options: { readonly proxy?: string; readonly mirror?: string };
    readonly repos: readonly { readonly baseurl?: string; readonly gpgkey?: string; readonly content?: string }[];
  };
}

export function recipeSecrets(source: YamlSource, spec: SecretSources, vars: ReadonlyMap<string, string>): { values: string[]; issues: RecipeIssue[] } {
  const values: string[] = [];
  const issues: RecipeIssue[] = [];
  spec.secrets.forEach((name, i) => {
    const value = vars.get(name);
    if (value === undefined)
      issues.push(issueAt(source, ["secrets", i], `${name} is not a variable of this recipe: ${howToDefine(name, new Set(spec.importEnv))}`));
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
  // A private mirror's user:password in a repository URL, or dnf's password= in a .repo file.
  for (const repo of spec.packages?.repos ?? []) {
    for (const url of [repo.baseurl, repo.gpgkey]) if (url) values.push(...urlCredentials(url));
    if (repo.content) values.push(...textCredentials(repo.content));
  }
  const mirror = spec.packages?.options.mirror;
  if (mirror) values.push(...textCredentials(mirror));
  return { values: [...new Set(values)], issues };
}

/** Credentials in free text (a .repo or .sources file, a 'deb …' line): URLs' userinfo and password= / proxy_password= lines. */
function textCredentials(text: string): string[] {
  const found = [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi)].flatMap((m) => urlCredentials(m[0]));
  for (const m of text.matchAll(/^\s*(?:proxy_)?password\s*=\s*(\S.*?)\s*$/gim)) if (m[1]!.length >= MIN_SECRET_LENGTH) found.push(m[1]!);
  return found;
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
