// `bootsmith serve <dir>`: serve an artifact directory over HTTP for nodes or VMs to netboot from,
// until interrupted (SIGINT, SIGTERM, SIGHUP). Binds 127.0.0.1 unless --bind says otherwise.
import { UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { INTERRUPT_EXIT_CODES, onInterruptSignals, type InterruptSignal } from "../exec/signals.js";
import { parseCommandArgs } from "./args.js";
import { ServeError, startStaticServer } from "../serve/static-server.js";

const usage = `Usage: bootsmith serve <dir> [--port N] [--bind ADDRESS]

Serve the files of <dir> (vmlinuz, initramfs.img, rootfs.squashfs, …) over HTTP: GET and HEAD,
Content-Length, single byte ranges. Runs until interrupted (Ctrl-C / SIGTERM).

Options:
  --port N         port to listen on (default 8080; 0 picks a free one)
  --bind ADDRESS   address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --quiet          do not log requests

Example:
  bootsmith serve artifacts/debian-12-live/bookworm --port 8080
  # in QEMU user networking the guest reaches it as http://10.0.2.2:8080/
`;

export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UserError(`--port ${JSON.stringify(value)}: expected a number from 0 to 65535`);
  return port;
}

export const serveCommand: CliCommand = {
  name: "serve",
  summary: "Serve an artifact directory over HTTP (for netbooting nodes or VMs)",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("serve", args, {
      port: { type: "string" },
      bind: { type: "string" },
      quiet: { type: "boolean" },
    });
    if (positionals.length !== 1) throw new UserError(`bootsmith serve: expected one directory, got ${positionals.length}\n\n${usage}`);
    const port = parsePort(values.port, 8080);
    let server;
    try {
      server = await startStaticServer({
        root: positionals[0]!,
        host: values.bind ?? "127.0.0.1",
        port,
        onRequest: values.quiet
          ? undefined
          : (e) => process.stderr.write(`${e.remoteAddress ?? "-"} ${e.method} ${e.path} ${e.status} ${e.bytes}${e.range ? ` (${e.range})` : ""}\n`),
      });
    } catch (error) {
      if (error instanceof ServeError) throw new UserError(`bootsmith serve: ${error.message}`);
      throw error;
    }
    process.stdout.write(`serving ${positionals[0]} at ${server.url}/ (Ctrl-C to stop)\n`);
    let stopListening = () => {};
    const signal = await new Promise<InterruptSignal>((resolve) => {
      stopListening = onInterruptSignals(resolve);
    });
    stopListening();
    await server.close();
    // Stopping is how a serve session normally ends; report it like the other commands do.
    return INTERRUPT_EXIT_CODES[signal];
  },
};
