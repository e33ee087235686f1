// Image references a recipe's from.image may use: what buildah pulls, and only that.
import { describe, expect, it } from "vitest";
import { IMAGE_REFERENCE, imageReferenceProblem, registryTag } from "../../src/core/image-ref.js";

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

describe("registryTag: one spelling of the tag a reference names, to tell that two name the same", () => {
  it.each([
    ["registry.site:5000/openchami/rocky-base:9.5", "registry.site:5000/openchami/rocky-base:9.5"],
    ["docker://Registry.Site:5000/openchami/rocky-base:9.5", "registry.site:5000/openchami/rocky-base:9.5"],
    ["registry.site/openchami/rocky-base", "registry.site/openchami/rocky-base:latest"],
    ["localhost:5000/base:1", "localhost:5000/base:1"],
    ["localhost/base:1", "localhost/base:1"],
    ["rockylinux:9", "docker.io/library/rockylinux:9"],
    ["openchami/base:1", "docker.io/openchami/base:1"],
    ["[::1]:5000/base:1", "[::1]:5000/base:1"],
  ])("%s is %s", (ref, key) => {
    expect(registryTag(ref)).toBe(key);
  });

  it("a tag is compared whole, a host with its port, a path with all its components", () => {
    expect(registryTag("registry.site/base:1")).not.toBe(registryTag("registry.site/base:10"));
    expect(registryTag("registry.site:5000/base:1")).not.toBe(registryTag("registry.site/base:1"));
    expect(registryTag("registry.site/site/base:1")).not.toBe(registryTag("registry.site/base:1"));
  });

  it.each(["registry.site/base@" + DIGEST, "registry.site/base:1@" + DIGEST, "not a reference", "oci:/tmp/x"])("%s names no tag to follow", (ref) => {
    expect(registryTag(ref)).toBeUndefined();
  });
});
