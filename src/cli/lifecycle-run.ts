// The lifecycle commands (diff, export, import) run their work with SIGINT/SIGTERM/SIGHUP turned into
// its AbortSignal: partial files are removed and the exit code is 130/143/129 as everywhere else.
import { CleanupStack } from "../exec/cleanup.js";
import { createReporter } from "../exec/reporters/index.js";
import { withInterruptHandling } from "../exec/signals.js";

export async function runLifecycle<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const reporter = createReporter({ mode: "plain" });
  try {
    return await withInterruptHandling(new CleanupStack(), work, reporter);
  } finally {
    await reporter.close();
  }
}
