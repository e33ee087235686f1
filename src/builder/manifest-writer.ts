// manifest.json: the artifacts' sha256 and sizes, and what went into them (recipe, base, image,
// kernel, packages, tools, timings). Written last, atomically: its presence means the set is
// complete. The build and a hand-run `bootsmith artifacts write-manifest` both write it here.
import { existsSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import { imagePackageManager, localImageRef } from "../recipe/load.js";
import { inputDigests } from "../recipe/inputs.js";
import { baseRef, compressionArgs } from "../plan/planner.js";
import { sha256File } from "../core/hash.js";
import { ARTIFACT_FILES, MANIFEST_FILE, type ArtifactRecord, type ArtifactRole, type Manifest, type ScanRecord, type StepTiming } from "../core/manifest.js";
import { parsePackageList } from "./packages.js";
import type { SelectedKernel } from "./kernel.js";

export interface ManifestInputs {
  readonly recipe: LoadedRecipe;
  readonly outDir: string;
  /** The committed image's id (`buildah commit` output), when known. */
  readonly imageId?: string;
  /** The build committed no image (plan option commit: false). */
  readonly notCommitted?: boolean;
  /** The base image's id (`buildah inspect` of the working container), when built on one. */
  readonly baseImageId?: string;
  readonly kernel?: SelectedKernel;
  /** The package list as the package manager printed it (tab-separated, see packages.ts). */
  readonly packages: string;
  /** Tool name → version. */
  readonly tools: Readonly<Record<string, string>>;
  readonly timings: readonly StepTiming[];
  readonly sourceDateEpoch?: number;
  /** The OpenSCAP scan's record (scan-verdict step), when the recipe scans. */
  readonly scan?: ScanRecord;
  /** When the build made it (default: now); one time for the manifest inside the image and the one beside it. */
  readonly builtAt?: Date;
}

export async function writeManifest(inputs: ManifestInputs): Promise<Manifest> {
  const manifest = await composeManifest(inputs);
  const file = path.join(inputs.outDir, MANIFEST_FILE);
  writeFileSync(`${file}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.partial`, file);
  return manifest;
}

export async function composeManifest(inputs: ManifestInputs): Promise<Manifest> {
  const { recipe, outDir } = inputs;
  const spec = recipe.spec;
  const artifacts: Partial<Record<ArtifactRole, ArtifactRecord>> = {};
  for (const [role, file] of Object.entries(ARTIFACT_FILES) as [ArtifactRole, string][]) {
    const p = path.join(outDir, file);
    if (!existsSync(p)) continue;
    artifacts[role] = { file, sha256: await sha256File(p), size: statSync(p).size };
  }
  const from = spec.from;
  const baseImageId = inputs.baseImageId?.trim() ? { imageId: inputs.baseImageId.trim() } : {};
  const base: Manifest["base"] =
    from === "scratch"
      ? { kind: "scratch" }
      : "image" in from
        ? { kind: "image", ref: from.image, ...baseImageId }
        : { kind: "recipe", name: recipe.parent?.spec.name ?? from.recipe, ref: baseRef(recipe), ...baseImageId };
  const boot = spec.boot;
  const comp = boot ? compressionArgs(boot.rootfs, spec.arch) : undefined;
  const kernel = inputs.kernel;
  return {
    schemaVersion: 1,
    name: spec.name,
    tags: spec.tags,
    arch: spec.arch,
    ...(spec.arches ? { arches: spec.arches } : {}),
    inputDigest: recipe.inputDigest,
    inputs: inputDigests(recipe),
    recipeFile: path.relative(process.cwd(), recipe.file) || recipe.file,
    base,
    image: { ref: localImageRef(spec), ...(inputs.imageId ? { id: inputs.imageId } : {}), ...(inputs.notCommitted ? { committed: false as const } : {}) },
    ...(kernel ? { kernel: { version: kernel.version, ...(kernel.squashfsCompressors ? { squashfsCompressors: kernel.squashfsCompressors } : {}) } } : {}),
    ...(boot
      ? {
          initramfs: { modules: boot.initramfs.modules, ...(boot.initramfs.drivers.length > 0 ? { drivers: boot.initramfs.drivers } : {}) },
          rootfs: { compression: comp!.compression, ...(comp!.level !== undefined ? { level: comp!.level } : {}), exclude: boot.rootfs.exclude },
          params: boot.params,
          bootTest: {
            ...(boot.test.marker ? { marker: boot.test.marker } : {}),
            timeoutSeconds: boot.test.timeout,
            ...(boot.test.checks.length > 0 ? { checks: boot.test.checks } : {}),
            ...(boot.test.builtinChecks ? {} : { builtinChecks: false }),
          },
        }
      : {}),
    artifacts,
    packages: parsePackageList(inputs.packages),
    packageManager: imagePackageManager(recipe),
    ...(inputs.scan ? { scan: { openscap: inputs.scan } } : {}),
    tools: inputs.tools,
    timings: [...inputs.timings],
    builtAt: (inputs.builtAt ?? new Date()).toISOString(),
    ...(inputs.sourceDateEpoch !== undefined ? { sourceDateEpoch: inputs.sourceDateEpoch } : {}),
  };
}
