// The one door to the operating system: every external program bootsmith starts goes through
// run(). Commands are argv arrays; each is logged copy-pasteably, its output streamed line by
// line with the step name, and its failure turned into a CommandError that explains itself.
import { execa, type Result } from "execa";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { renderCommand } from "./quote.js";
import type { Reporter } from "./events.js";
import { BootsmithError, EXIT } from "../core/errors.js";

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Bytes for the program's standard input (e.g. a script for `sh -s`). */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Exit codes other than 0 that mean success for this program (oscap: 2 = some rule failed). */
  readonly acceptExitCodes?: readonly number[];
}

export interface RunContext {
  readonly step: string;
  readonly reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM: the running process is terminated and run() rejects. */
  readonly signal?: AbortSignal;
}

export interface RunOptions {
  /** Keep the full stdout in the result (default true). Output is streamed either way. */
  readonly capture?: boolean;
  /** Do not log the command line (e.g. polling probes). Output still reaches the reporter. */
  readonly quiet?: boolean;
  /** Knows which output lines of this program say why it failed (they may be long before the tail). */
  readonly diagnosis?: OutputDiagnosis;
}

/** A program's failure vocabulary: which lines are causes, and a hint for the known ones. */
export interface OutputDiagnosis {
  isCause(line: string): boolean;
  /** The cause as the report shows it (default: the line itself, trimmed). */
  describe?(line: string): string;
  /** A line that takes back the last cause (ansible's "...ignoring" after an ignored failure). */
  isRetraction?(line: string): boolean;
  hint(causes: readonly string[]): string | undefined;
}

/** Cause lines kept per command: the first ones, which are what made it fail; later ones are usually consequences. */
const MAX_CAUSES = 5;

export interface RunResult {
  readonly stdout: string;
  readonly exitCode: number;
}

const TAIL_LINES = 30;

/** Debian packages that provide the programs bootsmith drives, for "not installed" hints. */
const PROVIDERS: Readonly<Record<string, string>> = {
  buildah: "buildah",
  skopeo: "skopeo",
  dnf: "dnf",
  zypper: "zypper",
  rpm: "rpm",
  rpmbuild: "rpm",
  createrepo_c: "createrepo-c",
  mmdebstrap: "mmdebstrap",
  mksquashfs: "squashfs-tools",
  unsquashfs: "squashfs-tools",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-system-aarch64": "qemu-system-arm",
  unshare: "util-linux",
  oscap: "openscap-scanner",
  // initramfs decompressors for the boot preflight
  zstd: "zstd",
  xz: "xz-utils",
  bzip2: "bzip2",
  lz4: "lz4",
  lzop: "lzop",
};

export class CommandError extends BootsmithError {
  constructor(
    message: string,
    readonly command: string,
    readonly step: string,
    /** The program's own exit code (bootsmith then exits with EXIT.failed). */
    readonly processExitCode: number | undefined,
    readonly signal: string | undefined,
    readonly timedOut: boolean,
    readonly outputTail: readonly string[],
    hint: string | undefined,
    options?: ErrorOptions,
    /** Output lines that say why it failed (from the command's diagnosis), in output order. */
    readonly causes: readonly string[] = [],
  ) {
    super(message, EXIT.failed, { ...options, ...(hint !== undefined ? { hint } : {}) });
  }

  /** The long form for failure reports: message, the cause lines, command, hint and the output's last lines. */
  get report(): string {
    const parts = [this.message];
    if (this.causes.length > 0) parts.push("  cause:", ...this.causes.map((l) => `    ${l}`));
    parts.push(`  command: ${this.command}`);
    if (this.hint) parts.push(`  hint: ${this.hint}`);
    if (this.outputTail.length > 0) parts.push("  last output:", ...this.outputTail.map((l) => `    ${l}`));
    return parts.join("\n");
  }
}

export function isCommandError(error: unknown): error is CommandError {
  return error instanceof CommandError;
}

export function missingProgramHint(file: string): string {
  const pkg = PROVIDERS[file.split("/").pop() ?? file];
  return pkg
    ? `\`${file}\` is not installed: apt-get install ${pkg} (bootsmith doctor checks everything at once)`
    : `\`${file}\` is not installed or not on PATH (bootsmith doctor checks the host)`;
}

