// One base for every error bootsmith raises on purpose: it carries the exit code and, when there
// is one, a hint saying what to do. cli/main.ts turns any of them into a message and that exit
// code in one place; a command catches an error only to add context, not to pick an exit code.

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

export interface BootsmithErrorOptions extends ErrorOptions {
  /** What the user can do about it, printed after the message. */
  readonly hint?: string;
}

export class BootsmithError extends Error {
  readonly hint?: string;
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    options: BootsmithErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/**
 * The same error with context in front of its message ("bootsmith publish: …"), keeping its exit
 * code and hint: what a command does when it catches an error to say where it happened.
 */
export function withContext(context: string, error: BootsmithError): BootsmithError {
  return new BootsmithError(`${context}: ${error.message}`, error.exitCode, { cause: error, ...(error.hint !== undefined ? { hint: error.hint } : {}) });
}

/** An error the user can fix (bad recipe, argument or configuration): exit 2 unless told. */
export class UserError extends BootsmithError {
  constructor(message: string, exitCode: number = EXIT.usage, options: BootsmithErrorOptions = {}) {
    super(message, exitCode, options);
  }
}

/** What the host's filesystem said, in words: the errno codes a user's paths and disks produce. */
const FILE_SYSTEM_REASONS: Readonly<Record<string, string>> = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EEXIST: "a file is in the way",
  ENOTDIR: "a part of the path is a file, not a directory",
  EISDIR: "is a directory",
  ENOENT: "no such file or directory",
};

/**
 * A filesystem error from Node (EROFS on a read-only --out, ENOSPC, EACCES …) as a failure
 * naming the operation and the path, instead of a crash with a stack trace: these come from the
 * user's disks and paths, not from a bug. Anything else: undefined.
 */
export function fileSystemFailure(error: unknown): BootsmithError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  const reason = code === undefined ? undefined : FILE_SYSTEM_REASONS[code];
  if (reason === undefined || path === undefined) return undefined;
  const verb = syscall === undefined ? "use" : syscall;
  return new BootsmithError(`cannot ${verb} ${path}: ${reason} (${code})`, EXIT.failed, {
    cause: error,
    hint: "check the path, its permissions and the free space of its filesystem",
  });
}

/**
 * An error's message with the cause it wraps: Node's fetch rejects with only "fetch failed",
 * the reason (ECONNREFUSED, a DNS failure, a TLS error) being in `cause`.
 */
export function messageWithCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  const detail = cause instanceof Error ? cause.message || (cause as NodeJS.ErrnoException).code : undefined;
  return detail && !message.includes(detail) ? `${message} (${detail})` : message;
}
