// Where the bearer token for BSS / boot-service comes from, following the ochami CLI's
// conventions so a site that already uses `ochami` needs no extra setup:
//   --token  >  $tokenEnv (target's tokenEnv)  >  $BSS_TOKEN  >  $<CLUSTER>_ACCESS_TOKEN
// where CLUSTER is the ochami cluster (from ~/.config/ochami/config.yaml, then
// /etc/ochami/config.yaml) named by --cluster, or whose URI matches the target URL, or the
// default-cluster. Format per ochami-config(5): `clusters: [{name, cluster: {uri, bss: {uri},
// boot-service: {uri}, enable-auth}}]`, `default-cluster: NAME`.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { BootsmithError, EXIT, UserError } from "../core/errors.js";

export type OchamiService = "bss" | "boot-service";

export interface OchamiCluster {
  readonly name: string;
  /** cluster.uri: base URI for all services. */
  readonly uri?: string;
  /** cluster.<service>.uri: absolute URI, or a path relative to cluster.uri. */
  readonly services: Partial<Record<OchamiService, string>>;
  /** cluster.enable-auth (default true). */
  readonly enableAuth: boolean;
  /** The file the cluster was read from. */
  readonly file: string;
}

export interface OchamiConfig {
  readonly defaultCluster?: string;
  readonly clusters: readonly OchamiCluster[];
  readonly files: readonly string[];
}

/** Default base paths ochami appends to cluster.uri per service. */
const DEFAULT_BASE_PATH: Record<OchamiService, string> = { bss: "/boot/v1", "boot-service": "/boot" };

export class OchamiConfigError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "OchamiConfigError";
  }
}

/** ochami's rule: upper case, hyphens to underscores, `_ACCESS_TOKEN` appended. */
export function ochamiTokenEnvName(cluster: string): string {
  return `${cluster.toUpperCase().replace(/-/g, "_")}_ACCESS_TOKEN`;
}

