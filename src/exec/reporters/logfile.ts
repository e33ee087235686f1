// build.log: everything a build did, in order, with timestamps: each command, every output line
// prefixed with its step, warnings, and the summary. Appended, so a retry in the same output
// directory keeps the failed attempt above it. Wrap it in redact() when secrets are in play.
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { BuildEvent, Reporter } from "../events.js";
import { formatDuration, stepCounter } from "./format.js";
import { BootsmithError, EXIT } from "../../core/errors.js";

export class LogFileError extends BootsmithError {
  constructor(
    message: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(message, EXIT.usage, options);
    this.name = "LogFileError";
  }
}

export interface LogFileReporterOptions {
  readonly now?: () => Date;
}

/** One log line per event (several for a summary), without the trailing newline. */
export function formatLogLines(event: BuildEvent, time: string): string[] {
  switch (event.type) {
    case "step-start":
      return [`${time} [${event.step}] ${stepCounter(event.index, event.total)} start: ${event.title}`];
    case "step-end":
      return [`${time} [${event.step}] ${event.status} after ${formatDuration(event.durationMs)}${event.error ? `: ${event.error}` : ""}`];
    case "command":
      return [`${time} [${event.step}] + ${event.command}`];
    case "output":
      // Raw line (colours and all): the log is the evidence, not a presentation.
      return [`${time} [${event.step}] ${event.stream === "stderr" ? "2>" : "1>"} ${event.line}`];
    case "message":
      return [`${time} ${event.level.toUpperCase()} ${event.text}`];
    case "summary":
      return [
        `${time} SUMMARY ${event.ok ? "ok" : "failed"} after ${formatDuration(event.durationMs)}`,
        ...event.lines.map((line) => `${time} SUMMARY ${line}`),
      ];
    default: {
      const unknown: never = event;
      return [`${time} ${JSON.stringify(unknown)}`];
    }
  }
}

export function createLogFileReporter(path: string, options: LogFileReporterOptions = {}): Reporter {
  const now = options.now ?? (() => new Date());
  mkdirSync(dirname(path), { recursive: true });
  const file = createWriteStream(path, { flags: "a", encoding: "utf8" });
  // A full disk must not crash the build from an unhandled 'error' event: remember it and
  // report it from close(), where the caller can decide.
  let failure: Error | undefined;
  file.on("error", (error) => {
    failure ??= error;
  });
  let closing: Promise<void> | undefined;

  return {
    emit(event: BuildEvent): void {
      if (closing || failure) return;
      const time = now().toISOString();
      file.write(formatLogLines(event, time).join("\n") + "\n");
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        const settle = () =>
          failure ? reject(new LogFileError(`could not write the build log ${path}: ${failure.message}`, path, { cause: failure })) : resolve();
        if (file.closed || file.destroyed) return settle();
        file.once("close", settle);
        file.end();
      });
      return closing;
    },
  };
}
