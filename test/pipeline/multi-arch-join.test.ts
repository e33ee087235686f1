// After the architecture nodes of a recipe with arches: the combined manifest is written only
// when every architecture is there, and a stale one is removed when one failed (it would list a
// set that changed or is gone). Artifact directories are made by hand; no build runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadGraph, selectNodes, type RecipeGraph } from "../../src/pipeline/graph.js";
import { joinArchitectures, multiArchGroups, pushBuiltArchitecture } from "../../src/pipeline/multi-arch-join.js";
import type { Outcome } from "../../src/pipeline/parallel.js";
import type { Manifest, MultiArchManifest } from "../../src/core/manifest.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { renderSums, SIGNATURE_FILE, sumEntries, SUMS_FILE } from "../../src/core/sums.js";
import { sha256Bytes } from "../../src/core/hash.js";

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

describe("pushBuiltArchitecture (ci push) refuses, before any push", () => {
  const push = (file: string, arch: "x86_64" | "aarch64" = "x86_64") => pushBuiltArchitecture(file, arch, { vars: {}, outRoot: out, write: () => {} });

  it("a recipe without a registry target (S3 and directory targets are the join's alone)", async () => {
    await expect(push(path.join(work, "m.yaml"))).rejects.toThrow(/m\.yaml: no registry publish target to push m@x86_64 to/);
  });

  it("an architecture not built here, built from other inputs, or signed (recording the push would void the signature)", async () => {
    const file = path.join(work, "r.yaml");
    writeFileSync(
      file,
      'name: r\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: registry, repository: "127.0.0.1:1/r"}\n',
    );
    await expect(push(file, "aarch64")).rejects.toThrow(/r\/1\/aarch64\/manifest\.json: missing; did the build of r@aarch64 succeed\?/);
    const dir = path.join(out, "r", "1", "aarch64");
    cpSync(path.join(out, "m", "1", "aarch64"), dir, { recursive: true });
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ ...JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")), name: "r" }));
    await expect(push(file, "aarch64")).rejects.toThrow(/was built from other inputs than .*r\.yaml has now .*: rebuild r@aarch64/);

    // Built from the current inputs, but signed: recording the push would void the signature.
    const inputDigest = loadGraph([file], { env: {} }).nodes.get("r@aarch64")!.recipe.inputDigest;
    const bytes = Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")), inputDigest }));
    writeFileSync(path.join(dir, "manifest.json"), bytes);
    const manifest = JSON.parse(bytes.toString()) as Manifest;
    writeFileSync(path.join(dir, SUMS_FILE), renderSums(sumEntries(manifest, sha256Bytes(bytes))));
    writeFileSync(path.join(dir, SIGNATURE_FILE), "a detached signature");
    await expect(push(file, "aarch64")).rejects.toThrow(/the set is signed, and recording the pushed digests would void its signature/);
  });
});
