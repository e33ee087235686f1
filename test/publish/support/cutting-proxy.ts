// A TCP proxy on 127.0.0.1 that cuts connections in the middle of large request bodies, to test
// how uploads survive dropped connections. It counts the bytes a client sent since the server
// last answered on that connection (≈ the current request, since the SDK waits for
// `100 Continue` and for each response), and destroys both sockets once that passes `cutAfter`.
import { createServer } from "node:net";
import { startRelay } from "./relay.js";

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
  const relay = await startRelay(createServer, target, () => {
    let sinceAnswer = 0;
    return {
      fromClient(chunk) {
        sinceAnswer += chunk.length;
        if (remaining <= 0 || sinceAnswer <= cutAfter) return chunk;
        cuts++;
        remaining--;
        return "cut";
      },
      fromServer() {
        sinceAnswer = 0;
      },
    };
  });
  return {
    endpoint: `http://127.0.0.1:${relay.port}`,
    get cuts() {
      return cuts;
    },
    setBudget(n: number) {
      remaining = n;
    },
    close: relay.close,
  };
}
