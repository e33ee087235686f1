// Build a fake artifact directory (random bytes, a real manifest) like `bootsmith build` leaves.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest } from "../../../src/core/manifest.js";

export interface FakeImage {
  readonly dir: string;
  readonly manifest: Manifest;
  /** sha256 per published file name. */
  readonly sha256: Readonly<Record<string, string>>;
}

export interface FakeImageOptions {
  readonly name?: string;
  readonly tags?: readonly string[];
  /** Bytes per artifact; a role left out is absent from the image. */
  readonly sizes?: Partial<Record<"kernel" | "initrd" | "rootfs", number>>;
  readonly dir?: string;
  /** manifest.json's builtAt (default 2026-11-26T00:00:00Z). */
  readonly builtAt?: string;
}

const FILES = { kernel: "vmlinuz", initrd: "initramfs.img", rootfs: "rootfs.squashfs" } as const;

export async function makeFakeImage(options: FakeImageOptions = {}): Promise<FakeImage> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "bootsmith-pub-")));
  const sizes = options.sizes ?? { kernel: 1 << 20, initrd: 3 << 20, rootfs: 24 << 20 };
  const artifacts: Record<string, { file: string; sha256: string; size: number }> = {};
  const sha256: Record<string, string> = {};
  for (const [role, size] of Object.entries(sizes) as [keyof typeof FILES, number][]) {
    const bytes = randomBytes(size);
    const file = FILES[role];
    await writeFile(join(dir, file), bytes);
    const digest = createHash("sha256").update(bytes).digest("hex");
    artifacts[role] = { file, sha256: digest, size };
    sha256[file] = digest;
  }
  const manifest: Manifest = {
    schemaVersion: 1,
    name: options.name ?? "test-image",
    tags: options.tags ?? ["1.0", "latest"],
    arch: "x86_64",
    inputDigest: "0".repeat(64),
    recipeFile: "recipes/test.yaml",
    base: { kind: "scratch" },
    image: { ref: "localhost/test-image:1.0" },
    kernel: { version: "6.1.0-test-amd64" },
    artifacts,
    packages: [],
    packageManager: "apt",
    tools: {},
    timings: [],
    builtAt: options.builtAt ?? "2026-11-26T00:00:00Z",
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + "\n");
  await writeFile(join(dir, "manifest.json"), manifestBytes);
  sha256["manifest.json"] = createHash("sha256").update(manifestBytes).digest("hex");
  return { dir, manifest, sha256 };
}
