// manifest.json: the record of one built image. Written next to the artifacts by `build`,
// uploaded last by publishers (its presence means the set is complete), read by boot-test,
// publish, register and the cache.

export const MANIFEST_FILE = "manifest.json";

/** The label on every committed image naming the recipe that built it. */
export const RECIPE_LABEL = "io.bootsmith.recipe";

/** The label on the committed image carrying the manifest's inputDigest (the cache key). */
export const INPUT_DIGEST_LABEL = "io.bootsmith.input-digest";

/** Where the image carries its own manifest (without the rootfs digest, which cannot contain itself). */
export const IMAGE_MANIFEST_PATH = "/usr/lib/bootsmith/manifest.json";

/** Where the image carries copies of its SBOMs (sbom.cdx.json, sbom.spdx.json), beside its manifest. */
export const IMAGE_SBOM_DIR = "/usr/lib/bootsmith";

/**
 * Image labels with the sha256 of each SBOM: `skopeo inspect` shows them without a pull, and a
 * signed image's signature covers them (labels are in the config the signed manifest names).
 */
export const SBOM_LABELS = {
  sbomCycloneDx: "io.bootsmith.sbom.cyclonedx.sha256",
  sbomSpdx: "io.bootsmith.sbom.spdx.sha256",
} as const;

/** The boot artifacts an image directory may hold, by role: what a node fetches. */
export const BOOT_FILES = {
  kernel: "vmlinuz",
  initrd: "initramfs.img",
  rootfs: "rootfs.squashfs",
} as const;

/** The bills of materials every build writes (also for images without boot artifacts). */
export const SBOM_FILES = {
  sbomCycloneDx: "sbom.cdx.json",
  sbomSpdx: "sbom.spdx.json",
} as const;

/** Every file manifest.json lists with its sha256, by role; publishers copy all of them. */
export const ARTIFACT_FILES = { ...BOOT_FILES, ...SBOM_FILES } as const;

export type ArtifactRole = keyof typeof ARTIFACT_FILES;
export type BootRole = keyof typeof BOOT_FILES;

/**
 * What an OpenSCAP scan leaves beside the artifacts (not published: reports for the site, not
 * files a node fetches). A failed threshold leaves them too, for reading why.
 */
export const SCAN_FILES = {
  arf: "openscap-arf.xml",
  results: "openscap-results.xml",
  report: "openscap-report.html",
  remediation: "openscap-remediation.sh",
} as const;

/** Rule results as XCCDF 1.2 names them, counted per severity. */
export type ScanCounts = Readonly<Record<string, number>>;

/** manifest.json's record of an OpenSCAP scan (from the results the verdict step read). */
export interface ScanRecord {
  readonly tool: "openscap";
  readonly profile: string;
  readonly datastream: string;
  readonly benchmark?: string;
  /** Rule result → count (pass, fail, error, notapplicable, notchecked, notselected, …). */
  readonly results: ScanCounts;
  /** Failed rules per severity (unknown, info, low, medium, high). */
  readonly failedBySeverity: ScanCounts;
  readonly passedBySeverity: ScanCounts;
  readonly score?: number;
  readonly failOn: { readonly severity: string; readonly max: number };
  /** Failed rules of the threshold's severity or higher. */
  readonly counted: number;
  readonly remediated: boolean;
  /** With remediation: failures the first scan found (the counts above are the second scan's). */
  readonly failedBeforeRemediation?: number;
  /** Files beside the artifacts. */
  readonly files: readonly string[];
}

export interface ArtifactRecord {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

export interface PackageRecord {
  readonly name: string;
  readonly epoch?: string;
  readonly version: string;
  readonly release?: string;
  readonly arch: string;
  /** The package's licence as its database records it (rpm's License tag; dpkg has none). */
  readonly license?: string;
  /** Who supplies it: rpm's Vendor tag, dpkg's Maintainer field. */
  readonly supplier?: string;
}

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
}

/** A check run inside the booted node (recipe boot.test.checks). */
export interface BootCheckRecord {
  readonly name: string;
  readonly run?: readonly string[];
  readonly script?: string;
  readonly expect: { readonly exit: number; readonly stdout?: string };
  readonly timeout: number;
}

/** The outcome of the last boot-test of these artifacts (the full report is boot-test.json). */
export interface BootTestRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly totalSeconds?: number;
  readonly phases: readonly { readonly name: string; readonly seconds: number; readonly bytes?: number }[];
  readonly checks: readonly { readonly name: string; readonly status: string; readonly seconds?: number }[];
}

