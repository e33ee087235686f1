// bootsmith gc on a directory target through the built CLI (the S3 + BSS case is in
// ceph.test.ts), and the plan's rules on their own: newest N by builtAt per image name, tags in
// a promotion on either side, tags whose <name>/<tag>/ appears in a boot reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { planGc } from "../../src/lifecycle/gc.js";
import type { Manifest } from "../../src/core/manifest.js";

let work: string;
let root: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-gc-"));
  root = path.join(work, "published");
  for (const [name, tag, day] of [
    ["a", "1", 1],
    ["a", "2", 2],
    ["a", "3", 3],
    ["b", "1", 1],
  ] as const) {
    const image = await makeFakeImage({ name, tags: [tag], sizes: { kernel: 1024, rootfs: 2048 }, dir: mkdtempSync(path.join(work, "img-")) });
    writeFileSync(path.join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, builtAt: `2026-11-0${day}T00:00:00Z` }));
    expect((await bootsmith(["publish", image.dir, "--to", `dir:${root}`])).exitCode).toBe(0);
  }
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const m = (builtAt: string, promotions?: Manifest["promotions"]) => ({ builtAt, ...(promotions ? { promotions } : {}) }) as Manifest;

describe("planGc", () => {
  it("keeps the newest N per name, both ends of a promotion and referenced tags; leaves incomplete ones", () => {
    const plan = planGc(
      [
        { name: "x", tag: "old", manifest: m("2026-01-01") },
        { name: "x", tag: "mid", manifest: m("2026-01-02") },
        { name: "x", tag: "new", manifest: m("2026-01-03") },
        { name: "x", tag: "prod", manifest: m("2026-01-01", [{ from: "old", to: "prod", at: "2026-01-05", forced: false }]) },
        { name: "x", tag: "half" },
        { name: "y", tag: "only", manifest: m("2025-01-01") },
        { name: "y", tag: "booted", manifest: m("2024-01-01") },
      ],
      [{ who: "BSS nid 7", strings: ["http://s3/b/y/booted/vmlinuz"] }],
      1,
      (n, t) => `/${n}/${t}/`,
    );
    expect(plan.remove.map((r) => `${r.name}:${r.tag}`)).toEqual(["x:mid"]);
    expect(plan.keep.map((k) => `${k.name}:${k.tag}`).sort()).toEqual(["x:new", "x:old", "x:prod", "y:booted", "y:only"]);
    expect(plan.incomplete).toEqual([{ name: "x", tag: "half" }]);
  });

  it("registry tags: a tag the build did not give is promoted; a digest any kept tag has is kept whole (deletes go by digest)", () => {
    const img = (digest: string, builtAt: string, builtTags: string[]) => ({ digest, builtAt, builtTags });
    const plan = planGc(
      [
        { name: "r", tag: "1", image: img("sha256:a", "2026-01-01", ["1", "latest-1"]) },
        { name: "r", tag: "latest-1", image: img("sha256:a", "2026-01-01", ["1", "latest-1"]) },
        { name: "r", tag: "2", image: img("sha256:b", "2026-01-02", ["2"]) },
        { name: "r", tag: "prod", image: img("sha256:b", "2026-01-02", ["2"]) },
        { name: "r", tag: "3", image: img("sha256:c", "2026-01-03", ["3"]) },
        { name: "r", tag: "4", image: img("sha256:d", "2026-01-04", ["4", "latest"]) },
        { name: "r", tag: "latest", image: img("sha256:d", "2026-01-04", ["4", "latest"]) },
      ],
      [],
      1,
      (_n, t) => `r:${t}`,
    );
    const reasons = Object.fromEntries(plan.keep.map((k) => [k.tag, k.reasons.map((r) => r.kind)]));
    // "latest" sorts first among the newest image's tags; "4" is the same digest.
    expect(reasons).toEqual({ latest: ["newest"], "4": ["same-image"], prod: ["promoted"], "2": ["same-image"] });
    expect(plan.remove.map((r) => r.tag).sort()).toEqual(["1", "3", "latest-1"]);
    expect(plan.incomplete).toEqual([]);
  });
});

describe("bootsmith gc (dir: target)", () => {
  it("dry run by default; --yes deletes what the plan names, per image name", async () => {
    const dry = await bootsmith(["gc", `dir:${root}`, "--keep", "1", "--no-references", "--dry-run"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would delete a:2");
    expect(dry.stdout).toContain("would delete a:1");
    expect(dry.stdout).toMatch(/keep +b:1 .*newest #1/);
    expect(readdirSync(path.join(root, "a")).sort()).toEqual(["1", "2", "3"]);
    const done = await bootsmith(["gc", `dir:${root}`, "--keep", "1", "--no-references", "--yes"]);
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stdout).toContain("deleted 2 tag(s), kept 2");
    expect(readdirSync(path.join(root, "a"))).toEqual(["3"]);
    expect(existsSync(path.join(root, "b", "1", "manifest.json"))).toBe(true);
  });

  it("a registry that does not answer: exit 1, naming it", async () => {
    // Port 9 (discard) is not served here: the connection is refused.
    const r = await bootsmith(["gc", "registry:127.0.0.1:9/x", "--tls-verify=false", "--keep", "1", "--no-references"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("registry:127.0.0.1:9/x: could not list the tags");
  });

  it("bad arguments: exit 2", async () => {
    expect((await bootsmith(["gc", `dir:${root}`, "--no-references"])).exitCode).toBe(2);
    expect((await bootsmith(["gc", `dir:${root}`, "--keep", "0", "--no-references"])).exitCode).toBe(2);
    expect((await bootsmith(["gc", `dir:${root}`, "--keep", "1", "--no-references", "--dry-run", "--yes"])).exitCode).toBe(2);
  });
});
