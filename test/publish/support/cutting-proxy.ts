// A TCP proxy on 127.0.0.1 that cuts connections in the middle of large request bodies, to test
// how uploads survive dropped connections. It counts the bytes a client sent since the server
// last answered on that connection (≈ the current request, since the SDK waits for
// `100 Continue` and for each response), and destroys both sockets once that passes `cutAfter`.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface CuttingProxy {
  readonly endpoint: string;
  /** Connections cut so far. */
  readonly cuts: number;
  /** How many more connections to cut (Infinity: all that cross the threshold). */
  setBudget(cuts: number): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: URL, cutAfter: number, budget: number): Promise<CuttingProxy> {
  let remaining = budget;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let sinceAnswer = 0;
    const cut = () => {
      cuts++;
      remaining--;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      sinceAnswer += chunk.length;
      if (remaining > 0 && sinceAnswer > cutAfter) {
        cut();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      sinceAnswer = 0;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    setBudget(n: number) {
      remaining = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
