// sbom.spdx.json: SPDX 2.3 JSON. No maintained JavaScript library writes SPDX 2.3 documents (the
// npm "spdx*" packages parse licence expressions), so this is a typed writer; the tests validate
// its output against the official schema (test/contracts/spdx/).
import path from "node:path";
import { unlistedText } from "./image-contents.js";
import { isSpdxExpression, kernelPackage, type SbomInput } from "./input.js";

const NOASSERTION = "NOASSERTION";

interface SpdxPackage {
  readonly SPDXID: string;
  readonly name: string;
  readonly versionInfo?: string;
  readonly supplier: string;
  readonly downloadLocation: string;
  readonly filesAnalyzed: false;
  readonly licenseConcluded: string;
  readonly licenseDeclared: string;
  readonly licenseComments?: string;
  readonly copyrightText: string;
  readonly checksums?: readonly SpdxChecksum[];
  /** Where the package came from (SPDX: background on its origin). */
  readonly sourceInfo?: string;
  readonly comment?: string;
  readonly primaryPackagePurpose: "OPERATING_SYSTEM" | "LIBRARY" | "OTHER";
  readonly externalRefs?: readonly { readonly referenceCategory: "PACKAGE-MANAGER"; readonly referenceType: "purl"; readonly referenceLocator: string }[];
}

interface SpdxChecksum {
  readonly algorithm: "SHA1" | "SHA256";
  readonly checksumValue: string;
}

interface SpdxFile {
  readonly SPDXID: string;
  /** Relative to the image root, "./etc/motd" (SPDX's file name form). */
  readonly fileName: string;
  /** SPDX 2.3 requires SHA1 for a file; SHA256 is the one the CycloneDX SBOM and manifest use. */
  readonly checksums: readonly SpdxChecksum[];
  readonly licenseConcluded: string;
  readonly copyrightText: string;
  readonly comment: string;
}

interface SpdxRelationship {
  readonly spdxElementId: string;
  readonly relationshipType: "DESCRIBES" | "CONTAINS" | "DEPENDS_ON";
  readonly relatedSpdxElement: string;
}

export interface SpdxDocument {
  readonly spdxVersion: "SPDX-2.3";
  readonly dataLicense: "CC0-1.0";
  readonly SPDXID: "SPDXRef-DOCUMENT";
  readonly name: string;
  readonly documentNamespace: string;
  readonly creationInfo: { readonly created: string; readonly creators: readonly string[] };
  readonly packages: readonly SpdxPackage[];
  readonly files?: readonly SpdxFile[];
  readonly relationships: readonly SpdxRelationship[];
}

export function spdxJson(input: SbomInput): string {
  const imageId = "SPDXRef-Image";
  const packages: SpdxPackage[] = [
    {
      SPDXID: imageId,
      name: input.name,
      versionInfo: input.version,
      supplier: NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      copyrightText: NOASSERTION,
      primaryPackagePurpose: "OPERATING_SYSTEM",
      ...(input.contents.unlisted.length > 0 ? { comment: unlistedText(input.contents.unlisted) } : {}),
    },
  ];
  const relationships: SpdxRelationship[] = [{ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: imageId }];
  const packageIds = new Map<object, string>();
  input.packages.forEach((p, i) => {
    // The index keeps two arches of one name apart.
    const id = `SPDXRef-Package-${i + 1}-${spdxIdPart(p.name)}`;
    const declared = p.license && isSpdxExpression(p.license) ? p.license : NOASSERTION;
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.fullVersion,
      supplier: p.supplier ? `Organization: ${agent(p.supplier)}` : NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: declared,
      // A licence the database records in a non-SPDX form ("GPLv2+") is kept as a comment.
      ...(p.license && declared === NOASSERTION ? { licenseComments: `package database License: ${p.license}` } : {}),
      copyrightText: NOASSERTION,
      primaryPackagePurpose: "LIBRARY",
      ...(p.purl ? { externalRefs: [{ referenceCategory: "PACKAGE-MANAGER" as const, referenceType: "purl" as const, referenceLocator: p.purl }] } : {}),
    });
    relationships.push({ spdxElementId: imageId, relationshipType: "CONTAINS", relatedSpdxElement: id });
    packageIds.set(p, id);
  });
  input.contents.modules.forEach((m, i) => {
    const id = `SPDXRef-KernelModule-${i + 1}-${spdxIdPart(m.name)}`;
    const declared = m.license && isSpdxExpression(m.license) ? m.license : NOASSERTION;
    packages.push({
      SPDXID: id,
      name: m.name,
      ...(m.version ? { versionInfo: m.version } : {}),
      supplier: NOASSERTION,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: declared,
      ...(m.license && declared === NOASSERTION ? { licenseComments: `module license: ${m.license}` } : {}),
      copyrightText: NOASSERTION,
      checksums: [{ algorithm: "SHA256", checksumValue: m.sha256 }],
      sourceInfo: m.origin,
      comment: `Linux kernel module ${m.path}, built for kernel ${m.kernel}${m.vermagic ? ` (vermagic ${m.vermagic})` : ""}`,
      primaryPackagePurpose: "OTHER",
    });
    relationships.push({ spdxElementId: imageId, relationshipType: "CONTAINS", relatedSpdxElement: id });
    const kernel = packageIds.get(kernelPackage(input, m.kernel) ?? {});
    if (kernel) relationships.push({ spdxElementId: id, relationshipType: "DEPENDS_ON", relatedSpdxElement: kernel });
  });
  const files = input.contents.files.map((f, i): SpdxFile => {
    const id = `SPDXRef-File-${i + 1}-${spdxIdPart(path.posix.basename(f.path))}`;
    relationships.push({ spdxElementId: imageId, relationshipType: "CONTAINS", relatedSpdxElement: id });
    return {
      SPDXID: id,
      fileName: `.${f.path}`,
      checksums: [
        { algorithm: "SHA1", checksumValue: f.sha1 },
        { algorithm: "SHA256", checksumValue: f.sha256 },
      ],
      licenseConcluded: NOASSERTION,
      copyrightText: NOASSERTION,
      comment: f.origin,
    };
  });
  const document: SpdxDocument = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${input.name}-${input.version}`,
    documentNamespace: `https://bootsmith.invalid/spdx/${encodeURIComponent(input.name)}/${encodeURIComponent(input.version)}/${input.uuid}`,
    // SPDX wants seconds precision: YYYY-MM-DDThh:mm:ssZ.
    creationInfo: { created: input.created.toISOString().replace(/\.\d{3}Z$/, "Z"), creators: [`Tool: bootsmith-${input.toolVersion}`] },
    packages,
    ...(files.length > 0 ? { files } : {}),
    relationships,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A name as part of an SPDX id, which allows letters, digits, '.' and '-' only. */
function spdxIdPart(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, "-");
}

/** "Name <mail>" (dpkg's Maintainer) → "Name (mail)", SPDX's agent syntax. */
function agent(supplier: string): string {
  const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(supplier);
  return m ? `${m[1]} (${m[2]})` : supplier;
}