export interface Manifest {
  readonly schemaVersion: 1;
  readonly name: string;
  readonly tags: readonly string[];
  readonly arch: string;
  /**
   * Set when the recipe builds for several architectures (`arches:`): every one of them. This
   * set is then one architecture's, published under <name>/<tag>/<arch>/ beside the others.
   */
  readonly arches?: readonly string[];
  /** sha256 over the normalized recipe and the files it references: the cache key's core. */
  readonly inputDigest: string;
  /** The key's parts (input name → short digest), so a later build can say which one changed. */
  readonly inputs?: Readonly<Record<string, string>>;
  readonly recipeFile: string;
  /**
   * What the image was built on. `imageId`: the base image's ID (64 hex) when the build started
   * (`buildah from`), so a later run can tell that a parent was rebuilt under the same name.
   */
  readonly base:
    | { readonly kind: "scratch" }
    | { readonly kind: "image"; readonly ref: string; readonly digest?: string; readonly imageId?: string }
    | { readonly kind: "recipe"; readonly name: string; readonly ref: string; readonly digest?: string; readonly imageId?: string };
  /**
   * Local image (and after publish, registry digests). `committed: false`: the build made no image
   * (nothing needed one: no child recipe, no registry target); `ref` is the name it would have had.
   */
  readonly image: {
    readonly ref: string;
    readonly id?: string;
    readonly committed?: false;
    readonly pushed?: readonly { ref: string; digest: string }[];
  };
  readonly kernel?: {
    readonly version: string;
    /** squashfs compressors the kernel supports (from its config), for the boot preflight. */
    readonly squashfsCompressors?: readonly string[];
  };
  /** dracut modules (--add) and kernel drivers (--add-drivers) the recipe asked for. */
  readonly initramfs?: { readonly modules: readonly string[]; readonly drivers?: readonly string[] };
  readonly rootfs?: {
    readonly compression: string;
    readonly level?: number;
    /** Paths (relative to /) left out of the squashfs: the committed image still holds them (diff of a registry image). */
    readonly exclude?: readonly string[];
  };
  readonly artifacts: Partial<Record<ArtifactRole, ArtifactRecord>>;
  /** The kernel command line template from the recipe (URLs are filled in at publish/register). */
  readonly params?: string;
  /** What boot-test waits for and checks, from the recipe's boot.test; `lastRun` is written by boot-test. */
  readonly bootTest?: {
    readonly marker?: string;
    readonly timeoutSeconds: number;
    readonly checks?: readonly BootCheckRecord[];
    readonly builtinChecks?: boolean;
    readonly lastRun?: BootTestRecord;
  };
  readonly packages: readonly PackageRecord[];
  readonly packageManager: string;
  /** Compliance scans of the image root (recipe scan:). */
  readonly scan?: { readonly openscap?: ScanRecord };
  readonly tools: Readonly<Record<string, string>>;
  readonly timings: readonly StepTiming[];
  readonly builtAt: string;
  readonly sourceDateEpoch?: number;
  /** Each `bootsmith promote` that made another tag point at these artifacts, oldest first. */
  readonly promotions?: readonly PromotionRecord[];
}

export interface PromotionRecord {
  readonly from: string;
  readonly to: string;
  readonly at: string;
  /** Promoted with --force, without a passed boot test on record. */
  readonly forced: boolean;
  /** The user who ran it ($USER / os.userInfo), for the audit trail. */
  readonly by?: string;
}

/**
 * manifest.json of a recipe built for several architectures, in <name>/<tag>/ above one directory
 * per architecture (each with its own manifest.json): which architectures there are and, per
 * architecture, its manifest's and artifacts' sha256s, paths relative to this file. Written last,
 * after every architecture's set, locally and by publish.
 */
export interface MultiArchManifest {
  readonly schemaVersion: 1;
  readonly kind: "multi-arch";
  readonly name: string;
  readonly tags: readonly string[];
  /** The newest architecture's build time (what gc sorts tags by). */
  readonly builtAt: string;
  /** Architecture → its set. */
  readonly arches: Readonly<Record<string, MultiArchEntry>>;
  /** Each `bootsmith promote` of the whole set (also in every architecture's manifest), oldest first. */
  readonly promotions?: readonly PromotionRecord[];
}

export interface MultiArchEntry {
  /** The architecture's directory (relative): its name. */
  readonly dir: string;
  readonly manifest: ArtifactRecord;
  readonly inputDigest: string;
  readonly image: { readonly ref: string; readonly pushed?: readonly { ref: string; digest: string }[] };
  /** As in the architecture's manifest.json, with `file` relative to the combined manifest. */
  readonly artifacts: Partial<Record<ArtifactRole, ArtifactRecord>>;
}

export function isMultiArchManifest(value: unknown): value is MultiArchManifest {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "multi-arch";
}

/** The message for a command that takes one architecture's set and was given a combined one. */
export function multiArchMessage(where: string, manifest: MultiArchManifest, hint: string): string {
  const arches = Object.keys(manifest.arches);
  return `${where} is the combined manifest of ${manifest.name} built for ${arches.join(", ")}: ${hint}`;
}
