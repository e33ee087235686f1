// Cache decisions and their explanations, from manifests the test writes; no buildah.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  decide,
  explainChange,
  gatherFacts,
  localImageLister,
  parseImageListing,
  readManifestFacts,
  readPublishedSet,
  type CacheFacts,
} from "../../src/pipeline/cache.js";
import { inputDigests } from "../../src/recipe/inputs.js";
import { explainText } from "../../src/pipeline/build-graph.js";
import { collectRecipeFiles, loadGraph } from "../../src/pipeline/graph.js";
import { loadRecipe, type LoadedRecipe } from "../../src/recipe/load.js";
import type { Manifest } from "../../src/core/manifest.js";
import { lookupStorageArgs } from "../../src/builder/storage.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function recipeDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-cache-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, "motd"), "hello\n");
  writeFileSync(
    path.join(dir, "base.yaml"),
    "name: base\ntags: ['1']\nfrom:\n  image: docker.io/library/rockylinux:9\nfiles:\n  - dest: /etc/motd\n    src: motd\ncommands:\n  - script: echo one\nboot: false\n",
  );
  writeFileSync(path.join(dir, "child.yaml"), "name: child\ntags: ['1']\nfrom:\n  recipe: base.yaml\nboot: false\n");
  return dir;
}

/** The manifest a build of `recipe` would have written (only the fields the cache reads matter). */
function manifestFor(recipe: LoadedRecipe, withInputs = true): Manifest {
  return {
    schemaVersion: 1,
    name: recipe.spec.name,
    tags: recipe.spec.tags,
    arch: "x86_64",
    inputDigest: recipe.inputDigest,
    ...(withInputs ? { inputs: inputDigests(recipe) } : {}),
    recipeFile: recipe.file,
    base: { kind: "scratch" },
    image: { ref: `localhost/bootsmith/${recipe.spec.name}:1` },
    artifacts: {},
    packages: [],
    packageManager: "dnf",
    tools: {},
    timings: [],
    builtAt: "2026-01-01T00:00:00Z",
  };
}

const found = (manifest: Manifest, label?: string): CacheFacts => ({
  manifest: { kind: "found", manifest },
  image: label === undefined ? { kind: "missing" } : { kind: "found", label },
});

