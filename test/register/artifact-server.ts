// A tiny static file server for the artifact URLs registration checks (HEAD) before writing.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ArtifactServer {
  readonly url: string;
  /** Files served, by path ("/img/vmlinuz"); mutate to make artifacts appear or disappear. */
  readonly files: Map<string, string>;
  readonly requests: { method: string; path: string }[];
  /** Resolves at the first request for `path` (already made or still to come). */
  waitFor(path: string): Promise<void>;
  stop(): Promise<void>;
}

/** `refuseHead`: answer HEAD with this status (like servers without HEAD, or URLs presigned for GET). */
export async function startArtifactServer(files: Record<string, string>, options: { refuseHead?: number } = {}): Promise<ArtifactServer> {
  const map = new Map(Object.entries(files));
  const requests: { method: string; path: string }[] = [];
  const waiters: { path: string; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "GET", path });
    for (const w of waiters.filter((w) => w.path === path)) w.resolve();
    if (req.method === "HEAD" && options.refuseHead) {
      res.writeHead(options.refuseHead).end();
      return;
    }
    const body = map.get(path);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Length": Buffer.byteLength(body), "Content-Type": "application/octet-stream" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    files: map,
    requests,
    waitFor: (path) => (requests.some((r) => r.path === path) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ path, resolve }))),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
