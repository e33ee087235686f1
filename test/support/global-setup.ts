// The integration project's global setup: a directory for what the run's files share
// (run-shared.ts), and its teardown when the run ends, whichever file made what and however the
// run ended: the shared Ceph stopped (test/publish/support/shared-ceph.ts keeps its state in
// ceph/state), the shared parents' images removed (shared-parents.ts builds them into parents/).
// No vitest runtime here: this runs in vitest's main process.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { TestProject } from "vitest/node";
import { stopCephIn } from "../publish/support/ceph.js";
import type { Manifest } from "../../src/core/manifest.js";

export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bootsmith-run-shared-"));
  project.provide("runSharedDir", dir);
  return async () => {
    if (existsSync(join(dir, "ceph", "state"))) await stopCephIn(join(dir, "ceph", "state"));
    const parents = join(dir, "parents");
    for (const name of existsSync(parents) ? readdirSync(parents) : []) {
      const manifest = join(parents, name, "manifest.json");
      if (!existsSync(manifest)) continue;
      const { image } = JSON.parse(readFileSync(manifest, "utf8")) as Manifest;
      await execa("buildah", ["rmi", "-f", image.ref], { reject: false });
    }
    await rm(dir, { recursive: true, force: true });
  };
}
