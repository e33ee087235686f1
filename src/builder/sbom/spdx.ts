// sbom.spdx.json: SPDX 2.3 JSON. No maintained JavaScript library writes SPDX 2.3 documents (the
// npm "spdx*" packages parse licence expressions), so this is a typed writer; the tests validate
// its output against the official schema (test/contracts/spdx/).
import { isSpdxExpression, type SbomInput } from "./input.js";

const NOASSERTION = "NOASSERTION";

interface SpdxPackage {
  readonly SPDXID: string;
  readonly name: string;
  readonly versionInfo: string;
  readonly supplier: string;
  readonly downloadLocation: string;
  readonly filesAnalyzed: false;
  readonly licenseConcluded: string;
  readonly licenseDeclared: string;
  readonly licenseComments?: string;
  readonly copyrightText: string;
  readonly primaryPackagePurpose: "OPERATING_SYSTEM" | "LIBRARY";
  readonly externalRefs?: readonly { readonly referenceCategory: "PACKAGE-MANAGER"; readonly referenceType: "purl"; readonly referenceLocator: string }[];
}

interface SpdxRelationship {
  readonly spdxElementId: string;
  readonly relationshipType: "DESCRIBES" | "CONTAINS";
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
    },
  ];
  const relationships: SpdxRelationship[] = [{ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: imageId }];
  input.packages.forEach((p, i) => {
    // SPDX ids allow letters, digits, '.' and '-' only; the index keeps two arches of one name apart.
    const id = `SPDXRef-Package-${i + 1}-${p.name.replace(/[^A-Za-z0-9.-]/g, "-")}`;
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
    relationships,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** "Name <mail>" (dpkg's Maintainer) → "Name (mail)", SPDX's agent syntax. */
function agent(supplier: string): string {
  const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(supplier);
  return m ? `${m[1]} (${m[2]})` : supplier;
}
