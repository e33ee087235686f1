// A small wrapper over node:util parseArgs that turns its errors into UserErrors naming the
// command and pointing at --help.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../core/errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`bootsmith ${command}: ${(error as Error).message}\nRun \`bootsmith ${command} --help\` for the options.`);
  }
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
