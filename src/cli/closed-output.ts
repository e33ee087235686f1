// A reader that goes away (`bootsmith plan … | head`, the log pipe of a runner that died, the
// terminal of an ssh session that dropped) makes the next write to stdout or stderr fail with
// EPIPE (a pipe) or EIO (a terminal that hung up). Node reports that as an uncaught 'error'
// event: a stack trace, and a build killed between two steps with its container and mount left
// behind. What the command still has to print is dropped instead; it runs on (or cleans up after
// the signal that came with the hang-up), and a build's whole record stays in its build.log.
const CLOSED_OUTPUT_CODES = new Set(["EPIPE", "EIO"]);

export function dropOutputToClosedReaders(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (!CLOSED_OUTPUT_CODES.has(error.code ?? "")) throw error;
    });
  }
}
