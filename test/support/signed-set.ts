// A small signed artifact set, without a build: random "kernel", "initrd" and "rootfs" files, the
// SBOMs of an image without packages (verify checks they describe the set's image), a manifest.json that lists them with sha256/size, then SHA256SUMS and SHA256SUMS.sig
// written by bootsmith's own signer with a real gpg key. For verify and register tests.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { ARTIFACT_FILES, type ArtifactRole } from "../../src/core/manifest.js";
import { sha256Bytes } from "../../src/core/hash.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import { signArtifactDir } from "../../src/sign/sign-dir.js";
import { sbomInput } from "../../src/builder/sbom/index.js";
import { cycloneDxJson } from "../../src/builder/sbom/cyclonedx.js";
import { spdxJson } from "../../src/builder/sbom/spdx.js";
import type { TestKey } from "./gpg-keys.js";

const SIZES: Record<Exclude<ArtifactRole, "sbomCycloneDx" | "sbomSpdx">, number> = { kernel: 300_000, initrd: 700_000, rootfs: 3_000_000 };

/** Write the set into `dir` (name/tag as given) and sign it with `key` (unless `sign` is false). */
export async function makeSignedSet(dir: string, key: TestKey | undefined, name = "signed-image", tag = "1"): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const artifacts: Record<string, { file: string; sha256: string; size: number }> = {};
  const sbom = sbomInput({ name, version: tag, packageManager: "none", inputDigest: "0".repeat(64), created: new Date(0), toolVersion: "0.1.0" }, [], {});
  for (const [role, file] of Object.entries(ARTIFACT_FILES) as [ArtifactRole, string][]) {
    const bytes = role === "sbomCycloneDx" ? Buffer.from(cycloneDxJson(sbom)) : role === "sbomSpdx" ? Buffer.from(spdxJson(sbom)) : randomBytes(SIZES[role]);
    writeFileSync(path.join(dir, file), bytes);
    artifacts[role] = { file, sha256: sha256Bytes(bytes), size: bytes.length };
  }
  const manifest = {
    schemaVersion: 1,
    name,
    tags: [tag],
    arch: "x86_64",
    inputDigest: "0".repeat(64),
    recipeFile: "test.yaml",
    base: { kind: "scratch" },
    image: { ref: `localhost/bootsmith/${name}:${tag}` },
    artifacts,
    params: "console=ttyS0 root=live:{{ rootfs.url }}",
    packages: [],
    packageManager: "none",
    tools: {},
    timings: [],
    builtAt: new Date(0).toISOString(),
  };
  writeFileSync(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!key) return;
  const cleanup = new CleanupStack();
  const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup });
  try {
    await signArtifactDir(dir, signer, { step: "test", reporter: silentReporter });
  } finally {
    await signer.close();
  }
}

/** Tamper with one byte of a file in place (the size stays). */
export function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
}
