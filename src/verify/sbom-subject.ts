// An SBOM must describe the image of its set. Its sha256 only shows it is the file the manifest
// lists, and a manifest written again over a directory (`bootsmith artifacts write-manifest`, then
// `publish --sign-key`) lists whatever lies there: another image's SBOM copied in by mistake
// would be signed and served to the security team as this image's bill of materials.
// CycloneDX names its subject in metadata.component, SPDX in the package the document DESCRIBES;
// bootsmith writes the recipe's name and primary tag in both (builder/image-identity.ts).

export interface SetImage {
  readonly name: string;
  /** The primary tag, the SBOMs' version of the image. */
  readonly version: string;
}

/** What is wrong with an SBOM file for the set of `image`, or undefined when it describes that image. */
export function sbomSubjectProblem(bytes: Buffer, image: SetImage): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    return `not valid JSON (${(error as Error).message}): not an SBOM; copy the SBOMs from this image's build output, or build it again`;
  }
  const subject = cycloneDxSubject(doc) ?? spdxSubject(doc);
  if (!subject) return "names no image it describes (no CycloneDX metadata.component, no SPDX package the document DESCRIBES): not an SBOM bootsmith wrote";
  if (subject.name === image.name && subject.version === image.version) return undefined;
  return `describes ${subject.name} ${subject.version ?? "(no version)"}, not this set's image ${image.name} ${image.version} (manifest.json): another image's SBOM; copy the SBOMs from this image's own build output (or build it again), then write the manifest and sign again`;
}

interface Subject {
  readonly name: string;
  readonly version?: string;
}

function cycloneDxSubject(doc: unknown): Subject | undefined {
  const d = doc as { bomFormat?: unknown; metadata?: { component?: { name?: unknown; version?: unknown } } } | null;
  if (d?.bomFormat !== "CycloneDX") return undefined;
  const c = d.metadata?.component;
  return typeof c?.name === "string" ? { name: c.name, ...(typeof c.version === "string" ? { version: c.version } : {}) } : undefined;
}

function spdxSubject(doc: unknown): Subject | undefined {
  const d = doc as {
    spdxVersion?: unknown;
    SPDXID?: unknown;
    documentDescribes?: unknown[];
    relationships?: { spdxElementId?: unknown; relationshipType?: unknown; relatedSpdxElement?: unknown }[];
    packages?: { SPDXID?: unknown; name?: unknown; versionInfo?: unknown }[];
  } | null;
  if (typeof d?.spdxVersion !== "string") return undefined;
  const describes = (Array.isArray(d.relationships) ? d.relationships : []).find((r) => r?.spdxElementId === d.SPDXID && r?.relationshipType === "DESCRIBES");
  const described: unknown = describes?.relatedSpdxElement ?? (Array.isArray(d.documentDescribes) ? d.documentDescribes[0] : undefined);
  const p = (Array.isArray(d.packages) ? d.packages : []).find((x) => x?.SPDXID === described);
  return typeof p?.name === "string" ? { name: p.name, ...(typeof p.versionInfo === "string" ? { version: p.versionInfo } : {}) } : undefined;
}
