// What a running build tells the outside world. Reporters (terminal, plain CI lines, JSON lines)
// and the per-build log file all consume the same events, so they can never disagree.

export type BuildEvent =
  | { type: "step-start"; step: string; title: string; index: number; total: number }
  | { type: "step-end"; step: string; status: "ok" | "failed" | "skipped"; durationMs: number; error?: string }
  | { type: "command"; step: string; command: string }
  | { type: "output"; step: string; stream: "stdout" | "stderr"; line: string }
  | { type: "message"; level: "info" | "warn" | "error"; text: string }
  | { type: "summary"; ok: boolean; durationMs: number; lines: string[] };

export interface Reporter {
  emit(event: BuildEvent): void;
  /** Flush and release the terminal / file. */
  close(): Promise<void>;
}

/** Fan one event stream out to several reporters. */
export function teeReporter(...reporters: Reporter[]): Reporter {
  return {
    emit: (event) => reporters.forEach((r) => r.emit(event)),
    close: async () => {
      await Promise.all(reporters.map((r) => r.close()));
    },
  };
}

/** A reporter that drops everything; for library callers that only want results. */
export const silentReporter: Reporter = { emit: () => {}, close: async () => {} };

/**
 * Only the messages (what was signed with which key, a warning), as lines, e.g. to stderr: for
 * commands that print their own transfer lines and keep the commands they run quiet.
 */
export function messageReporter(write: (line: string) => void, prefix = ""): Reporter {
  return {
    emit: (event) => {
      if (event.type === "message") write(`${prefix}${event.level === "info" ? "" : `${event.level === "warn" ? "warning" : "error"}: `}${event.text}`);
    },
    close: async () => {},
  };
}