export async function run(cmd: Command, ctx: RunContext, options: RunOptions = {}): Promise<RunResult> {
  const rendered = renderCommand(cmd.file, cmd.args, cmd.env);
  if (!options.quiet) ctx.reporter.emit({ type: "command", step: ctx.step, command: rendered });
  const tail: string[] = [];
  const causes: string[] = [];
  const onLine = (stream: "stdout" | "stderr") => (text: string) => {
    tail.push(text);
    if (tail.length > TAIL_LINES) tail.shift();
    const diagnosis = options.diagnosis;
    if (diagnosis?.isRetraction?.(text)) causes.pop();
    else if (diagnosis && causes.length < MAX_CAUSES && diagnosis.isCause(text)) causes.push(diagnosis.describe?.(text) ?? text.trim());
    ctx.reporter.emit({ type: "output", step: ctx.step, stream, line: text });
  };

  let result: Result;
  const captured: string[] = [];
  try {
    // The output is read from the pipes here, not through execa's line transforms: those cost
    // ~2 ms of CPU per command (measured), and a build runs ~30 commands.
    const subprocess = execa(cmd.file, [...cmd.args], {
      env: cmd.env ? { ...cmd.env } : undefined,
      cwd: cmd.cwd,
      input: cmd.input,
      stdin: cmd.input === undefined ? "ignore" : undefined,
      timeout: cmd.timeoutMs,
      cancelSignal: ctx.signal,
      forceKillAfterDelay: 5_000,
      reject: false,
      buffer: false,
    });
    const streams = [
      readLines(subprocess.stdout, onLine("stdout"), options.capture !== false ? (chunk) => captured.push(chunk) : undefined),
      readLines(subprocess.stderr, onLine("stderr")),
    ];
    result = await subprocess;
    await Promise.all(streams);
  } catch (error) {
    // execa rejects only for invalid options, not for process failures (reject: false).
    throw new CommandError(`[${ctx.step}] could not start ${cmd.file}: ${String(error)}`, rendered, ctx.step, undefined, undefined, false, tail, undefined, {
      cause: error,
    });
  }

  // As execa gives it: the output as written, without its final newline.
  const stdout = captured.join("").replace(/\r?\n$/, "");
  if (!result.failed) return { stdout, exitCode: 0 };
  const accepted = !result.timedOut && !result.isCanceled && !result.signal && result.exitCode !== undefined && cmd.acceptExitCodes?.includes(result.exitCode);
  if (accepted) return { stdout, exitCode: result.exitCode! };
  throw toCommandError(result, cmd, ctx.step, rendered, tail, causes, options.diagnosis);
}

/**
 * Hand each line of a program's output stream to `onLine` (without its \n or \r\n; a last line
 * without a newline too), and every chunk to `onChunk`; settles when the stream has ended.
 */
