// The identity step, before the squashfs: the SBOMs beside the artifacts (from the package list
// and the image's os-release), the manifest so far inside the image as
// /usr/lib/bootsmith/manifest.json (without the rootfs digest: the squashfs cannot hold its own
// hash), and IMAGE_ID/IMAGE_VERSION in the image's os-release. The SBOMs go into the image as
// well (/usr/lib/bootsmith/sbom.*.json): a registry image carries its bill of materials, under
// its signature. The build and a hand-run `bootsmith artifacts image-identity` both do it here.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sha256Bytes } from "../core/hash.js";
import { IMAGE_MANIFEST_PATH, IMAGE_SBOM_DIR, SBOM_FILES } from "../core/manifest.js";
import { TOOL_VERSION } from "../core/version.js";
import { imagePackageManager } from "../recipe/load.js";
import { composeManifest, type ManifestInputs } from "./manifest-writer.js";
import { readOsRelease, writeImageIdentity } from "./os-release.js";
import { parsePackageList } from "./packages.js";
import { resolveInRoot } from "./rootfs-path.js";
import { sbomInput, writeSboms } from "./sbom/index.js";
import { imageContents } from "./sbom/image-contents.js";
import { silentReporter } from "../exec/events.js";
import type { RunContext } from "../exec/run.js";

export interface IdentityRequest {
  /** The mounted image root. */
  readonly root: string;
  readonly id: string;
  readonly version: string;
  /** What the manifest is made of; its outDir receives the SBOMs. */
  readonly manifest: ManifestInputs;
  /** For the host's xz/zstd, to read compressed kernel modules (default: a silent one). */
  readonly ctx?: RunContext;
}

export interface IdentityResult {
  /** The os-release file written. */
  readonly osRelease: string;
  /** sha256 of each SBOM (the same bytes beside the artifacts and in the image). */
  readonly sbomSha256: { readonly [K in keyof typeof SBOM_FILES]: string };
}

/** Writes the SBOMs (beside the artifacts and into the image), the in-image manifest and the os-release identity. */
export async function writeIdentity(request: IdentityRequest): Promise<IdentityResult> {
  const { root, manifest } = request;
  const spec = manifest.recipe.spec;
  const osRelease = readOsRelease(root);
  const created = manifest.sourceDateEpoch !== undefined ? new Date(manifest.sourceDateEpoch * 1000) : (manifest.builtAt ?? new Date());
  const image = {
    name: spec.name,
    version: spec.tags[0] ?? "latest",
    packageManager: imagePackageManager(manifest.recipe),
    inputDigest: manifest.recipe.inputDigest,
    created,
    toolVersion: TOOL_VERSION,
  };
  // Besides the package database: the kernel modules built for the selected kernel, the files the
  // recipes copied in, and the steps that changed the image unlisted.
  const contents = await imageContents(root, manifest.recipe, manifest.kernel?.version, request.ctx ?? { step: "identity", reporter: silentReporter });
  writeSboms(
    manifest.outDir,
    sbomInput(image, parsePackageList(manifest.packages), { distroId: osRelease.ID?.toLowerCase(), distroVersion: osRelease.VERSION_ID }, contents),
  );
  const inner = resolveInRoot(root, IMAGE_MANIFEST_PATH);
  mkdirSync(path.dirname(inner), { recursive: true });
  // With SOURCE_DATE_EPOCH the copy in the image (and so the squashfs) must not vary from build to
  // build: built at the epoch, without the step timings (manifest.json beside it keeps both).
  const composed = await composeManifest(manifest);
  const inImage = manifest.sourceDateEpoch !== undefined ? { ...composed, timings: [], builtAt: created.toISOString() } : composed;
  writeFileSync(inner, `${JSON.stringify(inImage, null, 2)}\n`, { mode: 0o644 });
  mkdirSync(resolveInRoot(root, IMAGE_SBOM_DIR), { recursive: true });
  const sha = (file: string) => {
    copyFileSync(path.join(manifest.outDir, file), resolveInRoot(root, `${IMAGE_SBOM_DIR}/${file}`));
    return sha256Bytes(readFileSync(path.join(manifest.outDir, file)));
  };
  const sbomSha256 = { sbomCycloneDx: sha(SBOM_FILES.sbomCycloneDx), sbomSpdx: sha(SBOM_FILES.sbomSpdx) };
  return { osRelease: writeImageIdentity(root, { id: request.id, version: request.version }), sbomSha256 };
}
