// Plain lines for CI logs and pipes: one line per step start and end, `+ command` for every
// command, warnings and errors, tool output only with --verbose. Nothing is ever rewritten, so
// the log reads the same in a GitLab job page as in a file.
import type { BuildEvent, Reporter } from "../events.js";
import { formatDuration, stepCounter, stripControls } from "./format.js";
import type { OutputStream } from "./stream.js";

export interface PlainReporterOptions {
  readonly stream: OutputStream;
  /** Also print every output line of every command, prefixed with the step name. */
  readonly verbose?: boolean;
}

export function createPlainReporter(options: PlainReporterOptions): Reporter {
  const { stream, verbose = false } = options;
  // step-end does not repeat the position, so remember it from step-start.
  const counters = new Map<string, string>();
  const line = (text: string) => stream.write(text + "\n");

  return {
    emit(event: BuildEvent): void {
      switch (event.type) {
        case "step-start": {
          const counter = stepCounter(event.index, event.total);
          counters.set(event.step, counter);
          const title = event.title && event.title !== event.step ? `: ${event.title}` : "";
          line(`${counter} ${event.step}${title} …`);
          break;
        }
        case "step-end": {
          const counter = counters.get(event.step) ?? "[?]";
          const error = event.status === "failed" && event.error ? `: ${event.error}` : "";
          line(`${counter} ${event.step} … ${event.status} (${formatDuration(event.durationMs)})${error}`);
          break;
        }
        case "command":
          line(`+ ${event.command}`);
          break;
        case "output":
          if (verbose) line(`  ${event.step} | ${stripControls(event.line)}`);
          break;
        case "message":
          line(event.level === "info" ? event.text : `${event.level === "warn" ? "warning" : "error"}: ${event.text}`);
          break;
        case "summary":
          line(`${event.ok ? "build ok" : "build failed"} (${formatDuration(event.durationMs)})`);
          for (const text of event.lines) line(`  ${text}`);
          break;
        default: {
          const unknown: never = event;
          void unknown;
        }
      }
    },
    close: async () => {},
  };
}
