// Shared setup for tests that run real builds through the CLI.
import { readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
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

/** A recipe on the fixture RPM repository (test/support/rpm-repo.ts), built with dnf. */
export interface FixtureRecipe {
  readonly name: string;
  /** The repository's URL; by default `${REPO_URL}`, given with `--var REPO_URL=…`. */
  readonly baseurl?: string;
  readonly from?: "scratch" | { readonly recipe: string } | { readonly image: string };
  /** dnf groups; by default fixture-minimal (fixture-base: /etc/passwd and a shell). */
  readonly packageGroups?: readonly string[];
  /** Packages; by default a kernel and the dracut stand-in. */
  readonly install?: readonly string[];
  /** packages.options */
  readonly packageOptions?: Readonly<Record<string, unknown>>;
  /** boot: false, or keys over the default boot (a serial console, root=live:). */
  readonly boot?: false | Readonly<Record<string, unknown>>;
  /** Any other top-level keys: files, commands, users, groups, publish … */
  readonly keys?: Readonly<Record<string, unknown>>;
}

/** The YAML text of a fixture recipe: the one place the tests spell the fixture repository's dnf stanza. */
export function fixtureRecipe(r: FixtureRecipe): string {
  const packageGroups = r.packageGroups ?? ["fixture-minimal"];
  const install = r.install ?? ["fixture-kernel-5.14.0-10.fx", "fixture-dracut"];
  return stringify({
    apiVersion: "bootsmith/v1",
    name: r.name,
    tags: ["1"],
    from: r.from ?? "scratch",
    packages: {
      manager: "dnf",
      release: "1",
      repos: [{ name: "fixture", baseurl: r.baseurl ?? "${REPO_URL}" }],
      ...(packageGroups.length > 0 ? { groups: packageGroups } : {}),
      ...(install.length > 0 ? { install } : {}),
      ...(r.packageOptions ? { options: r.packageOptions } : {}),
    },
    ...r.keys,
    boot: r.boot === false ? false : { params: "console=ttyS0 root=live:{{ rootfs.url }}", ...r.boot },
  });
}
