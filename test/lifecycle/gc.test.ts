// bootsmith gc on a directory target through the built CLI (the S3 + BSS case is in
// ceph.test.ts), and the plan's rules on their own: newest N by builtAt per image name, tags in
// a promotion on either side, tags whose <name>/<tag>/ appears in a boot reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { describeSetPart, planGc } from "../../src/lifecycle/gc.js";
import type { StoredTag } from "../../src/lifecycle/store.js";
import type { Manifest } from "../../src/core/manifest.js";
import { matchRegistryReference } from "../../src/lifecycle/registry-references.js";

const dirMatcher = (s: string, t: StoredTag) => (s.includes(`/${t.name}/${t.tag}/`) ? ({ sure: true } as const) : undefined);
const regMatcher = (s: string, t: StoredTag) => matchRegistryReference(s, "reg/m", t);

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
      dirMatcher,
    );
    expect(plan.remove.map((r) => `${r.name}:${r.tag}`)).toEqual(["x:mid"]);
    expect(plan.keep.map((k) => `${k.name}:${k.tag}`).sort()).toEqual(["x:new", "x:old", "x:prod", "y:booted", "y:only"]);
    expect(plan.incomplete).toEqual([{ name: "x", tag: "half" }]);
  });

  it("keeps a set whose manifest has no builtAt (it cannot be dated), outside the newest N", () => {
    const plan = planGc(
      [
        { name: "x", tag: "old", manifest: m("2026-01-01") },
        { name: "x", tag: "new", manifest: m("2026-01-03") },
        { name: "x", tag: "handmade", manifest: {} as Manifest },
      ],
      [],
      1,
      dirMatcher,
    );
    expect(plan.remove.map((r) => r.tag)).toEqual(["old"]);
    expect(Object.fromEntries(plan.keep.map((k) => [k.tag, k.reasons]))).toEqual({ new: [{ kind: "newest", rank: 1 }], handmade: [{ kind: "undated" }] });
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
      (s, t) => matchRegistryReference(s, "reg/r", t),
    );
    const reasons = Object.fromEntries(plan.keep.map((k) => [k.tag, k.reasons.map((r) => r.kind)]));
    // "latest" sorts first among the newest image's tags; "4" is the same digest.
    expect(reasons).toEqual({ latest: ["newest"], "4": ["same-image"], prod: ["promoted"], "2": ["same-image"] });
    expect(plan.remove.map((r) => r.tag).sort()).toEqual(["1", "3", "latest-1"]);
    expect(plan.incomplete).toEqual([]);
  });
});

