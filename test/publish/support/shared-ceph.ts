// One Ceph for the integration run's S3 tests that only need a server with their own buckets:
// starting one takes ~20 s (more on a loaded host), and four files used to start their own. The
// first file that asks starts it in the directory the run's global setup provides
// (test/support/global-setup.ts, which stops it when the run ends); the others find its address
// there. Files that kill radosgw or test the tool itself keep a private one (startCeph).
import { closeSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { startCeph, startCephIn, type CephS3 } from "./ceph.js";
import { waitForAnyFile } from "../../support/wait-for-file.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where the run's shared Ceph keeps its state and address (test/support/global-setup.ts). */
    sharedCephDir: string;
  }
}

const START_TIMEOUT_MS = 180_000;

/** The run's shared Ceph (its stop() does nothing), or a private one outside a run that provides it. */
export async function sharedCeph(): Promise<CephS3> {
  const dir = inject("sharedCephDir");
  if (process.env.TEST_S3_ENDPOINT || !dir) return startCeph();
  const ready = join(dir, "ready.json");
  const failed = join(dir, "failed.txt");
  if (claim(join(dir, "starting"))) {
    try {
      const { endpoint, accessKeyId, secretAccessKey } = await startCephIn(join(dir, "ceph"));
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

/** True for the one caller that creates `file` (O_EXCL), false for every other. */
function claim(file: string): boolean {
  try {
    closeSync(openSync(file, "wx"));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Writes `file` whole, then renames it into place, so a waiter never reads half of it. */
function publish(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