/** The config files ochami reads, user-level first (it takes precedence). */
export function ochamiConfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME && env.HOME !== "" ? env.HOME : homedir();
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(home, ".config");
  return [join(configHome, "ochami", "config.yaml"), "/etc/ochami/config.yaml"];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function parseOne(file: string, text: string): { defaultCluster?: string; clusters: OchamiCluster[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new OchamiConfigError(`${file}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (doc === null || doc === undefined) return { clusters: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new OchamiConfigError(`${file}: expected a mapping at the top level`);
  const top = doc as Record<string, unknown>;
  const clusters: OchamiCluster[] = [];
  const list = top.clusters ?? [];
  if (!Array.isArray(list)) throw new OchamiConfigError(`${file}: "clusters" must be a list of {name, cluster}`);
  list.forEach((item: unknown, i) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const name = str(entry.name);
    if (!name) throw new OchamiConfigError(`${file}: clusters[${i}] has no "name"`);
    const c = (entry.cluster ?? {}) as Record<string, unknown>;
    const services: Partial<Record<OchamiService, string>> = {};
    for (const svc of ["bss", "boot-service"] as const) {
      const s = c[svc];
      const uri = s && typeof s === "object" ? str((s as Record<string, unknown>).uri) : undefined;
      if (uri) services[svc] = uri;
    }
    clusters.push({ name, uri: str(c.uri), services, enableAuth: c["enable-auth"] !== false, file });
  });
  return { defaultCluster: str(top["default-cluster"]), clusters };
}

/** Read and merge the ochami config files that exist (user-level entries win by name). */
export function loadOchamiConfig(paths: readonly string[] = ochamiConfigPaths()): OchamiConfig {
  const files: string[] = [];
  const byName = new Map<string, OchamiCluster>();
  let defaultCluster: string | undefined;
  for (const file of paths) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new OchamiConfigError(`${file}: cannot read: ${(error as Error).message}`, { cause: error });
    }
    files.push(file);
    const parsed = parseOne(file, text);
    defaultCluster ??= parsed.defaultCluster;
    for (const c of parsed.clusters) if (!byName.has(c.name)) byName.set(c.name, c);
  }
  return { defaultCluster, clusters: [...byName.values()], files };
}

/** The base URI of `service` for a cluster, as ochami computes it; undefined if not configured. */
export function ochamiServiceUri(cluster: OchamiCluster, service: OchamiService): string | undefined {
  const override = cluster.services[service];
  if (override && /^[a-z]+:\/\//i.test(override)) return override;
  if (!cluster.uri) return undefined;
  const base = cluster.uri.replace(/\/+$/, "");
  const path = override ? `/${override.replace(/^\/+/, "")}` : DEFAULT_BASE_PATH[service];
  return base + path;
}

/** Find a cluster by name, failing with the names that exist. */
export function findOchamiCluster(config: OchamiConfig, name: string): OchamiCluster {
  const found = config.clusters.find((c) => c.name === name);
  if (!found) {
    const where = config.files.length > 0 ? config.files.join(", ") : `none of ${ochamiConfigPaths().join(", ")} exists`;
    const names = config.clusters.map((c) => c.name);
    throw new OchamiConfigError(
      `ochami cluster "${name}" is not configured (${where}); known clusters: ${names.length > 0 ? names.join(", ") : "none"}. Add it with: ochami config cluster set ${name} cluster.uri https://…`,
    );
  }
  return found;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** The cluster a target URL belongs to: named explicitly, else matched by URL origin, else the default. */
export function clusterForUrl(config: OchamiConfig, url: string, name?: string): OchamiCluster | undefined {
  if (name !== undefined) return findOchamiCluster(config, name);
  const matches = config.clusters.filter((c) => [c.uri, ...Object.values(c.services)].some((u) => u !== undefined && sameOrigin(u, url)));
  if (matches.length > 0) return matches[0];
  return config.clusters.find((c) => c.name === config.defaultCluster);
}

export interface TokenSources {
  /** --token */
  readonly token?: string;
  /** The target's tokenEnv (an environment variable name). */
  readonly tokenEnv?: string;
  /** --cluster: the ochami cluster whose token to use. */
  readonly cluster?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Override the ochami config file list (tests). */
  readonly configPaths?: readonly string[];
}

export interface ResolvedToken {
  readonly token?: string;
  /** Where the token came from, for messages ("--token", "$BSS_TOKEN", …). Never the token. */
  readonly source: string;
  /** Where a user could put one (for the 401 hint). */
  readonly hint: string;
}

/**
 * A target that names its token's variable (tokenEnv, --token-env) must find it set: falling back
 * to $BSS_TOKEN or an ochami cluster's token could register with another cluster's credentials,
 * or fail later with a 401 that hides the cause. The token; bad input (exit 2) naming the variable when it is unset.
 */
export function requireTokenEnv(tokenEnv: string, env: NodeJS.ProcessEnv, what: string): string {
  const token = str(env[tokenEnv]);
  if (token !== undefined) return token;
  throw new UserError(
    `${what}: the token variable it names, $${tokenEnv} (tokenEnv / --token-env), is not set or empty: export ${tokenEnv}=<token>, or leave tokenEnv out to use $BSS_TOKEN or the ochami cluster's token`,
  );
}

/** Pick the bearer token for `url` (see the order at the top of this file). */
export function resolveToken(url: string, sources: TokenSources = {}): ResolvedToken {
  const env = sources.env ?? process.env;
  const nonEmpty = (name: string): string | undefined => str(env[name]);
  const places = ["--token", ...(sources.tokenEnv ? [`$${sources.tokenEnv}`] : []), "$BSS_TOKEN"];
  let cluster: OchamiCluster | undefined;
  let configError: Error | undefined;
  try {
    cluster = clusterForUrl(loadOchamiConfig(sources.configPaths ?? ochamiConfigPaths(env)), url, sources.cluster);
  } catch (error) {
    // A broken ochami config only matters if we would have needed it: keep it for the hint.
    if (sources.cluster !== undefined) throw error;
    configError = error as Error;
  }
  if (cluster) places.push(`$${ochamiTokenEnvName(cluster.name)} (ochami cluster "${cluster.name}")`);
  else places.push("$<CLUSTER>_ACCESS_TOKEN with the cluster in ~/.config/ochami/config.yaml");
  const hint = `set one of ${places.join(", ")}. With OpenCHAMI, e.g. export ${cluster ? ochamiTokenEnvName(cluster.name) : "DEMO_ACCESS_TOKEN"}=$(gen_access_token) on the head node${configError ? ` (note: ${configError.message})` : ""}`;

  if (sources.token) return { token: sources.token, source: "--token", hint };
  if (sources.tokenEnv) {
    return { token: requireTokenEnv(sources.tokenEnv, env, `register to ${url}`), source: `$${sources.tokenEnv}`, hint };
  }
  const bss = nonEmpty("BSS_TOKEN");
  if (bss) return { token: bss, source: "$BSS_TOKEN", hint };
  if (cluster) {
    if (!cluster.enableAuth) return { source: `none (ochami cluster "${cluster.name}" has enable-auth: false)`, hint };
    const name = ochamiTokenEnvName(cluster.name);
    const v = nonEmpty(name);
    if (v) return { token: v, source: `$${name} (ochami cluster "${cluster.name}" from ${cluster.file})`, hint };
  }
  return { source: "none", hint };
}
