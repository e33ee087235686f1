// SIGINT/SIGTERM/SIGHUP during a build: stop the running command, unwind the cleanup stack
// (containers, mounts, temp dirs), and only then exit, with the shell's 128+N code. Without this,
// Ctrl-C kills node at once and leaves buildah containers and mounts behind. SIGHUP is what an
// admin's build gets when the ssh session to the head node drops; `nohup` does not shield a Node
// program from it (Node resets ignored signals to their defaults when it starts).
import type { CleanupStack } from "./cleanup.js";
import type { Reporter } from "./events.js";
import { BootsmithError } from "../core/errors.js";

export const INTERRUPT_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/** 128 + signal number, as a shell reports a process killed by it. */
export const INTERRUPT_EXIT_CODES: Readonly<Record<InterruptSignal, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Whether `code` is the exit code of an interruption (129, 130, 143). */
export function isInterruptExitCode(code: number): boolean {
  return Object.values(INTERRUPT_EXIT_CODES).includes(code);
}

/** The work was interrupted by a signal and has been cleaned up; exit with `exitCode`. */
export class InterruptedError extends BootsmithError {
  constructor(
    readonly signal: InterruptSignal,
    options?: ErrorOptions,
  ) {
    super(`interrupted by ${signal}`, INTERRUPT_EXIT_CODES[signal], options);
  }
}

export function isInterruptedError(error: unknown): error is InterruptedError {
  return error instanceof InterruptedError;
}

/** Where the signals come from: the process, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: InterruptSignal, listener: (signal: InterruptSignal) => void): unknown;
  off(event: InterruptSignal, listener: (signal: InterruptSignal) => void): unknown;
}

/** Call `listener` on each interrupt signal until the returned function is called. */
export function onInterruptSignals(listener: (signal: InterruptSignal) => void, source: SignalSource = process): () => void {
  for (const signal of INTERRUPT_SIGNALS) source.on(signal, listener);
  return () => {
    for (const signal of INTERRUPT_SIGNALS) source.off(signal, listener);
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Run `work` with an AbortSignal that fires on SIGINT, SIGTERM or SIGHUP (pass it to run() as
 * `signal`: the running command is terminated and run() rejects).
 *
 * - Success: the result is returned; the stack is left to the caller (what to keep is its call).
 * - Failure: the stack is unwound (undo failures reported as warnings), then the error rethrown.
 * - Signal: the signal is aborted, `work` is awaited until it settles, the stack is unwound, and
 *   an InterruptedError (exit code 130, 143 or 129) is thrown, with the work's error as `cause`.
 *
 * Further signals while stopping or unwinding are acknowledged, not obeyed: an unwinding cut
 * short is exactly what leaks mounts. (SIGKILL remains the escape hatch.)
 */
export async function withInterruptHandling<T>(
  cleanup: CleanupStack,
  work: (signal: AbortSignal) => Promise<T>,
  reporter: Reporter,
  source: SignalSource = process,
): Promise<T> {
  const controller = new AbortController();
  let received: InterruptSignal | undefined;
  let unwinding = false;

  const onSignal = (signal: InterruptSignal) => {
    if (received) {
      reporter.emit({ type: "message", level: "warn", text: unwinding ? "still cleaning up…" : "still stopping the running command…" });
      return;
    }
    // The first signal is recorded even while unwinding: Ctrl-C reaches the whole process group,
    // so the running command can die of it (and the work fail) before node handles its own copy.
    // The build was still interrupted, not failed: exit 130/143/129, not 1 with "fix the cause".
    received = signal;
    reporter.emit({
      type: "message",
      level: "warn",
      text: unwinding ? `${signal} received: finishing the cleanup` : `${signal} received: stopping and cleaning up (this can take a few seconds)`,
    });
    controller.abort(new InterruptedError(signal));
  };
  const stopListening = onInterruptSignals(onSignal, source);

  const unwind = async () => {
    unwinding = true;
    await cleanup.unwind((label, error) => {
      reporter.emit({ type: "message", level: "warn", text: `cleanup "${label}" failed: ${describe(error)}` });
    });
  };

  try {
    let result: T;
    try {
      result = await work(controller.signal);
    } catch (error) {
      await unwind();
      if (received) throw new InterruptedError(received, { cause: error });
      throw error;
    }
    // The work finished although a signal came in (it arrived between the last command and
    // the end): the user still asked to stop, so treat it as an interruption.
    if (received) {
      await unwind();
      throw new InterruptedError(received);
    }
    return result;
  } finally {
    stopListening();
  }
}
