// Shared setup for tests that run real builds through the CLI.
import { readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { Manifest } from "../../src/core/manifest.js";

/** A build's environment: only the caller's PATH, and work and package caches under `work`. */
export function buildEnv(work: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", BOOTSMITH_WORK_DIR: path.join(work, "work"), BOOTSMITH_CACHE_DIR: path.join(work, "cache") };
}

/** Remove images a test committed (`name:tag` under localhost/bootsmith); absent ones are fine. */
export async function removeImages(images: readonly string[]): Promise<void> {
  for (const image of images) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
}

/** The manifest.json a build wrote to `dir`. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
}

/** Every path in a squashfs, absolute (`/etc/motd`). */
export async function squashfsListing(file: string): Promise<string[]> {
  const { stdout } = await execa("unsquashfs", ["-lc", "-d", "", file]);
  return stdout.split("\n");
}