describe("decide", () => {
  it("up to date only when the manifest and the image label both carry the key", () => {
    const dir = recipeDir();
    const base = loadRecipe(path.join(dir, "base.yaml"));
    const m = manifestFor(base);
    expect(decide(base, "/out", found(m, base.inputDigest))).toEqual({
      build: false,
      reasons: [expect.stringMatching(/^up to date: key [0-9a-f]{12} matches \/out\/manifest\.json and the image localhost\/bootsmith\/base:1$/)],
    });
    expect(decide(base, "/out", found(m)).reasons[0]).toMatch(/inputs unchanged, but the image localhost\/bootsmith\/base:1 is gone/);
    expect(decide(base, "/out", found(m, "")).reasons[0]).toMatch(/carries io\.bootsmith\.input-digest=\(none\), not [0-9a-f]{12}/);
    expect(decide(base, "/out", { manifest: { kind: "missing" }, image: { kind: "unchecked" } }).reasons).toEqual(["never built here: no /out/manifest.json"]);
    expect(decide(base, "/out", found(m, base.inputDigest), { rebuild: "refresh" }).build).toBe(true);
    expect(decide(base, "/out", found(m, base.inputDigest), { parentRebuilt: "base" }).reasons).toEqual(["parent base is rebuilt in this run"]);
    // The image could not be inspected (no buildah here): the manifest decides.
    expect(decide(base, "/out", { manifest: { kind: "found", manifest: m }, image: { kind: "unchecked", why: "buildah: command not found" } })).toMatchObject({
      build: false,
    });
  });

  it("the name still on the image ID the manifest recorded: up to date, said as for a matching label", () => {
    const base = loadRecipe(path.join(recipeDir(), "base.yaml"));
    const id = "a".repeat(64);
    const m: Manifest = { ...manifestFor(base), image: { ref: "localhost/bootsmith/base:1", id } };
    const recorded: CacheFacts = { manifest: { kind: "found", manifest: m }, image: { kind: "recorded", id } };
    expect(decide(base, "/out", recorded)).toEqual(decide(base, "/out", found(m, base.inputDigest)));
    expect(decide(base, "/out", recorded).build).toBe(false);
    // The manifest's key decides first: an old manifest's recorded image is no proof of the new key.
    const old: CacheFacts = { ...recorded, manifest: { kind: "found", manifest: { ...m, inputDigest: "0".repeat(64) } } };
    expect(decide(base, "/out", old).build).toBe(true);
  });

  it("a build that committed no image: up to date by its manifest alone, until something needs the image", () => {
    const base = loadRecipe(path.join(recipeDir(), "base.yaml"));
    const m = manifestFor(base);
    const leaf: Manifest = { ...m, image: { ref: m.image.ref, committed: false } };
    // No image to look at (gatherFacts does not inspect one): the manifest's key decides.
    const facts: CacheFacts = { manifest: { kind: "found", manifest: leaf }, image: { kind: "unchecked" } };
    expect(decide(base, "/out", facts)).toEqual({
      build: false,
      reasons: [expect.stringMatching(/^up to date: key [0-9a-f]{12} matches \/out\/manifest\.json \(no image committed: nothing needs one\)$/)],
    });
    // A child recipe (or a registry target, or a one-file build) needs it now: rebuilt, with the commit.
    expect(decide(base, "/out", facts, { imageNeededBy: "child recipe child" })).toEqual({
      build: true,
      reasons: ["inputs unchanged, but the last build committed no image (nothing needed it then); child recipe child needs localhost/bootsmith/base:1 now"],
    });
    // A changed key is still said first.
    const other: Manifest = { ...leaf, inputDigest: "0".repeat(64) };
    expect(decide(base, "/out", { ...facts, manifest: { kind: "found", manifest: other } }).reasons[0]).not.toMatch(/committed no image/);
  });

  it("a parent rebuilt outside this run (same key, another image): the child is rebuilt, not taken from a registry", () => {
    const dir = recipeDir();
    const child = loadRecipe(path.join(dir, "child.yaml"));
    const then = "b".repeat(64);
    const now = "c".repeat(64);
    const m: Manifest = { ...manifestFor(child), base: { kind: "recipe", name: "base", ref: "localhost/bootsmith/base:1", imageId: then } };
    const facts = (parentImage: CacheFacts["parentImage"]): CacheFacts => ({ ...found(m, child.inputDigest), ...(parentImage ? { parentImage } : {}) });
    expect(decide(child, "/out", facts({ kind: "listed", id: now }))).toEqual({
      build: true,
      reasons: [
        "inputs unchanged, but the parent image localhost/bootsmith/base:1 is now cccccccccccc, not bbbbbbbbbbbb that the last build was made on (the parent was rebuilt outside this run)",
      ],
    });
    // The registry's copy carries the key, but was built on the old parent image.
    const digest = `sha256:${"d".repeat(64)}`;
    const registry = { kind: "found", ref: "r/child:1", digest, label: child.inputDigest } as const;
    expect(decide(child, "/out", { ...facts({ kind: "listed", id: now }), registry })).toMatchObject({ build: true });
    // Still the image it was built on, gone, or not listed (no buildah): the key decides, as before.
    expect(decide(child, "/out", facts({ kind: "listed", id: then })).build).toBe(false);
    expect(decide(child, "/out", facts({ kind: "missing" })).build).toBe(false);
    expect(decide(child, "/out", facts({ kind: "unchecked" })).build).toBe(false);
    // A manifest from before base.imageId was recorded: nothing to compare.
    const old: Manifest = { ...m, base: { kind: "recipe", name: "base", ref: "localhost/bootsmith/base:1" } };
    expect(decide(child, "/out", { ...found(old, child.inputDigest), parentImage: { kind: "listed", id: now } }).build).toBe(false);
  });

  it("gathers the parent's image ID from the run's one listing, only when the last build recorded its own", async () => {
    const dir = recipeDir();
    const graph = loadGraph(collectRecipeFiles([path.join(dir, "child.yaml")]));
    const child = graph.nodes.get("child")!.recipe;
    const out = path.join(dir, "out");
    mkdirSync(out);
    const write = (base: Manifest["base"]) =>
      writeFileSync(
        path.join(out, "manifest.json"),
        JSON.stringify({ ...manifestFor(child), image: { ref: "localhost/bootsmith/child:1", id: "e".repeat(64) }, base }),
      );
    let listings = 0;
    const localImages = async () => {
      listings++;
      return {
        kind: "listed" as const,
        ids: new Map([
          ["localhost/bootsmith/base:1", "c".repeat(64)],
          ["localhost/bootsmith/child:1", "e".repeat(64)],
        ]),
      };
    };
    const options = { globalArgs: [], checkPublished: false, rebuild: false, localImages };
    write({ kind: "recipe", name: "base", ref: "localhost/bootsmith/base:1", imageId: "b".repeat(64) });
    expect((await gatherFacts(child, out, options)).parentImage).toEqual({ kind: "listed", id: "c".repeat(64) });
    write({ kind: "recipe", name: "base", ref: "localhost/bootsmith/base:1" });
    expect((await gatherFacts(child, out, options)).parentImage).toBeUndefined();
    // The first looked up its own image and its parent's; the second its own only.
    expect(listings).toBe(3);
  });

  it("a from.image base whose tag now names a newer local image (pulled by --refresh or by hand): rebuilt, said as such", async () => {
    const dir = recipeDir();
    const graph = loadGraph(collectRecipeFiles([dir]));
    const base = graph.nodes.get("base")!.recipe;
    const out = path.join(dir, "out-base");
    mkdirSync(out);
    const then = "b".repeat(64);
    const now = "c".repeat(64);
    const write = (imageId: string | undefined) =>
      writeFileSync(
        path.join(out, "manifest.json"),
        JSON.stringify({
          ...manifestFor(base),
          image: { ref: "localhost/bootsmith/base:1", id: "e".repeat(64) },
          base: { kind: "image", ref: "docker.io/library/rockylinux:9", ...(imageId ? { imageId } : {}) },
        }),
      );
    // buildah lists the pulled tag by its full name.
    const localImages = async () => ({
      kind: "listed" as const,
      ids: new Map([
        ["docker.io/library/rockylinux:9", now],
        ["localhost/bootsmith/base:1", "e".repeat(64)],
      ]),
    });
    const options = { globalArgs: [], checkPublished: false, rebuild: false, localImages };
    write(then);
    const facts = await gatherFacts(base, out, options);
    expect(facts.parentImage).toEqual({ kind: "listed", id: now });
    expect(decide(base, out, facts)).toEqual({
      build: true,
      reasons: [
        "inputs unchanged, but the base image docker.io/library/rockylinux:9 is now cccccccccccc, not bbbbbbbbbbbb that the last build was made on (a newer image of the tag was pulled)",
      ],
    });
    // The image it was built on is still the tag's: up to date (and without a recorded ID, nothing to compare).
    write(now);
    expect(decide(base, out, await gatherFacts(base, out, options)).build).toBe(false);
    write(undefined);
    expect((await gatherFacts(base, out, options)).parentImage).toBeUndefined();
  });

  it("an unreadable manifest is a reason to rebuild, said as such", () => {
    const dir = recipeDir();
    const out = path.join(dir, "out");
    mkdirSync(out);
    writeFileSync(path.join(out, "manifest.json"), "{ not json");
    const facts = readManifestFacts(out);
    expect(facts.kind).toBe("unreadable");
    expect(decide(loadRecipe(path.join(dir, "base.yaml")), out, { manifest: facts, image: { kind: "unchecked" } }).reasons[0]).toMatch(
      /manifest\.json is unreadable/,
    );
  });
});