function readLines(stream: Readable | null, onLine: (line: string) => void, onChunk?: (chunk: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  let partial = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  stream.setEncoding("utf8"); // a character split across two chunks is decoded whole
  stream.on("data", (chunk: string) => {
    onChunk?.(chunk);
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    lines.forEach(emit);
  });
  return finished(stream).then(
    () => {
      if (partial !== "") emit(partial);
    },
    () => {}, // a pipe torn down with the process: its lines so far were handed on
  );
}

function toCommandError(
  result: Result,
  cmd: Command,
  step: string,
  rendered: string,
  tail: string[],
  causes: readonly string[],
  diagnosis: OutputDiagnosis | undefined,
): CommandError {
  const code = (result as { code?: string }).code;
  const missing = missingInImage(cmd, tail);
  let message: string;
  let hint: string | undefined;
  if (code === "ENOENT") {
    message = `[${step}] ${cmd.file}: command not found`;
    hint = missingProgramHint(cmd.file);
  } else if (result.exitCode === 127) {
    // The program started, so what was not found is something it ran: a script's command inside
    // the image (buildah run), not cmd.file itself.
    const said = causes[0] ?? tail.at(-1);
    message = `[${step}] ${cmd.file} exited with code 127: a program it ran was not found${said ? `: ${said}` : ""}`;
    hint = "install the missing program in the image (packages.install) or fix its name in the command";
  } else if (missing !== undefined) {
    message = `[${step}] ${cmd.file} exited with code ${result.exitCode}: ${missing} is not in the image`;
    hint = `install the package that provides ${missing} in the image (packages.install of this recipe, or of its parent), or fix the name in the command; dnf or zypper, if the image lacks them, run from the host with packages.options.installer: host`;
  } else if (result.timedOut) {
    message = `[${step}] ${cmd.file} timed out after ${Math.round((cmd.timeoutMs ?? 0) / 1000)} s and was stopped`;
    hint = "the step's timeout can be raised in the recipe (timeout: seconds) if the work is legitimately slow";
  } else if (result.isCanceled) {
    message = `[${step}] ${cmd.file} was interrupted`;
  } else if (result.signal) {
    message = `[${step}] ${cmd.file} was killed by ${result.signal}`;
  } else {
    message = `[${step}] ${cmd.file} exited with code ${result.exitCode}${causes[0] ? `: ${causes[0]}` : ""}`;
    hint = causes.length > 0 ? diagnosis?.hint(causes) : undefined;
  }
  return new CommandError(message, rendered, step, result.exitCode, result.signal, Boolean(result.timedOut), tail, hint, { cause: result }, causes);
}

/**
 * buildah run's words when the program it was to run is not in the image (it exits 1, not 127):
 * 'process failed to start with error: exec: "NAME": executable file not found in $PATH', or
 * '… fork/exec /PATH: no such file or directory' for a path. The program, or undefined.
 */
function missingInImage(cmd: Command, tail: readonly string[]): string | undefined {
  if (cmd.file.split("/").pop() !== "buildah" || !cmd.args.includes("run")) return undefined;
  for (const line of tail) {
    const m = /process failed to start with error: (?:exec: "([^"]+)": executable file not found in \$PATH|fork\/exec (\S+): no such file or directory)/.exec(
      line,
    );
    if (m) return m[1] ?? m[2];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// start(): long-running processes that are watched and stopped rather than awaited (QEMU in
// boot-test). Same door, same logging; output lines go to a listener as they arrive.

export interface ProcessExit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** Why it could not run at all (e.g. not installed, with the apt hint). */
  readonly startError?: string;
}

export interface StartOptions {
  /** Every output line, as it arrives (stdout and stderr). */
  readonly onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Also emit each line to the reporter as an "output" event (default false: noisy consoles). */
  readonly report?: boolean;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** The last output lines, for failure reports. */
  readonly outputTail: readonly string[];
  /** Send SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

export function start(cmd: Command, ctx: RunContext, options: StartOptions = {}): RunningProcess {
  const rendered = renderCommand(cmd.file, cmd.args, cmd.env);
  ctx.reporter.emit({ type: "command", step: ctx.step, command: rendered });
  const tail: string[] = [];
  const forward = (stream: "stdout" | "stderr") =>
    function* (line: unknown): Generator<string> {
      const text = String(line);
      tail.push(text);
      if (tail.length > TAIL_LINES) tail.shift();
      if (options.report) ctx.reporter.emit({ type: "output", step: ctx.step, stream, line: text });
      options.onLine?.(text, stream);
      yield text;
    };
  const subprocess = execa(cmd.file, [...cmd.args], {
    env: cmd.env ? { ...cmd.env } : undefined,
    cwd: cmd.cwd,
    stdin: "ignore",
    timeout: cmd.timeoutMs,
    cancelSignal: ctx.signal,
    forceKillAfterDelay: 5_000,
    reject: false,
    stdout: [forward("stdout")],
    stderr: [forward("stderr")],
    buffer: false,
  });
  const exited: Promise<ProcessExit> = subprocess.then(
    (result) => {
      const code = (result as { code?: string }).code;
      if (code === "ENOENT") return { exitCode: undefined, signal: undefined, startError: `${cmd.file}: command not found; ${missingProgramHint(cmd.file)}` };
      return { exitCode: result.exitCode, signal: result.signal };
    },
    // Only invalid options reject with reject: false; report them as an exit without a code.
    () => ({ exitCode: undefined, signal: undefined }),
  );
  return {
    pid: subprocess.pid,
    exited,
    outputTail: tail,
    async stop(graceMs = 5_000) {
      if (subprocess.exitCode === null && subprocess.signalCode === null) {
        subprocess.kill("SIGTERM");
        const timer = setTimeout(() => subprocess.kill("SIGKILL"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}
