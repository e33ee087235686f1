// A TCP proxy on 127.0.0.1 that flips one bit of what a client sends, once, after `flipAfter`
// bytes on a connection (past the headers, inside a large body): a network that corrupts or
// alters a body in transit. Plain http, where the payload stays signed (src/publish/s3-payload.ts).
import { createServer } from "node:net";
import { startRelay } from "./relay.js";

export interface CorruptingProxy {
  readonly endpoint: string;
  /** Bits flipped so far (0 or 1). */
  readonly flips: number;
  close(): Promise<void>;
}

export async function startCorruptingProxy(target: URL, flipAfter: number): Promise<CorruptingProxy> {
  let flips = 0;
  const relay = await startRelay(createServer, target, () => {
    let sent = 0;
    return {
      fromClient(chunk) {
        const at = flipAfter - sent;
        sent += chunk.length;
        if (flips === 0 && at >= 0 && at < chunk.length) {
          chunk.writeUInt8(chunk.readUInt8(at) ^ 0x01, at);
          flips++;
        }
        return chunk;
      },
    };
  });
  return {
    endpoint: `http://127.0.0.1:${relay.port}`,
    get flips() {
      return flips;
    },
    close: relay.close,
  };
}
