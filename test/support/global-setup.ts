// The integration project's global setup: a directory for the run's shared Ceph
// (test/publish/support/shared-ceph.ts), which the first S3 test starts, and its stop when the
// run ends, whichever file started it and however the run ended.
import { existsSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { stopCephIn } from "../publish/support/ceph.js";

export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bootsmith-shared-ceph-"));
  project.provide("sharedCephDir", dir);
  return async () => {
    if (existsSync(join(dir, "ceph"))) await stopCephIn(join(dir, "ceph"));
    await rm(dir, { recursive: true, force: true });
  };
}
