// The terminal view: finished steps scroll up as permanent lines (✓/✗, elapsed time); below them
// a live region shows each running step with its elapsed time and the current command's last
// output line, redrawn in place at most `fps` times a second. Warnings and errors are printed
// permanently above the live region as they come. close() erases the live region and leaves a
// static record: every step with its time, then the summary.
import type { BuildEvent, Reporter } from "../events.js";
import { formatDuration, stepCounter, stripControls, truncate } from "./format.js";
import type { OutputStream } from "./stream.js";

export interface TtyReporterOptions {
  readonly stream: OutputStream;
  /** Redraws per second (default 10). */
  readonly fps?: number;
  /** Colours (default: on unless NO_COLOR is set). */
  readonly color?: boolean;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface RunningStep {
  readonly step: string;
  readonly title: string;
  readonly counter: string;
  readonly startedAt: number;
  /** Last command started or last output line, whichever came later. */
  last: string;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CSI = "\x1b[";
/** Below this width the title and the output line are dropped: the step and its time matter most. */
const NARROW = 50;
const FALLBACK_COLUMNS = 80;
/** Step lines align their times at this column at most, so wide terminals keep them readable. */
const STEP_LINE_MAX = 72;

export class TtyReporter implements Reporter {
  private readonly stream: OutputStream;
  private readonly now: () => number;
  private readonly paint: (code: string, text: string) => string;
  private readonly running = new Map<string, RunningStep>();
  private readonly counts = { ok: 0, failed: 0, skipped: 0 };
  /** Lines the live region occupies on screen now, to erase before the next frame. */
  private liveLines = 0;
  private dirty = false;
  private sawSummary = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: TtyReporterOptions) {
    this.stream = options.stream;
    this.now = options.now ?? Date.now;
    const color = options.color ?? !process.env.NO_COLOR;
    this.paint = color ? (code, text) => `${CSI}${code}m${text}${CSI}0m` : (_code, text) => text;
    const fps = Math.max(1, Math.min(options.fps ?? 10, 60));
    this.timer = setInterval(
      () => {
        // Elapsed times tick while a step runs, so a running step always warrants a frame.
        if (this.dirty || this.running.size > 0) this.renderNow();
      },
      Math.round(1000 / fps),
    );
    // The redraw timer alone must never keep the process alive.
    this.timer.unref();
  }

  emit(event: BuildEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case "step-start":
        this.running.set(event.step, {
          step: event.step,
          title: event.title,
          counter: stepCounter(event.index, event.total),
          startedAt: this.now(),
          last: "",
        });
        this.dirty = true;
        break;
      case "step-end": {
        const step = this.running.get(event.step);
        this.running.delete(event.step);
        this.counts[event.status] += 1;
        this.permanent([this.finishedLine(event.step, step?.counter ?? "", event.status, event.durationMs, event.error)]);
        break;
      }
      case "command": {
        const step = this.running.get(event.step);
        if (step) {
          step.last = `+ ${event.command}`;
          this.dirty = true;
        }
        break;
      }
      case "output": {
        const step = this.running.get(event.step);
        const text = stripControls(event.line).trim();
        // Blank lines would wipe a useful last line; keep showing the previous one.
        if (step && text) {
          step.last = text;
          this.dirty = true;
        }
        break;
      }
      case "message": {
        const label = event.level === "info" ? "" : event.level === "warn" ? this.paint("33", "warning: ") : this.paint("31", "error: ");
        this.permanent(event.text.split("\n").map((line, i) => (i === 0 ? label + line : line)));
        break;
      }
      case "summary": {
        this.sawSummary = true;
        const head = event.ok
          ? this.paint("32", `✓ build ok in ${formatDuration(event.durationMs)}`)
          : this.paint("31", `✗ build failed after ${formatDuration(event.durationMs)}`);
        this.permanent([head, ...event.lines.map((line) => `  ${line}`)]);
        break;
      }
      default: {
        const unknown: never = event;
        void unknown;
      }
    }
  }

