// What the test proxies in this folder share: a server on 127.0.0.1 that connects each client to
// the target and relays the bytes both ways (with backpressure), keeps every socket so that
// close() can end them, and lets each proxy decide per connection what happens to what the client
// sends: passed on, changed, or the connection cut.
import { connect, type Server, type Socket } from "node:net";

export interface Relay {
  /** A chunk the client sent: what to send the server instead, or "cut" to end both sockets. */
  fromClient(chunk: Buffer): Buffer | "cut";
  /** A chunk the server sent, on its way to the client. */
  fromServer?(chunk: Buffer): void;
}

export interface RunningRelay {
  readonly port: number;
  close(): Promise<void>;
}

export const passThrough = (): Relay => ({ fromClient: (chunk) => chunk });

/**
 * Listen on 127.0.0.1 (a free port) with the server `listen` makes around the connection handler
 * (a net server for http, a tls one for https), relaying each connection to `target` through the
 * hooks `relay()` returns for it.
 */
export async function startRelay(listen: (onClient: (client: Socket) => void) => Server, target: URL, relay: () => Relay): Promise<RunningRelay> {
  const sockets = new Set<Socket>();
  const server = listen((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const hooks = relay();
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    sockets.add(client);
    sockets.add(upstream);
    client.on("data", (chunk: Buffer) => {
      const out = hooks.fromClient(chunk);
      if (out === "cut") end();
      else forward(out, upstream, client);
    });
    upstream.on("data", (chunk: Buffer) => {
      hooks.fromServer?.(chunk);
      forward(chunk, client, upstream);
    });
    for (const socket of [client, upstream]) socket.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Write to `to`; while its buffer is full, stop reading from `from`. */
function forward(chunk: Buffer, to: Socket, from: Socket): void {
  if (!to.write(chunk)) {
    from.pause();
    to.once("drain", () => from.resume());
  }
}
