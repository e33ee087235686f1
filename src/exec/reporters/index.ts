// Pick the reporter for this run: a live terminal view when a person is watching, plain lines
// in CI and pipes, JSON lines for programs. Human output goes to stderr so stdout stays clean for
// results (and for --json, which owns stdout).
import type { Reporter } from "../events.js";
import { createJsonReporter } from "./json.js";
import { createPlainReporter } from "./plain.js";
import type { OutputStream } from "./stream.js";
import { createTtyReporter } from "./tty.js";

export type ReporterMode = "auto" | "tty" | "plain" | "json";

export interface CreateReporterOptions {
  readonly mode?: ReporterMode;
  /** Plain mode: print every output line. */
  readonly verbose?: boolean;
  /** Human-facing output (default process.stderr). */
  readonly stream?: OutputStream;
  /** JSON lines (default process.stdout). */
  readonly jsonStream?: OutputStream;
  /** Environment consulted for CI / TERM (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** `auto` resolves to `tty` on an interactive terminal outside CI, `plain` otherwise. */
export function resolveReporterMode(
  mode: ReporterMode,
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): Exclude<ReporterMode, "auto"> {
  if (mode !== "auto") return mode;
  // CI runners (GitLab, GitHub, Jenkins via CI=true) sometimes allocate a pseudo-terminal; an
  // in-place redraw there turns the job log into escape-code soup.
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
  const dumb = env.TERM === "dumb";
  return stream.isTTY === true && !ci && !dumb ? "tty" : "plain";
}

export function createReporter(options: CreateReporterOptions = {}): Reporter {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const mode = resolveReporterMode(options.mode ?? "auto", stream, env);
  switch (mode) {
    case "tty":
      return createTtyReporter({ stream, color: env.NO_COLOR === undefined });
    case "plain":
      return createPlainReporter({ stream, verbose: options.verbose ?? false });
    case "json":
      return createJsonReporter({ stream: options.jsonStream ?? process.stdout });
  }
}

export { createJsonReporter } from "./json.js";
export { createLogFileReporter, formatLogLines, LogFileError } from "./logfile.js";
export { createPlainReporter } from "./plain.js";
export { redact, redactEvent, makeRedactor, REDACTED } from "./redact.js";
export { createTtyReporter, TtyReporter } from "./tty.js";
export { formatDuration } from "./format.js";
export type { OutputStream } from "./stream.js";
