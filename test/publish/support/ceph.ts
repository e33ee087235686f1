// Start and stop a Ceph RGW for S3 tests with the tool vendored in test/support
// (ceph-s3.ORIGIN.md), so a plain clone runs them. shared-ceph.ts shares one among files.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../../src/exec/run.js";
import { silentReporter } from "../../../src/exec/events.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CEPH_TOOL = resolve(REPO_ROOT, "test/support/ceph-s3.sh");

export interface CephS3 {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The tool's state directory (pid files under run/); absent when reusing TEST_S3_ENDPOINT. */
  readonly dir?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Start a private Ceph (own state dir, own free RGW and monitor ports, so two instances, from
 * two checkouts or a test and a benchmark, cannot collide). TEST_S3_ENDPOINT/TEST_S3_ACCESS_KEY/TEST_S3_SECRET_KEY reuse a running server instead.
 */
export async function startCeph(): Promise<CephS3> {
  const reuse = process.env.TEST_S3_ENDPOINT;
  if (reuse) {
    return {
      endpoint: reuse,
      accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? "TESTACCESSKEY",
      secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? "TESTSECRETKEY0123456789",
      stop: async () => {},
    };
  }
  return startCephIn(await mkdtemp(join(tmpdir(), "bootsmith-ceph-")));
}

/** Start a Ceph with its state in `dir` (removed by stop), on free ports. */
export async function startCephIn(dir: string): Promise<CephS3 & { readonly dir: string }> {
  const rgwPort = await freePort();
  let monPort = await freePort();
  while (monPort === rgwPort) monPort = await freePort();
  const env = { ...process.env, DIR: dir, RGW_PORT: String(rgwPort), MON_PORT: String(monPort) } as Record<string, string>;
  const stop = () => stopCephIn(dir);
  try {
    const { stdout } = await run({ file: "bash", args: [CEPH_TOOL, "start"], env, timeoutMs: 110_000 }, { step: "ceph", reporter: silentReporter });
    const last = stdout.trim().split("\n").pop() ?? "";
    const values = Object.fromEntries(last.split(" ").map((pair) => pair.split("=", 2) as [string, string]));
    const endpoint = values.S3_ENDPOINT;
    const accessKeyId = values.S3_ACCESS_KEY;
    const secretAccessKey = values.S3_SECRET_KEY;
    if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error(`unexpected last line from ceph-s3.sh: ${last}`);
    return { endpoint, accessKeyId, secretAccessKey, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Stop the Ceph whose state is in `dir` (its daemons' pid files) and remove the directory. */
export async function stopCephIn(dir: string): Promise<void> {
  const env = { ...process.env, DIR: dir } as Record<string, string>;
  await run({ file: "bash", args: [CEPH_TOOL, "stop"], env }, { step: "ceph", reporter: silentReporter }).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}
