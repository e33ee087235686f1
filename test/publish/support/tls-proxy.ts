// An https front for a plain-http server, with a throwaway CA made by openssl, to test S3 over
// https with a private CA (caFile).
import { readFile, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { createServer } from "node:tls";
import { silentReporter } from "../../../src/exec/events.js";
import { run } from "../../../src/exec/run.js";

export interface TlsProxy {
  readonly endpoint: string;
  /** PEM of the CA that signed the proxy's certificate. */
  readonly caFile: string;
  close(): Promise<void>;
}

export async function startTlsProxy(target: URL, dir: string): Promise<TlsProxy> {
  const ctx = { step: "tls", reporter: silentReporter };
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run({ file: "openssl", args }, ctx);
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=bootsmith test CA");
  await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1");
  await writeFile(f("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("server.pem"),
    "-days",
    "1",
    "-extfile",
    f("ext.cnf"),
  );

  const sockets = new Set<Socket>();
  const server = createServer({ key: await readFile(f("server.key")), cert: await readFile(f("server.pem")) }, (client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caFile: f("ca.pem"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