  /** Draw the live region now (the timer calls this; tests call it to see a frame). */
  renderNow(): void {
    if (this.closed) return;
    this.stream.write(this.erase() + this.frame());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.timer = undefined;
    // Steps still running at close were cut short (failure elsewhere, interrupt): say so
    // statically instead of leaving a spinner frozen on screen.
    const unfinished = [...this.running.values()].map((s) => this.finishedLine(s.step, s.counter, "interrupted", this.now() - s.startedAt, undefined));
    this.running.clear();
    const recap: string[] = [];
    if (!this.sawSummary && this.counts.ok + this.counts.failed + this.counts.skipped > 0) {
      recap.push(`steps: ${this.counts.ok} ok, ${this.counts.failed} failed, ${this.counts.skipped} skipped`);
    }
    this.permanent([...unfinished, ...recap]);
    this.closed = true;
  }

  private get columns(): number {
    const columns = this.stream.columns;
    return columns && columns > 0 ? columns : FALLBACK_COLUMNS;
  }

  /** Print lines above the live region, which is redrawn under them at once. */
  private permanent(lines: string[]): void {
    const text = lines.map((line) => line + "\n").join("");
    this.stream.write(this.erase() + text + (this.closed ? "" : this.frame()));
  }

  private erase(): string {
    if (this.liveLines === 0) return "";
    // Column 1, up to the first live line, then clear to the end of the screen. (CR + CUU rather
    // than CPL: every terminal emulator, tmux and screen included, implements those.)
    const sequence = `\r${CSI}${this.liveLines}A${CSI}J`;
    this.liveLines = 0;
    return sequence;
  }

  private frame(): string {
    this.dirty = false;
    // One column spare: writing the last column makes some terminals wrap, and a wrapped line
    // would break the count of lines to erase.
    const width = Math.max(this.columns - 1, 1);
    const lines: string[] = [];
    const spinner = SPINNER[Math.floor(this.now() / 100) % SPINNER.length] ?? "*";
    for (const s of this.running.values()) {
      const elapsed = formatDuration(this.now() - s.startedAt);
      const showTitle = width >= NARROW && s.title && s.title !== s.step;
      const head = `${spinner} ${s.counter} ${s.step}${showTitle ? ` — ${s.title}` : ""}`;
      lines.push(fit(head, elapsed, Math.min(width, STEP_LINE_MAX), this.paint));
      if (width >= NARROW && s.last) lines.push(this.paint("2", truncate(`    ${s.last}`, width)));
    }
    this.liveLines = lines.length;
    return lines.map((line) => line + "\n").join("");
  }

  private finishedLine(
    step: string,
    counter: string,
    status: "ok" | "failed" | "skipped" | "interrupted",
    durationMs: number,
    error: string | undefined,
  ): string {
    const mark = { ok: this.paint("32", "✓"), failed: this.paint("31", "✗"), skipped: this.paint("2", "-"), interrupted: this.paint("33", "■") }[status];
    const width = Math.max(this.columns - 1, 1);
    const time = status === "skipped" ? "skipped" : status === "ok" ? formatDuration(durationMs) : `${status} after ${formatDuration(durationMs)}`;
    const head = `${counter ? `${counter} ` : ""}${step}`;
    const main = `${mark} ${fit(head, time, Math.min(width, STEP_LINE_MAX) - 2, (_c, t) => t)}`;
    return error && status === "failed" ? `${main}\n${truncate(`    ${error.split("\n")[0] ?? ""}`, width)}` : main;
  }
}

/** `left ……… right` within width; the left side is cut first, the right (a time) kept whole. */
function fit(left: string, right: string, width: number, paint: (code: string, text: string) => string): string {
  const rightLen = Array.from(right).length;
  if (rightLen + 2 > width) return truncate(left, width);
  const room = width - rightLen - 2;
  const shown = truncate(left, room);
  const pad = " ".repeat(Math.max(room - Array.from(shown).length, 0) + 2);
  return `${shown}${pad}${paint("2", right)}`;
}

export function createTtyReporter(options: TtyReporterOptions): TtyReporter {
  return new TtyReporter(options);
}
