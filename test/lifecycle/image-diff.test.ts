// diffImages on manifests an older bootsmith, or a hand edit, left without a field the diff
// reads: it reports what it cannot compare instead of crashing or inventing a change.
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { renderDiff } from "../../src/lifecycle/diff-render.js";
import { diffImages, type ImageFacts } from "../../src/lifecycle/image-diff.js";
import { renderInspectText } from "../../src/lifecycle/inspect-text.js";

const artifacts = { kernel: { file: "vmlinuz", sha256: "a".repeat(64), size: 8 } };
const manifest = (extra: Record<string, unknown>, drop: string[] = []): Manifest => {
  const m: Record<string, unknown> = {
    schemaVersion: 1,
    name: "compute",
    tags: ["9.5"],
    artifacts,
    packages: [{ name: "bash", version: "5.1", release: "1.el9", arch: "x86_64" }],
    builtAt: "2026-12-01T00:00:00.000Z",
    ...extra,
  };
  for (const key of drop) delete m[key];
  return m as unknown as Manifest;
};
const facts = (label: string, m: Manifest): ImageFacts => ({ label, manifest: m });

describe("diffImages: a manifest without a packages list", () => {
  it("does not compare packages (absent in --json), names the side, and is never 'identical'", () => {
    const diff = diffImages(facts("old", manifest({}, ["packages"])), facts("new", manifest({})));
    expect(diff.packages).toBeUndefined();
    expect(diff.packagesNotRecordedIn).toEqual(["old"]);
    const text = renderDiff(diff, "text");
    expect(text).toContain("packages: not compared (old records no package list: built by an older bootsmith, or edited)");
    expect(text).not.toContain("identical");
    expect(renderDiff(diff, "markdown")).toContain("Packages not compared: `old` records no package list");
  });

  it("both sides with a list: compared as before", () => {
    const diff = diffImages(facts("a", manifest({})), facts("b", manifest({ packages: [] })));
    expect(diff.packages?.removed).toEqual([{ name: "bash", arch: "x86_64", from: "5.1-1.el9" }]);
    expect(diff.packagesNotRecordedIn).toBeUndefined();
  });
});

describe("diffImages: a manifest without builtAt", () => {
  it("the heading says the build time is not recorded, not 'undefined'", () => {
    const diff = diffImages(facts("old", manifest({}, ["builtAt"])), facts("new", manifest({})));
    const text = renderDiff(diff, "text");
    expect(text.split("\n")[0]).toBe("old (built as compute:9.5, build time not recorded)");
    expect(text).not.toContain("undefined");
    expect(renderDiff(diff, "markdown")).not.toContain("undefined");
  });
});

describe("inspect text: a manifest without builtAt", () => {
  it("says the build time is not recorded, not 'undefined'", () => {
    const report = { name: "compute", tags: ["9.5"], source: "old", artifacts: [] };
    expect(renderInspectText(report).split("\n")[0]).toBe("compute:9.5 (old, build time not recorded)");
    expect(renderInspectText({ ...report, builtAt: "2026-12-01T00:00:00.000Z" }).split("\n")[0]).toBe("compute:9.5 (old, built 2026-12-01T00:00:00.000Z)");
  });
});
