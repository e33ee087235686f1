// What verify reads of manifest.json's artifacts: a hand-edited or damaged list fails naming the
// field (it was reported as a file called "undefined" that "cannot be read").
import { describe, expect, it } from "vitest";
import { manifestArtifacts } from "../../src/verify/verify.js";

const kernel = { file: "vmlinuz", sha256: "a".repeat(64), size: 10 };

describe("manifest.json's artifacts, as verify reads them", () => {
  it("lists each role's file, sha256 and size; none listed is an empty list", () => {
    expect(manifestArtifacts({ artifacts: { kernel, initrd: { ...kernel, file: "initramfs.img" } } })).toEqual([kernel, { ...kernel, file: "initramfs.img" }]);
    expect(manifestArtifacts({ name: "x" })).toEqual([]);
  });

  it("names the field that is wrong and the fix", () => {
    const fix = "the manifest was edited or damaged; publish the set again from its build";
    expect(manifestArtifacts({ artifacts: "x" })).toBe(`"artifacts" is "x", not an object of role → {file, sha256, size}: ${fix}`);
    expect(manifestArtifacts({ artifacts: [kernel] })).toMatch(/^"artifacts" is \[/);
    expect(manifestArtifacts({ artifacts: { kernel: "vmlinuz" } })).toBe(`"artifacts.kernel" is not an object: ${fix}`);
    expect(manifestArtifacts({ artifacts: { kernel: { ...kernel, file: 3 } } })).toBe(`"artifacts.kernel" has no file name: ${fix}`);
    expect(manifestArtifacts({ artifacts: { kernel: { ...kernel, sha256: "abc" } } })).toBe(`"artifacts.kernel" has no sha256 (64 hex digits): ${fix}`);
    expect(manifestArtifacts({ artifacts: { kernel: { ...kernel, size: "10" } } })).toBe(`"artifacts.kernel" has no size (bytes): ${fix}`);
  });
});
