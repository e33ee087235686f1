// A small static HTTP file server for boot artifacts: what iPXE and dracut's livenet fetch from
// during `boot-test`, and what `bootsmith serve` offers a lab. GET and HEAD only, files streamed
// from disk with Content-Length (iPXE shows progress with it; livenet's curl checks it), single
// byte ranges (curl resumes with them). Extra in-memory files (a generated boot.ipxe) are served
// next to the directory's files without writing into the artifact directory.
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { BootsmithError, EXIT } from "../core/errors.js";

export interface StaticServerOptions {
  /** Directory whose regular files are served (not recursively listed; subpaths allowed). */
  readonly root: string;
  /** Address to bind; 127.0.0.1 by default, so nothing is exposed beyond the host by accident. */
  readonly host?: string;
  /** Port; 0 (default) picks a free ephemeral port. */
  readonly port?: number;
  /**
   * In-memory files by URL path ("/boot.ipxe"); they shadow files on disk. Looked up per
   * request, so a caller can add a file that needs the server's port after it started.
   */
  readonly extraFiles?: ReadonlyMap<string, StaticExtraFile>;
  /** Called once per answered request (for logs and for tests that check what was fetched). */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** Called when a response has been sent in full or cut off: the access log with timings. */
  readonly onComplete?: (entry: CompletedRequest) => void;
}

/** A finished request; times are performance.now() milliseconds on the server's clock. */
export interface CompletedRequest extends RequestLogEntry {
  readonly startMs: number;
  readonly endMs: number;
  /** The response was ended normally (not cut off). */
  readonly complete: boolean;
}

export interface StaticExtraFile {
  readonly body: string | Buffer;
  readonly contentType?: string;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Bytes of body announced (Content-Length), 0 for HEAD and errors. */
  readonly bytes: number;
  readonly range?: string;
  readonly remoteAddress?: string;
}

export interface StaticServer {
  readonly host: string;
  readonly port: number;
  /** http://host:port (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

export class ServeError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "ServeError";
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".ipxe": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
};

function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

export type ByteRange =
  { readonly kind: "none" } | { readonly kind: "range"; readonly start: number; readonly end: number } | { readonly kind: "unsatisfiable" };

/**
 * Parse a Range header for a body of `size` bytes. Only a single `bytes=` range is honoured;
 * multi-range requests get the whole body (allowed by RFC 9110 §14.2), which no boot loader asks
 * for anyway.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return { kind: "none" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return { kind: "none" };
  const [, first = "", last = ""] = m;
  if (first === "" && last === "") return { kind: "none" };
  if (first === "") {
    // suffix range: the last N bytes
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}

/** Map a URL path to a file under root, or undefined if it would escape root. */
function resolveUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const file = path.resolve(root, "." + path.posix.normalize("/" + decoded));
  return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = path.resolve(options.root);
  const rootStat = await stat(root).catch((error: unknown) => {
    throw new ServeError(`cannot serve ${root}: ${(error as Error).message}`, { cause: error });
  });
  if (!rootStat.isDirectory()) throw new ServeError(`cannot serve ${root}: not a directory`);
  const realRoot = await realpath(root);
  const host = options.host ?? "127.0.0.1";
  const extra = options.extraFiles ?? new Map<string, StaticExtraFile>();

  // Body bytes each response announced, for the completion log.
  const announced = new WeakMap<IncomingMessage, number>();
  const server = createServer((req, res) => {
    if (options.onComplete) trackCompletion(req, res, () => announced.get(req) ?? 0, options.onComplete);
    handle(req, res).catch((error: unknown) => {
      // A failure after headers were sent can only be signalled by cutting the connection.
      if (!res.headersSent) finish(req, res, 500, `internal error: ${(error as Error).message}\n`);
      else res.destroy(error as Error);
    });
  });

