// After the architecture nodes of a recipe with arches: the combined manifest is written only
// when every architecture is there, and a stale one is removed when one failed (it would list a
// set that changed or is gone). Artifact directories are made by hand; no build runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadGraph, selectNodes, type RecipeGraph } from "../../src/pipeline/graph.js";
import { joinArchitectures, multiArchGroups } from "../../src/pipeline/multi-arch-join.js";
import type { Outcome } from "../../src/pipeline/parallel.js";
import type { Manifest, MultiArchManifest } from "../../src/core/manifest.js";
import { makeFakeImage } from "../publish/support/artifacts.js";

let work: string;
let out: string;
let graph: RecipeGraph;

async function archDir(arch: "x86_64" | "aarch64"): Promise<void> {
  const dir = path.join(out, "m", "1", arch);
  mkdirSync(dir, { recursive: true });
  const image = await makeFakeImage({ dir, name: "m", tags: ["1"], sizes: { kernel: 1000, initrd: 2000, rootfs: 3000 } });
  const manifest: Manifest = { ...image.manifest, arch, arches: ["x86_64", "aarch64"] };
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
}

const built: Outcome = { status: "built", durationMs: 1 };
const failed: Outcome = { status: "failed", durationMs: 1, detail: "exit 1", exitCode: 1 };
const combinedFile = () => path.join(out, "m", "1", "manifest.json");

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-join-"));
  out = path.join(work, "out");
  writeFileSync(
    path.join(work, "m.yaml"),
    'name: m\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n',
  );
  graph = loadGraph([path.join(work, "m.yaml")], { env: {} });
  await archDir("x86_64");
  await archDir("aarch64");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("joinArchitectures", () => {
  const groups = () => multiArchGroups(graph, selectNodes(graph, {}), out);
  const join = (outcomes: Record<string, Outcome>, lines: string[] = []) =>
    joinArchitectures(groups(), new Map(Object.entries(outcomes)), { publish: false, buildahArgs: async () => [], write: (l) => lines.push(l) });

  it("groups the architecture nodes of one recipe under its combined directory", () => {
    expect(groups()).toEqual([{ dir: path.join(out, "m", "1"), recipe: graph.nodes.get("m@aarch64")!.recipe, nodes: ["m@aarch64", "m@x86_64"] }]);
  });

  it("every architecture built: the combined manifest lists each with its manifest's and artifacts' sha256s", async () => {
    expect(await join({ "m@x86_64": built, "m@aarch64": built })).toBe(true);
    const m = JSON.parse(readFileSync(combinedFile(), "utf8")) as MultiArchManifest;
    expect(m.kind).toBe("multi-arch");
    expect(Object.keys(m.arches).sort()).toEqual(["aarch64", "x86_64"]);
    const own = JSON.parse(readFileSync(path.join(out, "m", "1", "aarch64", "manifest.json"), "utf8")) as Manifest;
    expect(m.arches.aarch64!.artifacts.rootfs).toEqual({ ...own.artifacts.rootfs, file: "aarch64/rootfs.squashfs" });
    expect(m.arches.aarch64!.manifest.file).toBe("aarch64/manifest.json");
  });

  it("one architecture failed: no combined manifest (the earlier one is removed), and the run fails", async () => {
    expect(existsSync(combinedFile())).toBe(true);
    const lines: string[] = [];
    expect(await join({ "m@x86_64": built, "m@aarch64": failed }, lines)).toBe(false);
    expect(existsSync(combinedFile())).toBe(false);
    expect(lines).toEqual(["[m] combined manifest not written: not every architecture (x86_64, aarch64) was built"]);
  });
});
