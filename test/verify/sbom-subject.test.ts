// verify on an unsigned set read from a directory, about its SBOMs: one changed after the build,
// one missing, and one of another image that a manifest written again lists with the right
// sha256 (it passed). Each fails naming the file and the fix.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sha256Bytes } from "../../src/core/hash.js";
import { ARTIFACT_FILES } from "../../src/core/manifest.js";
import { sbomInput } from "../../src/builder/sbom/index.js";
import { cycloneDxJson } from "../../src/builder/sbom/cyclonedx.js";
import { spdxJson } from "../../src/builder/sbom/spdx.js";
import { directorySource } from "../../src/verify/sources.js";
import { verifySet, type FileCheck } from "../../src/verify/verify.js";
import { sbomSubjectProblem } from "../../src/verify/sbom-subject.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-verify-sbom-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sboms(name: string, version: string): { cdx: Buffer; spdx: Buffer } {
  const input = sbomInput({ name, version, packageManager: "apt", inputDigest: "0".repeat(64), created: new Date(0), toolVersion: "0.1.0" }, [], {});
  return { cdx: Buffer.from(cycloneDxJson(input)), spdx: Buffer.from(spdxJson(input)) };
}

/** An unsigned set of image compute:9.5 whose SBOM files hold these bytes, listed with their sha256. */
function set(name: string, files: { cdx: Buffer; spdx: Buffer }): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const artifacts: Record<string, { file: string; sha256: string; size: number }> = {};
  for (const [role, bytes] of [
    ["sbomCycloneDx", files.cdx],
    ["sbomSpdx", files.spdx],
  ] as const) {
    writeFileSync(path.join(dir, ARTIFACT_FILES[role]), bytes);
    artifacts[role] = { file: ARTIFACT_FILES[role], sha256: sha256Bytes(bytes), size: bytes.length };
  }
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ schemaVersion: 1, name: "compute", tags: ["9.5", "latest"], artifacts }));
  return dir;
}

const failed = async (dir: string): Promise<FileCheck[]> => {
  const source = directorySource(dir);
  try {
    return (await verifySet(source)).files.filter((f) => !f.ok);
  } finally {
    source.close();
  }
};

describe("verify and the SBOMs of a set", () => {
  it("accepts the SBOMs of the set's own image", async () => {
    expect(await failed(set("own", sboms("compute", "9.5")))).toEqual([]);
  });

  it("refuses SBOMs of another image, though the manifest lists their sha256", async () => {
    const problems = await failed(set("other", sboms("rocky-9-login", "2.0")));
    expect(problems.map((p) => p.file)).toEqual(["sbom.cdx.json", "sbom.spdx.json"]);
    for (const p of problems)
      expect(p.reason).toBe(
        "describes rocky-9-login 2.0, not this set's image compute 9.5 (manifest.json): another image's SBOM; copy the SBOMs from this image's own build output (or build it again), then write the manifest and sign again",
      );
  });

  it("refuses an SBOM changed after the build and a missing one, saying what to do", async () => {
    const dir = set("damaged", sboms("compute", "9.5"));
    writeFileSync(path.join(dir, "sbom.cdx.json"), "{}\n");
    unlinkSync(path.join(dir, "sbom.spdx.json"));
    const problems = await failed(dir);
    expect(problems.map((p) => p.file)).toEqual(["sbom.cdx.json", "sbom.spdx.json"]);
    expect(problems[0]!.reason).toMatch(
      /^sha256 [0-9a-f]{64} does not match manifest\.json \([0-9a-f]{64}\): the file was changed or replaced after the set was made; copy it again from the build's output directory, or publish the set again$/,
    );
    expect(problems[1]!.reason).toBe("missing (listed in manifest.json): copy it from the build's output directory, or publish the set again");
  });

  it("says what is wrong with a file that is no SBOM", () => {
    const image = { name: "compute", version: "9.5" };
    expect(sbomSubjectProblem(Buffer.from("\x00\x01"), image)).toMatch(/^not valid JSON .*: not an SBOM/);
    expect(sbomSubjectProblem(Buffer.from("{}"), image)).toMatch(/^names no image it describes/);
  });
});
