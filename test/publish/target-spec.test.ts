// `--to` strings → targets, S3 key layouts / public URLs, and progress lines (pure functions).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PublishInputError } from "../../src/publish/errors.js";
import { PUBLISH_TARGET_TYPES } from "../../src/publish/index.js";
import { joinUrl, s3Keys } from "../../src/publish/layout.js";
import { publicUrl } from "../../src/publish/s3.js";
import { parseTargetSpec } from "../../src/publish/target-spec.js";
import { publishedManifestLocation } from "../../src/publish/published-manifest.js";
import type { PublishTarget, S3Target } from "../../src/publish/targets.js";
import { PublishTargetSchema } from "../../src/recipe/schema.js";
import { formatTransfer } from "../../src/publish/progress.js";

describe("parseTargetSpec", () => {
  it.each([
    ["s3://boot-images", {}, { type: "s3", bucket: "boot-images", layout: "bootsmith" }],
    [
      "s3://boot-images/compute",
      { endpoint: "http://rgw:7480" },
      { type: "s3", bucket: "boot-images", layout: "bootsmith", prefix: "compute", endpoint: "http://rgw:7480" },
    ],
    ["s3://boot-images/site-", { layout: "image-builder" as const }, { type: "s3", bucket: "boot-images", layout: "image-builder", prefix: "site-" }],
    ["dir:/srv/boot", { publicBase: "http://h:8080" }, { type: "local", dir: "/srv/boot", publicBase: "http://h:8080" }],
    ["registry:127.0.0.1:5000/bootsmith/x", { tlsVerify: false }, { type: "registry", repository: "127.0.0.1:5000/bootsmith/x", tlsVerify: false }],
    ["registry:docker://reg.example/a/b", { authFile: "/run/auth.json" }, { type: "registry", repository: "reg.example/a/b", authFile: "/run/auth.json" }],
  ])("%s", (spec, options, expected) => {
    expect(parseTargetSpec(spec, options)).toEqual(expected);
  });

  it.each(["s3://", "s3://UPPER", "dir:", "http://x", "/srv/boot"])("rejects %s", (spec) => {
    expect(() => parseTargetSpec(spec)).toThrow(PublishInputError);
  });

  it("names where the spec was given: --to by default, promote's --target, or the value alone for a positional", () => {
    expect(() => parseTargetSpec("ftp://x")).toThrow('--to "ftp://x": expected one of');
    expect(() => parseTargetSpec("ftp://x", {}, "--target")).toThrow('--target "ftp://x": expected one of');
    expect(() => parseTargetSpec("/srv/boot", {}, null)).toThrow(/^"\/srv\/boot": expected one of/);
    expect(() => parseTargetSpec("s3://BAD_B", {}, null)).toThrow(/^s3:\/\/BAD_B: "BAD_B" is not a valid bucket name/);
    expect(() => parseTargetSpec("s3://b-b//x", {}, "--target")).toThrow(
      /of --target s3:\/\/b-b\/\/x has an empty path segment.*: write --target s3:\/\/b-b\/x$/,
    );
    expect(() => parseTargetSpec("dir:", {}, null)).toThrow(/^dir:: give a directory/);
  });

  it.each([
    ["s3://boot-images//a//b/", {}, 'the prefix "/a//b/" of --to s3://boot-images//a//b/', "--to s3://boot-images/a/b/"],
    ["s3://boot-images/a//b", {}, 'the prefix "a//b" of --to s3://boot-images/a//b', "--to s3://boot-images/a/b"],
    ["s3://boot-images", { prefix: "/site/" }, 'the prefix "/site/" of --prefix', "--prefix site/"],
    ["s3://boot-images", { prefix: "site//" }, 'the prefix "site//" of --prefix', "--prefix site/"],
  ])("rejects %s %j: empty key segments, with the fixed form", (spec, options, what, fixed) => {
    let error: unknown;
    try {
      parseTargetSpec(spec, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PublishInputError);
    expect((error as PublishInputError).exitCode).toBe(2);
    expect((error as Error).message).toBe(
      `${what} has an empty path segment (a leading / or //), which makes keys an S3 console cannot show and that are not the folder meant: write ${fixed}`,
    );
  });

  it("covers every publisher type", () => {
    const made = ["s3://bucket", "dir:/x", "registry:h/r"].map((s) => parseTargetSpec(s).type).sort();
    expect(made).toEqual([...PUBLISH_TARGET_TYPES].sort());
  });
});

describe("s3Keys and public URLs", () => {
  const image = { name: "compute", kernel: { version: "6.1.0-28-amd64" } };

  it("puts a self-contained directory per tag in the bootsmith layout", () => {
    expect(s3Keys("bootsmith", "images/", image, "1.2")).toEqual({
      artifacts: {
        kernel: "images/compute/1.2/vmlinuz",
        initrd: "images/compute/1.2/initramfs.img",
        rootfs: "images/compute/1.2/rootfs.squashfs",
        sbomCycloneDx: "images/compute/1.2/sbom.cdx.json",
        sbomSpdx: "images/compute/1.2/sbom.spdx.json",
      },
      manifest: "images/compute/1.2/manifest.json",
      sums: "images/compute/1.2/SHA256SUMS",
      signature: "images/compute/1.2/SHA256SUMS.sig",
    });
  });

  it("follows image-builder's names, falling back to name-tag without a kernel version", () => {
    expect(s3Keys("image-builder", "", image, "v1").artifacts).toEqual({
      kernel: "efi-images/vmlinuz-6.1.0-28-amd64",
      initrd: "efi-images/initramfs-6.1.0-28-amd64.img",
      rootfs: "compute-v1",
      sbomCycloneDx: "compute-v1.sbom.cdx.json",
      sbomSpdx: "compute-v1.sbom.spdx.json",
    });
    expect(s3Keys("image-builder", "p-", { name: "base" }, "v1").artifacts.kernel).toBe("efi-images/p-vmlinuz-base-v1");
  });

  it("derives public URLs from publicBase, the endpoint (path-style) or AWS", () => {
    const key = "images/compute/1.2/rootfs.squashfs";
    expect(publicUrl({ type: "s3", bucket: "b", publicBase: "http://10.0.2.2:8080/b/" }, key)).toBe(
      "http://10.0.2.2:8080/b/images/compute/1.2/rootfs.squashfs",
    );
    expect(publicUrl({ type: "s3", bucket: "b", endpoint: "http://rgw:7480/" }, key)).toBe("http://rgw:7480/b/images/compute/1.2/rootfs.squashfs");
    expect(publicUrl({ type: "s3", bucket: "b", region: "eu-west-1" }, key)).toBe("https://b.s3.eu-west-1.amazonaws.com/images/compute/1.2/rootfs.squashfs");
    expect(joinUrl("http://h", "a b/c+d")).toBe("http://h/a%20b/c%2Bd");
  });
});

describe("formatTransfer", () => {
  it("prints one aligned line per object, with a rate only for uploads of 1 MiB or more", () => {
    expect(formatTransfer({ action: "uploaded", tag: "1", file: "rootfs.squashfs", bytes: 165.2 * 1024 ** 2, seconds: 0.8, destination: "s3://b/k" })).toBe(
      "uploaded  rootfs.squashfs  165.2 MiB   206.5 MiB/s  s3://b/k",
    );
    expect(formatTransfer({ action: "uploaded", tag: "1", file: "manifest.json", bytes: 2400, seconds: 0.01, destination: "s3://b/m" })).toBe(
      "uploaded  manifest.json      2.3 KiB                s3://b/m",
    );
    expect(formatTransfer({ action: "skipped", tag: "1", file: "vmlinuz", bytes: 8 * 1024 ** 2, seconds: 0.01, destination: "/x" })).toMatch(
      /^skipped\s+vmlinuz\s+8\.0 MiB\s+\/x$/,
    );
  });

  it("a registry push names the image and digest, and no size (none is known): not 0 B", () => {
    const line = formatTransfer({ action: "pushed", tag: "1", file: "image", seconds: 3, destination: "docker://reg/hpc/compute:1@sha256:abc" });
    expect(line).toMatch(/^pushed\s+image\s+docker:\/\/reg\/hpc\/compute:1@sha256:abc$/);
    expect(line).not.toContain(" B ");
  });
});

describe("an S3 prefix", () => {
  const name = "compute";
  const keysOf = (target: PublishTarget) => publishedManifestLocation(target as S3Target, name, "1");

  it.each([
    ["bootsmith", "s3://boot-images/images/compute/1/manifest.json"],
    ["image-builder", "s3://boot-images/imagescompute-1.manifest.json"],
  ] as const)("in the %s layout, puts keys in one place whether it comes from --to, --prefix or a recipe's prefix:", (layout, expected) => {
    const fromTo = parseTargetSpec("s3://boot-images/images", { layout });
    const fromOption = parseTargetSpec("s3://boot-images", { layout, prefix: "images" });
    const fromRecipe = PublishTargetSchema.parse({ type: "s3", bucket: "boot-images", prefix: "images", layout });
    expect([keysOf(fromTo), keysOf(fromOption), keysOf(fromRecipe)]).toEqual([expected, expected, expected]);
  });

  it("is a folder in the bootsmith layout, with or without its trailing /, and the recipe reference says so", () => {
    const reference = readFileSync(new URL("../../docs/recipe-reference.md", import.meta.url), "utf8");
    const description = reference.split("\n").find((l) => l.startsWith("| `publish[type=s3].prefix`")) ?? "";
    const manifest = { name: "compute" };
    expect(s3Keys("bootsmith", "images/", manifest, "1").manifest).toBe("images/compute/1/manifest.json");
    expect(s3Keys("bootsmith", "images", manifest, "1").manifest).toBe("images/compute/1/manifest.json");
    expect(s3Keys("image-builder", "site-", manifest, "1").manifest).toBe("site-compute-1.manifest.json");
    expect(description).toContain("bootsmith layout: a folder, images and images/ both put a set under images/<name>/<tag>/");
    expect(description).toContain("image-builder layout: pasted into the names as image-builder's s3_prefix is");
  });
});
