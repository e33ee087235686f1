// A CLI command is a plain module: a name, one line of help, a usage text and a run function
// that returns the exit code. main.ts keeps them in one typed table.

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text: usage line, arguments, options, examples. */
  readonly usage: string;
  run(args: string[]): Promise<number>;
}