  const log = (req: IncomingMessage, status: number, bytes: number) => {
    announced.set(req, bytes);
    options.onRequest?.({
      method: req.method ?? "?",
      path: req.url ?? "?",
      status,
      bytes,
      range: req.headers.range,
      remoteAddress: req.socket.remoteAddress,
    });
  };

  function finish(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
    const body = Buffer.from(text);
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(body.length), ...headers });
    res.end(req.method === "HEAD" ? undefined : body);
    log(req, status, req.method === "HEAD" ? 0 : body.length);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      finish(req, res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
      return;
    }
    const urlPath = new URL(req.url ?? "/", "http://x").pathname;
    const inMemory = extra.get(urlPath);
    if (inMemory) {
      const body = typeof inMemory.body === "string" ? Buffer.from(inMemory.body) : inMemory.body;
      sendBody(req, res, body.length, inMemory.contentType ?? contentTypeFor(urlPath), (start, end) => {
        res.end(body.subarray(start, end + 1));
      });
      return;
    }
    // Through symbolic links only to files that stay inside the served directory: a link to
    // /etc/shadow dropped into an artifact directory must not be served.
    const requested = resolveUnder(root, urlPath);
    const real = requested ? await realpath(requested).catch(() => undefined) : undefined;
    const file = real && real.startsWith(realRoot + path.sep) ? real : undefined;
    const st = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !st || !st.isFile()) {
      finish(req, res, 404, "not found\n");
      return;
    }
    sendBody(req, res, st.size, contentTypeFor(file), (start, end) => {
      if (end < start) {
        res.end();
        return;
      }
      const stream = createReadStream(file, { start, end });
      stream.on("error", (error) => res.destroy(error));
      stream.pipe(res);
    });
  }

  function sendBody(req: IncomingMessage, res: ServerResponse, size: number, type: string, write: (start: number, end: number) => void) {
    const range = parseRange(req.headers.range, size);
    switch (range.kind) {
      case "unsatisfiable":
        finish(req, res, 416, "range not satisfiable\n", { "Content-Range": `bytes */${size}` });
        return;
      case "range": {
        const length = range.end - range.start + 1;
        res.writeHead(206, {
          "Content-Type": type,
          "Content-Length": String(length),
          "Content-Range": `bytes ${range.start}-${range.end}/${size}`,
          "Accept-Ranges": "bytes",
        });
        log(req, 206, req.method === "HEAD" ? 0 : length);
        if (req.method === "HEAD") res.end();
        else write(range.start, range.end);
        return;
      }
      case "none":
        res.writeHead(200, { "Content-Type": type, "Content-Length": String(size), "Accept-Ranges": "bytes" });
        log(req, 200, req.method === "HEAD" ? 0 : size);
        if (req.method === "HEAD") res.end();
        else write(0, size - 1);
        return;
      default: {
        const never: never = range;
        throw new Error(`unhandled range ${JSON.stringify(never)}`);
      }
    }
  }

  await listen(server, host, options.port ?? 0);
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (iPXE, curl) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function trackCompletion(req: IncomingMessage, res: ServerResponse, bytes: () => number, onComplete: (entry: CompletedRequest) => void): void {
  const startMs = performance.now();
  res.once("close", () => {
    onComplete({
      method: req.method ?? "?",
      path: req.url ?? "?",
      status: res.statusCode,
      bytes: bytes(),
      range: req.headers.range,
      remoteAddress: req.socket.remoteAddress,
      startMs,
      endMs: performance.now(),
      complete: res.writableFinished,
    });
  });
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      // serve and boot-test both take --port; only serve takes --bind.
      const why =
        error.code === "EADDRINUSE"
          ? "the port is in use (another server, or a bootsmith serve still running): give another --port, or --port 0 for a free one"
          : error.code === "EADDRNOTAVAIL"
            ? "the address is not on this host: bind one of its own addresses (127.0.0.1, or 0.0.0.0 for all of them)"
            : error.message;
      reject(new ServeError(`cannot listen on ${host}:${port}: ${why}`, { cause: error }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
