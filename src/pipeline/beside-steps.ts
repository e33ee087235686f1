// Steps that run beside the ones after them (Step.besideUntil): started, left running, and
// waited for before the step they name. A failure beside is reported at that join, or before the
// next step starts, whichever comes first; a failure (or Ctrl-C) in the steps in front stops
// the ones beside and waits for them, so the cleanup never unmounts a root a program still reads.
import type { StepId } from "../steps/types.js";

interface Running {
  readonly step: StepId;
  readonly done: Promise<void>;
  readonly stop: AbortController;
  failure?: { readonly error: unknown };
}

export class StepsBeside {
  private readonly running = new Map<StepId, Running[]>();

  /**
   * Start `run` beside the next steps, until `joinBefore`. It is given a signal that aborts with
   * `parent` (Ctrl-C) or when the steps in front fail.
   */
  start(step: StepId, joinBefore: StepId, parent: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<void>): void {
    const stop = new AbortController();
    const signal = parent ? AbortSignal.any([parent, stop.signal]) : stop.signal;
    const entry: Running = {
      step,
      stop,
      done: run(signal).catch((error: unknown) => {
        entry.failure = { error };
      }),
    };
    const list = this.running.get(joinBefore) ?? [];
    list.push(entry);
    this.running.set(joinBefore, list);
  }

  /** Before a step: throw a failure beside that is already known, then wait for what joins here. */
  async before(step: StepId): Promise<void> {
    this.throwIfFailed();
    const joining = this.running.get(step) ?? [];
    this.running.delete(step);
    await Promise.all(joining.map((r) => r.done));
    for (const r of joining) if (r.failure) throw r.failure.error;
  }

  /** At the end of the plan: anything still beside (a join step that was not in the plan). */
  async finish(): Promise<void> {
    const rest = [...this.running.keys()];
    for (const step of rest) await this.before(step);
  }

  /** The steps in front failed or were interrupted: stop what runs beside and wait for it. */
  async stopAll(): Promise<void> {
    const all = [...this.running.values()].flat();
    this.running.clear();
    for (const r of all) r.stop.abort();
    await Promise.all(all.map((r) => r.done));
  }

  private throwIfFailed(): void {
    for (const r of [...this.running.values()].flat()) if (r.failure) throw r.failure.error;
  }
}
