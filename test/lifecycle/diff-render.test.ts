// The diff's headings: each side is named as the user named it (a promoted prod directory is
// not the build's own NAME:TAG), followed by the build it holds.
import { describe, expect, it } from "vitest";
import { renderDiff } from "../../src/lifecycle/diff-render.js";
import type { ImageDiff } from "../../src/lifecycle/image-diff.js";

// published/debian-12-live/prod was promoted from the bookworm build: its manifest says bookworm.
const diff: ImageDiff = {
  from: { label: "published/debian-12-live/prod", name: "debian-12-live", tags: ["bookworm"], builtAt: "2026-12-01T14:46:52.962Z" },
  to: { label: "artifacts/debian-12-live/bookworm", name: "debian-12-live", tags: ["bookworm"], builtAt: "2026-12-02T09:00:00.000Z" },
  kernel: { from: "6.1.0-57-amd64", to: "6.1.0-58-amd64" },
  artifacts: [{ role: "kernel", file: "vmlinuz", from: 8_000_000, to: 8_100_000, sameBytes: false }],
  packages: { added: [], removed: [], changed: [] },
};

describe("renderDiff headings", () => {
  it("text: each side by what the user named, then the build it holds", () => {
    expect(renderDiff(diff, "text").split("\n").slice(0, 2)).toEqual([
      "published/debian-12-live/prod (built as debian-12-live:bookworm at 2026-12-01T14:46:52.962Z)",
      "  → artifacts/debian-12-live/bookworm (built as debian-12-live:bookworm at 2026-12-02T09:00:00.000Z)",
    ]);
  });

  it("markdown: the same, in the heading and the line under it", () => {
    expect(renderDiff(diff, "markdown").split("\n").slice(0, 3)).toEqual([
      "### Image diff: `published/debian-12-live/prod` → `artifacts/debian-12-live/bookworm`",
      "",
      "Before: built as debian-12-live:bookworm at 2026-12-01T14:46:52.962Z; after: built as debian-12-live:bookworm at 2026-12-02T09:00:00.000Z.",
    ]);
  });
});
