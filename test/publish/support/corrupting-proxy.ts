// A TCP proxy that flips one byte of what a client sends, once, after `flipAfter` bytes on a
// connection (past the headers, inside a large body): a network that corrupts or alters a body in
// transit. It listens on this machine's first non-loopback address, so the client sees a plain
// http endpoint that is not loopback, the case where the payload stays signed
// (src/publish/s3-payload.ts).
import { createServer, connect, type Server, type Socket } from "node:net";
import { networkInterfaces } from "node:os";

export interface CorruptingProxy {
  readonly endpoint: string;
  /** Bytes flipped so far (0 or 1). */
  readonly flips: number;
  close(): Promise<void>;
}

/** This machine's first non-internal IPv4 address (IPv6 if it has none); throws if it has neither. */
export function externalAddress(): { address: string; url: string } {
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal);
  const v4 = all.find((a) => a!.family === "IPv4");
  if (v4) return { address: v4.address, url: v4.address };
  const v6 = all.find((a) => a!.family === "IPv6" && !a!.address.startsWith("fe80"));
  if (v6) return { address: v6.address, url: `[${v6.address}]` };
  throw new Error("this machine has no non-loopback network address for the corrupting proxy to listen on");
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
  const { address, url } = externalAddress();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : 0;
  return {
    endpoint: `http://${url}:${port}`,
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
