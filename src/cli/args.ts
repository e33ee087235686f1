// A small wrapper over node:util parseArgs that turns its errors into UserErrors naming the
// command and pointing at --help.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../core/errors.js";
import { didYouMean } from "../recipe/errors.js";
import type { TargetSpecOptions } from "../publish/target-spec.js";
import type { StorageFlags } from "../builder/storage.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(
      `bootsmith ${command}: ${argumentProblem(error as Error & { code?: string }, options)}\nRun \`bootsmith ${command} --help\` for the options.`,
    );
  }
}

/**
 * parseArgs' message, except for a mistyped option: its own advice there (put "--no-publsh"
 * after --) is for positionals that start with -, not for the typo it almost always is.
 */
function argumentProblem(error: Error & { code?: string }, options: Options): string {
  const unknown = error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /'(-[^']*)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return error.message;
  const flag = unknown.split("=")[0]!;
  const guess = didYouMean(
    flag,
    Object.keys(options).map((name) => `--${name}`),
  );
  return `unknown option ${flag}${guess ? `; did you mean ${guess}?` : ""}`;
}

/** Parse repeated `--var KEY=VALUE` options. */
export function parseVarOptions(values: readonly string[] | undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const item of values ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UserError(`--var ${JSON.stringify(item)}: expected KEY=VALUE, e.g. --var RELEASE=9.5`);
    vars[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return vars;
}

/** `--flag=true|false` (e.g. --tls-verify=false); undefined when not given. */
export function parseBool(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UserError(`${flag}=${value}: expected true or false`);
}

/** The buildah storage flags (--root, --runroot, --storage-driver); resolveStorage fills in what they leave out. */
export const STORAGE_OPTIONS = { root: { type: "string" }, runroot: { type: "string" }, "storage-driver": { type: "string" } } as const;

export function storageFlags(values: { readonly root?: string; readonly runroot?: string; readonly "storage-driver"?: string }): StorageFlags {
  return {
    ...(values.root ? { root: values.root } : {}),
    ...(values.runroot ? { runRoot: values.runroot } : {}),
    ...(values["storage-driver"] ? { driver: values["storage-driver"] } : {}),
  };
}

/** The target flags that publish, import, promote and gc share; each command takes those it lists. */
export interface TargetFlagValues {
  readonly endpoint?: string;
  readonly region?: string;
  readonly "public-base"?: string;
  readonly "ca-file"?: string;
  readonly "tls-verify"?: string;
  readonly authfile?: string;
  readonly lookaside?: string;
}

/** Those flags as parseTargetSpec's options (S3_ENDPOINT when --endpoint is not given). */
export function targetSpecOptions(values: TargetFlagValues, env: NodeJS.ProcessEnv = process.env): TargetSpecOptions {
  return {
    endpoint: values.endpoint ?? env.S3_ENDPOINT,
    endpointFrom: values.endpoint !== undefined ? "--endpoint" : "$S3_ENDPOINT",
    region: values.region,
    publicBase: values["public-base"],
    caFile: values["ca-file"],
    tlsVerify: parseBool("--tls-verify", values["tls-verify"]),
    authFile: values.authfile,
    lookaside: values.lookaside,
  };
}
