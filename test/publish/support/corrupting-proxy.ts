// A TCP proxy that flips one byte of what a client sends, once, after `flipAfter` bytes on a
// connection (past the headers, inside a large body): a network that corrupts or alters a body in
// transit. It listens on 127.0.0.1 with plain http, where the payload stays signed
// (src/publish/s3-payload.ts).
import { createServer, connect, type Server, type Socket } from "node:net";

export interface CorruptingProxy {
  readonly endpoint: string;
  /** Bytes flipped so far (0 or 1). */
  readonly flips: number;
  close(): Promise<void>;
}

export async function startCorruptingProxy(target: URL, flipAfter: number): Promise<CorruptingProxy> {
  let flips = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    client.on("data", (chunk: Buffer) => {
      const at = flipAfter - sent;
      sent += chunk.length;
      if (flips === 0 && at >= 0 && at < chunk.length) {
        chunk.writeUInt8(chunk.readUInt8(at) ^ 0x01, at);
        flips++;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on("close", close);
      socket.on("error", close);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get flips() {
      return flips;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
