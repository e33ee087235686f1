// One Ceph for the integration run's S3 tests that only need a server with their own buckets:
// starting one takes ~20 s (more on a loaded host), and four files used to start their own. The
// first file that asks starts it in the run's shared directory (test/support/run-shared.ts; the
// global setup stops it when the run ends); the others find its address there. Files that kill
// radosgw or test the tool itself keep a private one (startCeph).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startCeph, startCephIn, type CephS3 } from "./ceph.js";
import { claim, publish, runSharedPath } from "../../support/run-shared.js";
import { waitForAnyFile } from "../../support/wait-for-file.js";

const START_TIMEOUT_MS = 180_000;

/** The run's shared Ceph (its stop() does nothing), or a private one outside a run that provides it. */
export async function sharedCeph(): Promise<CephS3> {
  const dir = process.env.TEST_S3_ENDPOINT ? undefined : runSharedPath("ceph");
  if (!dir) return startCeph();
  const ready = join(dir, "ready.json");
  const failed = join(dir, "failed.txt");
  if (claim(join(dir, "starting"))) {
    try {
      const { endpoint, accessKeyId, secretAccessKey } = await startCephIn(join(dir, "state"));
      publish(ready, JSON.stringify({ endpoint, accessKeyId, secretAccessKey }));
    } catch (error) {
      publish(failed, String(error));
      throw error;
    }
  }
  if ((await waitForAnyFile([ready, failed], START_TIMEOUT_MS)) === failed) throw new Error(`the shared Ceph did not start: ${readFileSync(failed, "utf8")}`);
  const server = JSON.parse(readFileSync(ready, "utf8")) as Pick<CephS3, "endpoint" | "accessKeyId" | "secretAccessKey">;
  return { ...server, stop: async () => {} };
}
