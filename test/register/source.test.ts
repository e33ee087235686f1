// Which published image `bootsmith register` takes: the tag, and for a recipe built for several
// architectures the one --arch names (required there: BSS cannot tell an Arm node from an x86 one);
// what an artifact directory without URLs is told to do.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRegisterSource, pickPublished } from "../../src/register/source.js";
import { RegistrationError } from "../../src/register/errors.js";
import type { PublishedImage } from "../../src/core/published-image.js";

const image = (tag: string, arch?: string): PublishedImage => ({
  name: "m",
  tag,
  target: "s3",
  ...(arch ? { arch } : {}),
  urls: { kernel: `http://s3/m/${tag}/${arch ?? ""}/vmlinuz` },
});
const both = [image("1", "x86_64"), image("latest", "x86_64"), image("1", "aarch64"), image("latest", "aarch64")];

describe("pickPublished", () => {
  it("--arch picks that architecture's image of the tag", () => {
    expect(pickPublished(both, "p.json", undefined, "aarch64")).toEqual(both[2]);
    expect(pickPublished(both, "p.json", "latest", "aarch64")).toEqual(both[3]);
    expect(pickPublished(both, "p.json", "latest", "x86_64")).toEqual(both[1]);
  });

  it("several architectures without --arch are refused, naming them", () => {
    expect(() => pickPublished(both, "p.json")).toThrow(RegistrationError);
    expect(() => pickPublished(both, "p.json")).toThrow("p.json holds several architectures (x86_64, aarch64): pass --arch ARCH");
  });

  it("an architecture the set lacks is refused", () => {
    expect(() => pickPublished([image("1", "x86_64")], "p.json", undefined, "aarch64")).toThrow("p.json has no aarch64 image (it holds x86_64)");
    // A single-architecture set's manifest names its architecture.
    expect(() => pickPublished([image("1")], "d/published.json", undefined, "aarch64", "x86_64")).toThrow("has no aarch64 image (it holds x86_64)");
    expect(pickPublished([image("1")], "d/published.json", undefined, "x86_64", "x86_64")).toEqual(image("1"));
  });

  it("a record that names no architecture cannot be checked against --arch", () => {
    expect(() => pickPublished([image("1")], "p.json", undefined, "aarch64")).toThrow("p.json records no architecture, so --arch aarch64 cannot be checked");
    // Without --arch a single-architecture record is taken as before.
    expect(pickPublished([image("1")], "p.json")).toEqual(image("1"));
  });
});

describe("loadRegisterSource", () => {
  it("a built directory without URLs: --base-url, or the record publish --record writes (publish by hand writes none by itself)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-register-source-"));
    try {
      writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ name: "m", tags: ["1"], artifacts: {} }));
      const load = loadRegisterSource(dir);
      await expect(load).rejects.toBeInstanceOf(RegistrationError);
      await expect(load).rejects.toThrow(
        `${dir} holds built artifacts but no URLs nodes can fetch them from: pass --base-url http://HOST/PATH/ (where this directory is served), or publish it with \`bootsmith publish … --record FILE\` and register FILE`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
