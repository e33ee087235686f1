// The little a reporter needs from its output: process.stderr/stdout satisfy it, and tests pass
// a plain object that records what was written (with isTTY/columns to play a terminal).
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width; undefined when not a terminal. */
  readonly columns?: number;
  /** Terminal height; undefined when not a terminal. */
  readonly rows?: number;
}
