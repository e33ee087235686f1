// The official JSON schemas of the two SBOM formats (vendored under test/contracts/, see the
// ORIGIN.md files there), compiled once with ajv: CycloneDX 1.6 is draft-07 and refers to its
// spdx and jsf schemas; SPDX 2.3 is draft 2019-09.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import addFormatsModule from "ajv-formats";
import { REPO_ROOT } from "./cli.js";

// ajv-formats is CommonJS: under NodeNext its types describe the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2019) => void;
const CONTRACTS = path.join(REPO_ROOT, "test/contracts");
const schema = (file: string) => JSON.parse(readFileSync(path.join(CONTRACTS, file), "utf8")) as Record<string, unknown>;

let cyclonedx: ValidateFunction | undefined;
let spdx: ValidateFunction | undefined;

function compileCycloneDx(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats has no IRI formats; CycloneDX uses them for URLs (checked as strings).
  for (const f of ["iri-reference", "idn-email"]) ajv.addFormat(f, true);
  ajv.addSchema(schema("cyclonedx/spdx.schema.json"), "spdx.schema.json");
  ajv.addSchema(schema("cyclonedx/jsf-0.82.schema.json"), "jsf-0.82.schema.json");
  return ajv.compile(schema("cyclonedx/bom-1.6.schema.json"));
}

function compileSpdx(): ValidateFunction {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema("spdx/spdx-2.3.schema.json"));
}

/** Schema errors of a CycloneDX 1.6 document (empty when valid). */
export function cycloneDxErrors(doc: unknown): string[] {
  cyclonedx ??= compileCycloneDx();
  return cyclonedx(doc) ? [] : (cyclonedx.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

/** Schema errors of an SPDX 2.3 document (empty when valid). */
export function spdxErrors(doc: unknown): string[] {
  spdx ??= compileSpdx();
  return spdx(doc) ? [] : (spdx.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}
