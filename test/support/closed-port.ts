// A 127.0.0.1 port that was free a moment ago: a connection there is refused. (fetch refuses
// low ports such as 1 or 9 outright as "bad port", before connecting.)
import { createServer, type AddressInfo } from "node:net";

export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
