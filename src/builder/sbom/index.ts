// Write an image's two SBOMs beside manifest.json: CycloneDX for security tooling (Dependency-Track,
// Grype), SPDX for licence compliance and auditors. Both come from the same package list.
import { writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { cycloneDxJson } from "./cyclonedx.js";
import { spdxJson } from "./spdx.js";
import type { SbomInput } from "./input.js";
import { ARTIFACT_FILES } from "../../core/manifest.js";

export { sbomInput, type SbomInput } from "./input.js";

/** Write both files (each through a .partial rename); returns their paths. */
export function writeSboms(dir: string, input: SbomInput): string[] {
  const files: [string, string][] = [
    [ARTIFACT_FILES.sbomCycloneDx, cycloneDxJson(input)],
    [ARTIFACT_FILES.sbomSpdx, spdxJson(input)],
  ];
  return files.map(([name, text]) => {
    const file = path.join(dir, name);
    writeFileSync(`${file}.partial`, text);
    renameSync(`${file}.partial`, file);
    return file;
  });
}
