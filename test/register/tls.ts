// A throwaway CA and a server certificate for 127.0.0.1 it signed, made with openssl (through
// run(), the one door to processes), for testing registration against an https boot service.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";

export interface TestPki {
  readonly caFile: string;
  readonly key: string;
  readonly cert: string;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  const ctx = { step: "test-pki", reporter: silentReporter };
  const p = (f: string) => join(dir, f);
  const openssl = (args: string[]) => run({ file: "openssl", args }, ctx, { quiet: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await writeFile(p("san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  await openssl(["req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=bootsmith test CA"]);
  await openssl(["req", ...ec, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"]);
  await openssl([
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("server.pem"),
    "-days",
    "2",
    "-extfile",
    p("san.cnf"),
  ]);
  return { caFile: p("ca.pem"), key: await readFile(p("server.key"), "utf8"), cert: await readFile(p("server.pem"), "utf8") };
}
