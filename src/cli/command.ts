// A CLI command is a plain module: a name, one line of help, a usage text and a run function
// that returns the exit code. main.ts keeps them in one typed table.

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text: usage line, arguments, options, examples. */
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

/** Exit codes, as documented in the README. */
export const EXIT = {
  ok: 0,
  /** The build, boot test, publish or registration ran and failed. */
  failed: 1,
  /** Bad input: recipe, arguments or configuration. Nothing was started. */
  usage: 2,
  /** Interrupted by SIGINT (128 + 2). */
  interrupted: 130,
} as const;

/** An error the user can fix: printed as is, without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = "UserError";
  }
}
