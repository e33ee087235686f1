// Run a graph's builds with at most `jobs` at a time (p-queue). A child is queued only once its
// parent has succeeded (or was already up to date), so a queue slot never waits on another; a
// failure skips its descendants, with the reason, and lets unrelated builds finish. The build
// itself is a function passed in, so the scheduling is tested without buildah. Ctrl-C (SIGINT),
// SIGTERM or SIGHUP anywhere in the run stops new starts at once, whatever the running builds report.
import PQueue from "p-queue";
import type { RecipeGraph, GraphNode } from "./graph.js";
import type { Decision } from "./cache.js";
import { formatDuration } from "../exec/reporters/format.js";
import { INTERRUPT_EXIT_CODES, InterruptedError, isInterruptExitCode, onInterruptSignals, type InterruptSignal, type SignalSource } from "../exec/signals.js";

export type Outcome =
  | { readonly status: "built"; readonly durationMs: number; readonly detail?: string }
  | { readonly status: "up-to-date"; readonly detail: string }
  | { readonly status: "skipped"; readonly detail: string }
  | { readonly status: "failed"; readonly durationMs: number; readonly detail: string; readonly exitCode: number };

/** What a build function reports: its exit code (0 built, 129/130/143 interrupted) and why it failed. */
export interface BuildAttempt {
  readonly exitCode: number;
  readonly detail?: string;
}

export interface RunGraphOptions {
  readonly jobs: number;
  /** Names to run; others are left out of the run and the summary. */
  readonly selected: ReadonlySet<string>;
  readonly decisions: ReadonlyMap<string, Decision>;
  /**
   * Build one recipe. `interrupt` is aborted (reason: an InterruptedError) on SIGINT/SIGTERM/SIGHUP: a
   * build still preparing (host detection, a parent pull) should throw that reason instead of
   * starting, and is then reported as skipped.
   */
  readonly build: (node: GraphNode, interrupt: AbortSignal) => Promise<BuildAttempt>;
  /** Called as each recipe settles (for live "3/7 done" lines). */
  readonly onOutcome?: (name: string, outcome: Outcome) => void;
  /** Where the interrupt signals come from: the process, or an EventEmitter in tests. */
  readonly signals?: SignalSource;
}

/** The outcome of each selected recipe, and the exit code of the signal that interrupted the run. */
export interface GraphRun {
  readonly outcomes: Map<string, Outcome>;
  readonly interrupted?: number;
}

export async function runGraph(graph: RecipeGraph, options: RunGraphOptions): Promise<GraphRun> {
  const queue = new PQueue({ concurrency: Math.max(1, options.jobs) });
  const pending = new Map<string, Promise<Outcome>>();
  let interrupted: number | undefined;
  // The run's own listener: a running build handles the signal itself (stops its command, cleans
  // up), but the run must know at once, not when a build returns 130: a build that fails for
  // another reason (its command killed by the terminal's SIGINT) frees a queue slot first, and a
  // build started after the signal would run to its end.
  const controller = new AbortController();
  const onSignal = (signal: InterruptSignal) => {
    interrupted ??= INTERRUPT_EXIT_CODES[signal];
    if (!controller.signal.aborted) controller.abort(new InterruptedError(signal));
  };
  const stopListening = onInterruptSignals(onSignal, options.signals ?? process);

  const settle = async (node: GraphNode): Promise<Outcome> => {
    const parent = node.parent;
    if (parent !== undefined && options.selected.has(parent)) {
      const upstream = await pending.get(parent)!;
      if (upstream.status === "failed")
        return { status: "skipped", detail: isInterruptExitCode(upstream.exitCode) ? `parent ${parent} was interrupted` : `parent ${parent} failed` };
      if (upstream.status === "skipped") return { status: "skipped", detail: `parent ${parent} was skipped (${upstream.detail})` };
    }
    const decision = options.decisions.get(node.name);
    if (decision && !decision.build) return { status: "up-to-date", detail: decision.reasons[0] ?? "up to date" };
    if (interrupted !== undefined) return { status: "skipped", detail: "interrupted before it started" };
    const outcome = await queue.add(async (): Promise<Outcome> => {
      if (interrupted !== undefined) return { status: "skipped", detail: "interrupted before it started" };
      const t0 = Date.now();
      let attempt: BuildAttempt;
      try {
        attempt = await options.build(node, controller.signal);
      } catch (error) {
        if (controller.signal.aborted && error === controller.signal.reason) return { status: "skipped", detail: "interrupted before it started" };
        attempt = { exitCode: 1, detail: error instanceof Error ? error.message : String(error) };
      }
      const durationMs = Date.now() - t0;
      if (attempt.exitCode === 0) return { status: "built", durationMs, detail: attempt.detail };
      if (isInterruptExitCode(attempt.exitCode)) interrupted ??= attempt.exitCode;
      return { status: "failed", durationMs, exitCode: attempt.exitCode, detail: attempt.detail ?? `exit code ${attempt.exitCode}` };
    });
    return outcome ?? { status: "skipped", detail: "the queue dropped it" };
  };

  for (const name of graph.order) {
    if (!options.selected.has(name)) continue;
    const node = graph.nodes.get(name)!;
    const promise = settle(node).then((outcome) => {
      options.onOutcome?.(name, outcome);
      return outcome;
    });
    pending.set(name, promise);
  }
  const outcomes = new Map<string, Outcome>();
  try {
    for (const [name, promise] of pending) outcomes.set(name, await promise);
  } finally {
    stopListening();
  }
  return interrupted !== undefined ? { outcomes, interrupted } : { outcomes };
}

/** The process exit code for a run: interrupted wins, then failed, else 0. */
export function runExitCode(run: GraphRun): number {
  if (run.interrupted !== undefined) return run.interrupted;
  let code = 0;
  for (const o of run.outcomes.values()) {
    if (o.status !== "failed") continue;
    if (isInterruptExitCode(o.exitCode)) return o.exitCode;
    code = 1;
  }
  return code;
}

/** The end-of-run table: one row per recipe in build order, then the counts. */
export function summaryTable(order: readonly string[], outcomes: ReadonlyMap<string, Outcome>, wallMs: number): string[] {
  const rows = order
    .filter((n) => outcomes.has(n))
    .map((name) => {
      const o = outcomes.get(name)!;
      const time = o.status === "built" || o.status === "failed" ? formatDuration(o.durationMs) : "-";
      const label = o.status === "up-to-date" ? "up to date" : o.status;
      return [name, label, time, o.detail ?? ""] as const;
    });
  const width = (i: 0 | 1 | 2) => Math.max(["recipe", "result", "time"][i]!.length, ...rows.map((r) => r[i].length));
  const w = [width(0), width(1), width(2)] as const;
  const fmt = (r: readonly [string, string, string, string]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`.trimEnd();
  const count = (s: Outcome["status"]) => [...outcomes.values()].filter((o) => o.status === s).length;
  return [
    fmt(["recipe", "result", "time", "detail"]),
    ...rows.map(fmt),
    `${count("built")} built, ${count("up-to-date")} up to date, ${count("skipped")} skipped, ${count("failed")} failed in ${formatDuration(wallMs)}`,
  ];
}