describe("planGc: registry manifest lists (recipes with arches:)", () => {
  const D = (c: string) => `sha256:${c.repeat(64)}`;
  /** Set n: list <n> naming <n>-amd64 and <n>-arm64, all labelled with the build's tag n. */
  const set = (n: string, builtAt: string, digest: string, amd64: string, arm64: string): StoredTag[] => [
    {
      name: "m",
      tag: n,
      image: {
        digest: D(digest),
        builtAt,
        builtTags: [n],
        platforms: [
          { arch: "amd64", digest: D(amd64) },
          { arch: "arm64", digest: D(arm64) },
        ],
      },
    },
    { name: "m", tag: `${n}-amd64`, image: { digest: D(amd64), builtAt, builtTags: [n] } },
    { name: "m", tag: `${n}-arm64`, image: { digest: D(arm64), builtAt, builtTags: [n] } },
  ];
  const plan = (tags: StoredTag[], keep = 1) => planGc(tags, [], keep, regMatcher);
  const reasons = (p: ReturnType<typeof planGc>) => Object.fromEntries(p.keep.map((k) => [k.tag, k.reasons.map((r) => r.kind).join(",")]));

  it("a set (list and <tag>-<arch> images) is ranked once and kept or deleted whole, its list deleted first", () => {
    const p = plan([...set("1", "2026-01-01", "a", "b", "c"), ...set("2", "2026-01-02", "d", "e", "f")]);
    // Before: each tag ranked alone, 2-arm64 was the newest, list 2 was deleted and every <tag>-<arch> kept as "promoted".
    expect(reasons(p)).toEqual({ "2": "newest", "2-amd64": "newest", "2-arm64": "newest" });
    expect(p.remove.map((r) => `${r.tag} ${r.set}${r.list ? " list" : ""}`)).toEqual(["1 1 list", "1-amd64 1", "1-arm64 1"]);
    expect(p.keep.map((k) => k.set)).toEqual(["2", "2", "2"]);
    expect(describeSetPart(p.remove, p.remove[0]!)).toBe("  (manifest list of 1-amd64, 1-arm64)");
    expect(describeSetPart(p.remove, p.remove[2]!)).toBe("  (arm64 image of set 1)");
  });

  it("an image a kept list names is never deleted: its whole set stays; a referenced or promoted tag keeps its set", () => {
    const prod: StoredTag = {
      name: "m",
      tag: "prod",
      image: { digest: D("9"), builtAt: "2026-01-01", builtTags: ["1"], platforms: [{ arch: "arm64", digest: D("c") }] },
    };
    const p = plan([...set("1", "2026-01-01", "a", "b", "c"), ...set("2", "2026-01-02", "d", "e", "f"), ...set("3", "2026-01-03", "g", "h", "i"), prod]);
    expect(reasons(p)).toMatchObject({ prod: "promoted", "1": "listed", "1-amd64": "listed", "1-arm64": "listed", "3": "newest" });
    expect(p.remove.map((r) => r.tag)).toEqual(["2", "2-amd64", "2-arm64"]);
    // A boot service names one architecture's tag: the set stays.
    const booted = planGc(
      set("1", "2026-01-01", "a", "b", "c").concat(set("2", "2026-01-02", "d", "e", "f")),
      [{ who: "BSS nid 1", strings: ["reg/m:1-arm64"] }],
      1,
      regMatcher,
    );
    expect(booted.remove).toEqual([]);
    expect(reasons(booted)["1-amd64"]).toBe("referenced");
  });

  it("across image names (two recipes' images in one list) and with --name: a kept list still protects the image it names", () => {
    // `publish` of debian-12-live and debian-12-live-arm64 to one repository: the arm64 image carries the other recipe's name.
    const amd = set("b", "2026-01-02", "a", "b", "c").slice(0, 2);
    const arm: StoredTag = { name: "m-arm64", tag: "b-arm64", image: { digest: D("c"), builtAt: "2026-01-01", builtTags: ["b"] } };
    const newer: StoredTag = { name: "m-arm64", tag: "c-arm64", image: { digest: D("d"), builtAt: "2026-01-03", builtTags: ["c"] } };
    for (const only of [undefined, "m-arm64"]) {
      const p = planGc([...amd, arm, newer], [], 1, regMatcher, only);
      expect(p.remove).toEqual([]);
      expect(p.keep.find((k) => k.tag === "b-arm64")?.reasons).toEqual([{ kind: "listed", list: "m:b" }]);
      // --name m-arm64 decides only that name's tags.
      if (only) expect(p.keep.map((k) => k.name)).toEqual(["m-arm64", "m-arm64"]);
    }
  });

  it("per-architecture tags whose list is gone (or not pushed yet) are one set; a suffix the build gave, or another, is no set part", () => {
    const orphans = set("1", "2026-01-01", "a", "b", "c").slice(1);
    const single: StoredTag = { name: "m", tag: "5-arm64", image: { digest: D("5"), builtAt: "2026-01-05", builtTags: ["5-arm64"] } };
    const other: StoredTag = { name: "m", tag: "x-arm64", image: { digest: D("6"), builtAt: "2025-01-01", builtTags: ["7"] } };
    const p = plan([...orphans, ...set("2", "2026-01-02", "d", "e", "f"), single, other]);
    expect(reasons(p)).toEqual({ "5-arm64": "newest", "x-arm64": "promoted" });
    expect(p.remove.map((r) => `${r.tag} ${r.set ?? "-"}`)).toEqual(["2 2", "2-amd64 2", "2-arm64 2", "1-amd64 1", "1-arm64 1"]);
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

  it("a tag whose manifest.json is damaged: gc and promote exit 1 naming the file, no stack trace, nothing deleted", async () => {
    const damaged = path.join(work, "damaged");
    for (const tag of ["1", "2"]) {
      const image = await makeFakeImage({ name: "d", tags: [tag], sizes: { kernel: 1024 }, dir: mkdtempSync(path.join(work, "img-")) });
      expect((await bootsmith(["publish", image.dir, "--to", `dir:${damaged}`])).exitCode).toBe(0);
    }
    const file = path.join(damaged, "d", "1", "manifest.json");
    writeFileSync(file, '{"name": "d", "tags": [');
    const gc = await bootsmith(["gc", `dir:${damaged}`, "--keep", "1", "--no-references", "--yes"]);
    expect(gc.exitCode, gc.stderr).toBe(1);
    expect(gc.stderr).toContain(`${file}: not valid JSON`);
    expect(gc.stderr).not.toContain("    at ");
    expect(readdirSync(path.join(damaged, "d")).sort()).toEqual(["1", "2"]);
    const promote = await bootsmith(["promote", "d:1", "--to", "prod", "--target", `dir:${damaged}`, "--force"]);
    expect(promote.exitCode, promote.stderr).toBe(1);
    expect(promote.stderr).toContain(`dir:${damaged}: d/1/manifest.json: not valid JSON`);
    expect(promote.stderr).not.toContain("    at ");
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
    // A mistyped root is not an empty target ("0 deleted, 0 kept"): it is named.
    const typo = await bootsmith(["gc", `dir:${root}-typo`, "--keep", "1", "--no-references", "--yes"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain(`dir:${root}-typo: no such directory`);
    // So is a mistyped --name: exit 2 naming it, not an image with nothing to delete.
    const name = await bootsmith(["gc", `dir:${root}`, "--keep", "1", "--no-references", "--name", "typo", "--yes"]);
    expect(name.exitCode).toBe(2);
    expect(name.stderr).toContain(`--name typo: dir:${root} holds no image of that name`);
  });
});
