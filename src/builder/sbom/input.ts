// What both SBOM writers describe: one image and the packages its database lists, with the
// package URLs already computed (so CycloneDX and SPDX name every package identically).
import { createHash } from "node:crypto";
import parseSpdxExpression from "spdx-expression-parse";
import type { PackageRecord } from "../../core/manifest.js";
import { packageUrl, type PurlContext } from "./purl.js";
import { NO_CONTENTS, type ImageContents } from "./image-contents.js";

export interface SbomPackage extends PackageRecord {
  readonly purl?: string;
  /** Version as the package manager prints it: [epoch:]version[-release]. */
  readonly fullVersion: string;
}

export interface SbomInput {
  /** The image: recipe name and primary tag. */
  readonly name: string;
  readonly version: string;
  readonly packageManager: string;
  readonly packages: readonly SbomPackage[];
  /** When the image was built (SOURCE_DATE_EPOCH when set, so SBOMs are reproducible). */
  readonly created: Date;
  /** A UUID derived from the image's content, so the same build gets the same document id. */
  readonly uuid: string;
  readonly toolVersion: string;
  /** What the image holds besides the packages (built kernel modules, copied files) and what changed it unlisted. */
  readonly contents: ImageContents;
}

export function sbomInput(
  image: { name: string; version: string; packageManager: string; inputDigest: string; created: Date; toolVersion: string },
  packages: readonly PackageRecord[],
  purl: Omit<PurlContext, "packageManager">,
  contents: ImageContents = NO_CONTENTS,
): SbomInput {
  const withPurls = packages.map((p): SbomPackage => {
    const url = packageUrl(p, { ...purl, packageManager: image.packageManager });
    const fullVersion = `${p.epoch ? `${p.epoch}:` : ""}${p.version}${p.release ? `-${p.release}` : ""}`;
    return { ...p, fullVersion, ...(url ? { purl: url } : {}) };
  });
  const digest = createHash("sha256")
    .update(
      JSON.stringify([
        image.name,
        image.version,
        image.inputDigest,
        image.created.toISOString(),
        withPurls.map((p) => p.purl ?? `${p.name}@${p.fullVersion}`),
        contents,
      ]),
    )
    .digest("hex");
  // RFC 4122 layout (version 5-like: name-based over SHA) from the digest's first 128 bits.
  const hex = `${digest.slice(0, 12)}5${digest.slice(13, 16)}${((parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16)}${digest.slice(17, 32)}`;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return {
    name: image.name,
    version: image.version,
    packageManager: image.packageManager,
    packages: withPurls,
    created: image.created,
    uuid,
    toolVersion: image.toolVersion,
    contents,
  };
}

/** The kernel package of release `kver` (deb linux-image-KVER; rpm kernel*, whose version-release.arch is KVER), if the list has it. */
export function kernelPackage(input: SbomInput, kver: string): SbomPackage | undefined {
  return input.packages.find(
    (p) => p.name === `linux-image-${kver}` || (p.name.startsWith("kernel") && `${p.version}${p.release ? `-${p.release}` : ""}.${p.arch}` === kver),
  );
}

/** Throws unless `value` is a valid SPDX license expression (spdx-expression-parse, the reference parser). */
export function validateSpdxExpression(value: string): void {
  parseSpdxExpression(value);
}

export function isSpdxExpression(value: string): boolean {
  try {
    validateSpdxExpression(value);
    return true;
  } catch {
    return false;
  }
}
