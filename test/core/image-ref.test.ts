// Image references a recipe's from.image may use: what buildah pulls, and only that.
import { describe, expect, it } from "vitest";
import { IMAGE_REFERENCE, imageReferenceProblem } from "../../src/core/image-ref.js";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image references", () => {
  it.each([
    "rockylinux:9",
    "rockylinux",
    "registry.local/base/rocky:9.5",
    "registry.local:5000/openchami/rocky9-base:9.5",
    "docker://registry.local/base:1",
    "localhost/bootsmith/base:1",
    "[::1]:5000/base:1",
    "Registry.Local/base:1",
    "quay.io/rockylinux/rockylinux@" + DIGEST,
    "quay.io/rockylinux/rockylinux:9@" + DIGEST,
    "registry.local/a__b/c--d/e_f.g:Tag_1.0-rc",
  ])("accepts %s", (ref) => {
    expect(imageReferenceProblem(ref)).toBeUndefined();
    expect(IMAGE_REFERENCE.test(ref)).toBe(true);
  });

  it.each([
    ["registry.local/base/rocky 9:9.5", "white space"],
    [" registry.local/base:1", "white space"],
    ["registry.local/Base:1", "capital letters"],
    ["registry.local/base:", "not an image reference:"],
    ["registry.local/base:-1", "not an image reference:"],
    ["registry.local/base@sha256:abc", "not an image reference:"],
    ["registry.local//base:1", "not an image reference:"],
    ["registry.local/base-:1", "not an image reference:"],
    [`registry.local/${"a".repeat(250)}:1`, "longer than 255"],
    ["containers-storage:localhost/base:1", "containers-storage: transport"],
  ])("refuses %s (%s)", (ref, why) => {
    expect(imageReferenceProblem(ref)).toContain(why);
  });
});
