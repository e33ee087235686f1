// Shared setup for tests that run real builds through the CLI.
import path from "node:path";
import { execa } from "execa";

/** A build's environment: only the caller's PATH, and work and package caches under `work`. */
export function buildEnv(work: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work"), BOOTSMITH_CACHE_DIR: path.join(work, "cache") };
}

/** Remove images a test committed (`name:tag` under localhost/bootsmith); absent ones are fine. */
export async function removeImages(images: readonly string[]): Promise<void> {
  for (const image of images) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
}
