// An https front for a plain-http server, with a throwaway CA made by openssl, to test S3 over
// https with a private CA (caFile).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createServer } from "node:tls";
import { silentReporter } from "../../../src/exec/events.js";
import { run } from "../../../src/exec/run.js";
import { passThrough, startRelay } from "./relay.js";

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

  const tls = { key: await readFile(f("server.key")), cert: await readFile(f("server.pem")) };
  const relay = await startRelay((onClient) => createServer(tls, onClient), target, passThrough);
  return { endpoint: `https://127.0.0.1:${relay.port}`, caFile: f("ca.pem"), close: relay.close };
}
