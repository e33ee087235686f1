// `--json`: every event as one JSON object on its own line, with a timestamp, for programs that
// drive bootsmith (CI dashboards, the pipeline runner). Nothing else may reach this stream.
import type { BuildEvent, Reporter } from "../events.js";
import type { OutputStream } from "./stream.js";

export interface JsonReporterOptions {
  readonly stream: OutputStream;
  readonly now?: () => Date;
}

export function createJsonReporter(options: JsonReporterOptions): Reporter {
  const now = options.now ?? (() => new Date());
  return {
    emit(event: BuildEvent): void {
      // `time` first so a human skimming the stream sees when; the event keeps its own fields.
      options.stream.write(JSON.stringify({ time: now().toISOString(), ...event }) + "\n");
    },
    close: async () => {},
  };
}
