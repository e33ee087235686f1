// A writable that records what reporters write; with isTTY/columns it plays a terminal.
import type { OutputStream } from "../../../src/exec/reporters/stream.js";

export class FakeStream implements OutputStream {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY = false,
    readonly columns: number | undefined = undefined,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join("");
  }
}

/**
 * What a terminal would show after all the writes: applies \n, \r, cursor-up (A) and erase-below
 * (J), the only controls the TTY reporter uses, and drops colours (m).
 */
export function screen(text: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const csi = /^\x1b\[(\d*)([A-Za-z])/.exec(rest);
    if (csi) {
      const n = Number(csi[1] || "1");
      if (csi[2] === "A") row = Math.max(0, row - n);
      else if (csi[2] === "J") {
        // The cursor is at column 1 here (the reporter always sends \r first): clear from it down.
        lines.splice(row + 1);
        lines[row] = "";
      }
      i += csi[0].length;
      continue;
    }
    const ch = text[i]!;
    if (ch === "\n") {
      row += 1;
      if (lines.length <= row) lines.push("");
    } else if (ch === "\r") {
      lines[row] = "";
    } else {
      lines[row] += ch;
    }
    i += 1;
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