describe("the local image listing (buildah images --json)", () => {
  it("maps every name to its image ID as buildah commit prints it; an empty storage lists nothing", () => {
    const listing = JSON.stringify([
      { id: `sha256:${"1".repeat(64)}`, names: ["localhost/bootsmith/base:1", "localhost/bootsmith/base:2"], digest: "sha256:x", size: "1 MB" },
      { id: `sha256:${"2".repeat(64)}`, names: null },
      { id: `sha256:${"3".repeat(64)}`, names: ["docker.io/library/busybox:latest"] },
    ]);
    expect(parseImageListing(listing)).toEqual(
      new Map([
        ["localhost/bootsmith/base:1", "1".repeat(64)],
        ["localhost/bootsmith/base:2", "1".repeat(64)],
        ["docker.io/library/busybox:latest", "3".repeat(64)],
      ]),
    );
    expect(parseImageListing("[]\n").size).toBe(0);
    expect(parseImageListing("null").size).toBe(0);
    expect(parseImageListing("").size).toBe(0);
    expect(() => parseImageListing('{"id": "x"}')).toThrow(/not a list/);
  });
});

describe("the image lookup on a fresh storage root", () => {
  // --if-changed with a new BOOTSMITH_STORAGE_ROOT (or --storage-root) and the last build's
  // manifest in the output directory: the lookup ran `buildah --root R images/inspect` without a
  // driver, and buildah laid the empty root out for its own default driver (overlay-layers …).
  // The build's storage check then found overlay "already used by" the root and kept it, on
  // hosts where overlay does not mount there too, instead of detecting the driver that works.
  it("leaves a root that holds no storage untouched: the image is missing, buildah is not run", async () => {
    const dir = recipeDir();
    const bin = path.join(dir, "bin");
    const calls = path.join(dir, "buildah-calls");
    mkdirSync(bin);
    writeFileSync(calls, "");
    // A stand-in buildah that opens the root as c/storage does: created for its default driver
    // unless --storage-driver names one; no image is known.
    writeFileSync(
      path.join(bin, "buildah"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "$*" >> ${calls}`,
        'root=""; driver=overlay',
        'while [ $# -gt 0 ]; do case "$1" in --root) root="$2"; shift 2 ;; --runroot) shift 2 ;; --storage-driver) driver="$2"; shift 2 ;; *) break ;; esac; done',
        '[ -n "$root" ] && mkdir -p "$root/$driver-layers"',
        'case "$1" in images) echo "[]" ;; *) echo "Error: image not known" >&2; exit 125 ;; esac',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const root = path.join(dir, "fresh-storage");
    mkdirSync(root);
    const base = loadRecipe(path.join(dir, "base.yaml"));
    const out = path.join(dir, "out");
    mkdirSync(out);
    writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ ...manifestFor(base), image: { ref: "localhost/bootsmith/base:1", id: "a".repeat(64) } }));
    vi.stubEnv("PATH", `${bin}:${process.env.PATH}`);
    try {
      const env = { PATH: bin, HOME: dir, XDG_RUNTIME_DIR: path.join(dir, "run") };
      // As build --if-changed and a graph's decisions resolve it (builder/options.ts buildStorageArgs)
      // and list it (pipeline/build-graph.ts: no lister for storage that holds no images).
      const globalArgs = await lookupStorageArgs({ root }, { env, versionCacheDir: path.join(dir, "versions") });
      const single = await gatherFacts(base, out, { globalArgs, checkPublished: false, rebuild: false });
      const listed = await gatherFacts(base, out, {
        globalArgs,
        checkPublished: false,
        rebuild: false,
        localImages: globalArgs === undefined ? undefined : localImageLister(globalArgs),
      });
      expect([single.image, listed.image]).toEqual([{ kind: "missing" }, { kind: "missing" }]);
      expect(readdirSync(root)).toEqual([]);
      // buildah was asked for its default paths (`info`), never about the root
      expect(readFileSync(calls, "utf8")).not.toContain(root);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("decide with the registry (--check-registry)", () => {
  it("an image there with the key counts as up to date, to be pulled by digest; otherwise the registry's answer is one more reason", () => {
    const base = loadRecipe(path.join(recipeDir(), "base.yaml"));
    const none: CacheFacts = { manifest: { kind: "missing" }, image: { kind: "unchecked" } };
    const digest = `sha256:${"d".repeat(64)}`;
    const hit = decide(base, "/out", { ...none, registry: { kind: "found", ref: "registry.local:5000/hpc/base:1", digest, label: base.inputDigest } });
    expect(hit).toEqual({
      build: false,
      pull: `registry.local:5000/hpc/base@${digest}`,
      reasons: [
        expect.stringMatching(
          /^up to date in the registry: registry\.local:5000\/hpc\/base:1 \(sha256:dddd.*\) carries key [0-9a-f]{12}; not built here \(never built here: no \/out\/manifest\.json\)$/,
        ),
      ],
    });
    const stale = decide(base, "/out", { ...none, registry: { kind: "found", ref: "r/base:1", digest, label: "0".repeat(64) } });
    expect(stale.build).toBe(true);
    expect(stale.reasons[1]).toBe("the registry's r/base:1 carries io.bootsmith.input-digest=000000000000, not " + base.inputDigest.slice(0, 12));
    expect(decide(base, "/out", { ...none, registry: { kind: "missing", ref: "r/base:1" } }).reasons[1]).toBe("r/base:1 is not in the registry");
    // --refresh and a rebuilt parent win over the registry.
    expect(decide(base, "/out", { ...none, registry: { kind: "found", ref: "r/base:1", digest, label: base.inputDigest } }, { rebuild: "refresh" }).build).toBe(
      true,
    );
  });
});

describe("decide with an S3 or directory target (--check-published)", () => {
  const none: CacheFacts = { manifest: { kind: "missing" }, image: { kind: "unchecked" } };
  const where = "s3://boot/base/1/manifest.json";

  it("a published manifest with the key: up to date, unless something built here needs the image", () => {
    const base = loadRecipe(path.join(recipeDir(), "base.yaml"));
    const facts: CacheFacts = { ...none, published: { kind: "found", where, inputDigest: base.inputDigest } };
    expect(decide(base, "/out", facts)).toEqual({
      build: false,
      reasons: [`up to date where published: ${where} carries key ${base.inputDigest.slice(0, 12)}; not built here (never built here: no /out/manifest.json)`],
    });
    // One file's build commits its image only as a by-product: the published set is enough.
    expect(decide(base, "/out", facts, { imageNeededBy: "this build", imageIsByProduct: true }).build).toBe(false);
    // A child built in this run needs the image, which S3 does not hold.
    const needed = decide(base, "/out", facts, { imageNeededBy: "child (a child recipe)" });
    expect(needed.build).toBe(true);
    expect(needed.reasons[1]).toBe(
      `${where} carries key ${base.inputDigest.slice(0, 12)}, but child (a child recipe) needs the image localhost/bootsmith/base:1, which that target does not hold`,
    );
    expect(decide(base, "/out", facts, { rebuild: "force" }).build).toBe(true);
  });

  it("another key, no manifest, or an unreachable target: built, with the target's answer as one more reason", () => {
    const base = loadRecipe(path.join(recipeDir(), "base.yaml"));
    const stale = decide(base, "/out", { ...none, published: { kind: "found", where, inputDigest: "0".repeat(64) } });
    expect(stale.build).toBe(true);
    expect(stale.reasons[1]).toBe(`${where} carries key 000000000000, not ${base.inputDigest.slice(0, 12)}`);
    expect(decide(base, "/out", { ...none, published: { kind: "missing", where } }).reasons[1]).toBe(`${where} does not exist`);
    expect(decide(base, "/out", { ...none, published: { kind: "unchecked", where, why: "connection refused" } }).reasons[1]).toBe(
      "publish target not checked: connection refused",
    );
  });

  it("reads a directory target's manifest of the recipe's primary tag", async () => {
    const dir = recipeDir();
    const published = path.join(dir, "published");
    writeFileSync(
      path.join(dir, "site.yaml"),
      `name: site\ntags: ['2', latest]\nfrom:\n  image: docker.io/library/rockylinux:9\npublish:\n  - type: local\n    dir: ${published}\nboot: false\n`,
    );
    const site = loadRecipe(path.join(dir, "site.yaml"));
    const file = path.join(published, "site", "2", "manifest.json");
    expect(await readPublishedSet(site)).toEqual({ kind: "missing", where: file });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(manifestFor(site)));
    const facts = await gatherFacts(site, path.join(dir, "out"), { globalArgs: [], checkPublished: true, rebuild: false });
    expect(facts.published).toEqual({ kind: "found", where: file, inputDigest: site.inputDigest });
    expect(decide(site, path.join(dir, "out"), facts).build).toBe(false);
    writeFileSync(file, "{ half");
    expect(await readPublishedSet(site)).toMatchObject({ kind: "unchecked", where: file, why: expect.stringMatching(/^not JSON/) });
  });
});

describe("an S3 target the --check-published read cannot reach", () => {
  it("names the recipe line its endpoint was written on, not --endpoint (which this build was not given)", async () => {
    const dir = recipeDir();
    writeFileSync(
      path.join(dir, "site.yaml"),
      "name: site\ntags: ['2']\nfrom:\n  image: docker.io/library/rockylinux:9\npublish:\n  - type: registry\n    repository: registry.local/site\n  - type: s3\n    bucket: boot-images\n    endpoint: http://127.0.0.1:1\nboot: false\n",
    );
    vi.stubEnv("S3_ACCESS", "AKIAEXAMPLE");
    vi.stubEnv("S3_SECRET", "examplesecretexamplesecret");
    const read = await readPublishedSet(loadRecipe(path.join(dir, "site.yaml"))).finally(() => vi.unstubAllEnvs());
    expect(read).toMatchObject({ kind: "unchecked" });
    const why = read?.kind === "unchecked" ? read.why : "";
    expect(why).toContain("cannot reach http://127.0.0.1:1");
    expect(why).toContain(`Check the endpoint, given by publish[1].endpoint at ${path.join(dir, "site.yaml")}:10:15, and that the server is running.`);
    expect(why).not.toContain("--endpoint");
  });
});

describe("explaining a changed key", () => {
  it("names the recipe section, the copied file and the parent, old → new", () => {
    const dir = recipeDir();
    const before = loadRecipe(path.join(dir, "child.yaml"));
    const oldBase = manifestFor(before.parent!);
    const oldChild = manifestFor(before);
    writeFileSync(path.join(dir, "motd"), "changed\n");
    writeFileSync(
      path.join(dir, "base.yaml"),
      "name: base\ntags: ['1']\nfrom:\n  image: docker.io/library/rockylinux:9\nfiles:\n  - dest: /etc/motd\n    src: motd\ncommands:\n  - script: echo two\nboot: false\n",
    );
    const after = loadRecipe(path.join(dir, "child.yaml"));
    const baseLines = explainChange(after.parent!, oldBase);
    expect(baseLines).toEqual([
      expect.stringMatching(/^recipe commands: changed: [0-9a-f]{16} → [0-9a-f]{16}$/),
      expect.stringMatching(/^file \/etc\/motd changed: [0-9a-f]{16} → [0-9a-f]{16}$/),
    ]);
    expect(baseLines[1]).toContain(oldBase.inputs!["file /etc/motd"]);
    expect(explainChange(after, oldChild)).toEqual([
      `parent key changed: ${before.parent!.inputDigest.slice(0, 16)} → ${after.parent!.inputDigest.slice(0, 16)}`,
    ]);
  });

  it("a manifest from before inputs were recorded: the key change, and why no detail", () => {
    const dir = recipeDir();
    const old = manifestFor(loadRecipe(path.join(dir, "base.yaml")), false);
    writeFileSync(path.join(dir, "motd"), "changed\n");
    expect(explainChange(loadRecipe(path.join(dir, "base.yaml")), { ...old })).toEqual([
      expect.stringMatching(/^key changed [0-9a-f]{12} → [0-9a-f]{12} \(the old manifest does not record which input/),
    ]);
  });

  it("--explain text: one block per recipe in build order, and the count", () => {
    const dir = recipeDir();
    const graph = loadGraph(collectRecipeFiles([dir]));
    const base = graph.nodes.get("base")!.recipe;
    const decisions = new Map([
      ["base", decide(base, "/out/base", found(manifestFor(base), base.inputDigest))],
      ["child", decide(graph.nodes.get("child")!.recipe, "/out/child", { manifest: { kind: "missing" }, image: { kind: "unchecked" } })],
    ]);
    const text = explainText(graph, new Set(["base", "child"]), decisions, {});
    expect(text[0]).toMatch(/^base \(.*base\.yaml, localhost\/bootsmith\/base:1\): up to date$/);
    expect(text[2]).toMatch(/^child \(.*child\.yaml, localhost\/bootsmith\/child:1\): rebuild$/);
    expect(text[3]).toBe("  never built here: no /out/child/manifest.json");
    expect(text.at(-1)).toBe("1 of 2 recipes would be built");
    // The child is a leaf: its build will commit no image, and --explain says so.
    expect(text[4]).toBe("  no image committed: no child recipe builds on it and no registry target pushes it");
    // --commit-all: every image is committed, and nothing is said.
    expect(explainText(graph, new Set(["base", "child"]), decisions, { commitAll: true })).not.toContain(text[4]);
  });
});
