// POSIX shell quoting for *display*: `bootsmith plan` prints commands a human can paste into a
// shell. Nothing in bootsmith ever hands these strings to a shell; processes get argv arrays.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one word so that a POSIX shell reads it back byte for byte. */
export function quoteArg(arg: string): string {
  if (arg !== "" && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Render an argv (with optional environment) as one copy-pasteable shell line. */
export function renderCommand(file: string, args: readonly string[], env?: Readonly<Record<string, string>>): string {
  const envPart = Object.entries(env ?? {}).map(([k, v]) => `${k}=${quoteArg(v)}`);
  return [...envPart, quoteArg(file), ...args.map(quoteArg)].join(" ");
}
