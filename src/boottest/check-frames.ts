// Reads the check runner's framed lines back from the serial console (format in
// check-harness.ts). Lines may arrive twice (console and kernel log copies) and with a kernel
// timestamp in front; output chunks are reassembled by index, so a duplicate is harmless and a
// lost chunk is noticed.
import type { CheckReport } from "./checks.js";

const FRAME = /^BOOTSMITH-CHECK (\S+) (START|OUT|ERR|END)(?: (.*))?$/;
const BATCH = /^BOOTSMITH-CHECKS (BEGIN|DONE)\b/;
/** Where a frame starts: split before every marker, keeping it with what follows. */
const MARKER = /(?=BOOTSMITH-CHECKS? )/;
const CHUNK = /^(\d+)\/(\d+) ([A-Za-z0-9+/=]*)$/;
const END = /^exit=(\d+) ms=(\d+) out=(\d+) err=(\d+)$/;

export type FrameEvent = { kind: "begin" } | { kind: "done" } | { kind: "start"; name: string } | { kind: "end"; name: string };

interface Collected {
  out: Map<number, string>;
  err: Map<number, string>;
  end?: { exit: number; ms: number; out: number; err: number };
}

export class CheckFrameParser {
  private readonly checks = new Map<string, Collected>();
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Feed one console line (ANSI already stripped); returns what it announced that is new. The
   * console copy and the kernel-log copy of a frame can interleave mid-line ("…END exit=0 ms=73
   * out=1 [ 32.30] BOOTSMITH-CHECK x END exit=0 ms=73 out=1 err=0", a login prompt in front), so
   * every frame marker in the line starts a piece of its own: a torn piece is ignored, a whole
   * one counts.
   */
  line(line: string): FrameEvent[] {
    const events: FrameEvent[] = [];
    for (const piece of line.split(MARKER)) {
      const event = this.piece(piece);
      if (event) events.push(event);
    }
    return events;
  }

  private piece(line: string): FrameEvent | undefined {
    const batch = BATCH.exec(line);
    if (batch) {
      if (batch[1] === "DONE") {
        if (this.finished) return undefined;
        this.finished = true;
        return { kind: "done" };
      }
      return { kind: "begin" };
    }
    const m = FRAME.exec(line);
    if (!m) return undefined;
    const [, name = "", what, rest = ""] = m;
    const known = this.checks.get(name);
    const c: Collected = known ?? { out: new Map(), err: new Map() };
    if (!known) this.checks.set(name, c);
    switch (what) {
      case "START":
        return known ? undefined : { kind: "start", name };
      case "OUT":
      case "ERR": {
        const chunk = CHUNK.exec(rest.trim());
        if (chunk) (what === "OUT" ? c.out : c.err).set(Number(chunk[1]), chunk[3] ?? "");
        return undefined;
      }
      case "END": {
        const end = END.exec(rest.trim());
        if (!end || c.end) return undefined;
        c.end = { exit: Number(end[1]), ms: Number(end[2]), out: Number(end[3]), err: Number(end[4]) };
        return { kind: "end", name };
      }
      default:
        return undefined;
    }
  }

  /** What the node reported for a check, once its END line arrived. */
  report(name: string): CheckReport | undefined {
    const c = this.checks.get(name);
    if (!c?.end) return undefined;
    const out = join(c.out, c.end.out);
    const err = join(c.err, c.end.err);
    return { exitCode: c.end.exit, milliseconds: c.end.ms, stdout: out.text, stderr: err.text, incomplete: out.missing || err.missing };
  }
}

function join(chunks: ReadonlyMap<number, string>, count: number): { text: string; missing: boolean } {
  let b64 = "";
  let missing = false;
  for (let i = 1; i <= count; i++) {
    const part = chunks.get(i);
    if (part === undefined) missing = true;
    else b64 += part;
  }
  // A lost chunk shifts the base64 alphabet's 4-character groups; decode what is whole.
  const text = Buffer.from(missing ? b64.slice(0, b64.length - (b64.length % 4)) : b64, "base64").toString("utf8");
  return { text, missing };
}
