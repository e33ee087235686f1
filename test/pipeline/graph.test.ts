// The recipe graph: collecting files, parents-first order, cycles and missing parents, --only and
// --since selection (in a real temporary git repository). No builds.
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { changedFiles, collectRecipeFiles, imageNeededBy, loadGraph, selectNodes, topologicalOrder, type GraphNode } from "../../src/pipeline/graph.js";
import type { LoadedRecipe } from "../../src/recipe/load.js";
import { explainText, graphWarnings } from "../../src/pipeline/build-graph.js";
import { gitlabPipeline, jobName } from "../../src/pipeline/gitlab.js";
import { baseRef } from "../../src/plan/planner.js";
import { RecipeError } from "../../src/recipe/errors.js";
import { UserError } from "../../src/core/errors.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A directory of recipes: name → parent file (or undefined for a base on an image). */
function tree(recipes: Record<string, string | undefined>, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-graph-unit-"));
  dirs.push(dir);
  for (const [name, parent] of Object.entries(recipes)) {
    const from = parent ? `from:\n  recipe: ${parent}\n` : "from:\n  image: docker.io/library/rockylinux:9\n";
    writeFileSync(path.join(dir, `${name}.yaml`), `name: ${name}\n${from}boot: false\n`);
  }
  for (const [file, content] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** `dir` as a git repository with everything in it committed; returns git run there. */
async function committedRepository(dir: string): Promise<(...args: string[]) => Promise<unknown>> {
  const git = (...args: string[]) =>
    execa("git", ["-C", dir, ...args], {
      env: { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org" },
    });
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "recipes");
  return git;
}

// base → site → {compute, gpu}; login on base; tools stands alone.
const SITE = { base: undefined, site: "base.yaml", compute: "site.yaml", gpu: "site.yaml", login: "base.yaml", tools: undefined };

describe("collecting and ordering", () => {
  it("a directory: recipes only (other YAML ignored), parents before children, stable by name", () => {
    const dir = tree(SITE, { "files/not-a-recipe.yaml": "foo: bar\n", "notes.txt": "hello\n" });
    const graph = loadGraph(collectRecipeFiles([dir]));
    expect(graph.order).toEqual(["base", "login", "site", "compute", "gpu", "tools"]);
    expect(graph.nodes.get("site")?.children).toEqual(["compute", "gpu"]);
    expect(graph.nodes.get("gpu")?.parent).toBe("site");
    // Each file is loaded once: the children's parent is the node's own recipe, not a copy.
    expect(graph.nodes.get("compute")!.recipe.parent).toBe(graph.nodes.get("site")!.recipe);
    expect(graph.nodes.get("gpu")!.recipe.parent).toBe(graph.nodes.get("site")!.recipe);
  });

  it("the order of a large forest: parents first, the smallest ready name next (as a sorted frontier gives it)", () => {
    // 600 nodes, names not in creation order, parents picked by a fixed LCG: wide levels, deep chains.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const names = Array.from({ length: 600 }, (_, i) => `n${(i * 7919) % 600}`);
    const parents = new Map(names.map((n, i) => [n, i > 0 && next() % 5 !== 0 ? names[next() % i] : undefined]));
    const nodes = new Map<string, GraphNode>();
    for (const name of names) {
      const children = names.filter((c) => parents.get(c) === name).sort();
      nodes.set(name, { name, parent: parents.get(name), children, requested: true, recipe: { file: `/r/${name}.yaml` } as LoadedRecipe });
    }
    // The definition, quadratic and obvious: repeatedly take the smallest name whose parent is placed.
    const expected: string[] = [];
    const placed = new Set<string>();
    while (expected.length < names.length) {
      const ready = names.filter((n) => !placed.has(n) && (parents.get(n) === undefined || placed.has(parents.get(n)!))).sort();
      expected.push(ready[0]!);
      placed.add(ready[0]!);
    }
    expect(topologicalOrder(nodes)).toEqual(expected);
  });

  it("a directory of OpenCHAMI configs: image-builder and image-thrillhouse files are recipes too (validate, plan and build read them), playbooks are not", () => {
    const fixtures = path.resolve(import.meta.dirname, "../fixtures/compat");
    const names = (dir: string) => collectRecipeFiles([path.join(fixtures, dir)]).map((f) => path.relative(fixtures, f));
    expect(names("image-builder")).toEqual([
      "image-builder/compute-ansible.native.yaml",
      "image-builder/compute-ansible.yaml",
      "image-builder/leap-15-base.native.yaml",
      "image-builder/leap-15-base.yaml",
      "image-builder/rocky-8-compute.native.yaml",
      "image-builder/rocky-8-compute.yaml",
      "image-builder/rocky-9-base.native.yaml",
      "image-builder/rocky-9-base.yaml",
    ]);
    expect(names("thrillhouse")).toEqual([
      "thrillhouse/bookworm-compute.native.yaml",
      "thrillhouse/bookworm-compute.yaml",
      "thrillhouse/rocky-base.native.yaml",
      "thrillhouse/rocky-base.yaml",
    ]);
    // A YAML file with only one of a format's keys is not taken for a config.
    const dir = tree({ base: undefined }, { "vars.yaml": "options:\n  verbose: true\n", "meta.yaml": "meta:\n  author: me\n" });
    expect(collectRecipeFiles([dir]).map((f) => path.basename(f))).toEqual(["base.yaml"]);
  });

  it("warnings of a recipe built for several architectures (a node each) are printed once, as for any recipe", () => {
    const dir = tree(
      { base: undefined },
      { "multi.yaml": "name: multi\narches: [x86_64, aarch64]\nfrom:\n  image: docker.io/library/rockylinux:9\nboot: false\n" },
    );
    const warnings = graphWarnings(loadGraph(collectRecipeFiles([dir])));
    const noPackages = /^warning: (.*)\.yaml:\d+:\d+: from\.image: no packages: names the image's package manager/gm;
    expect([...warnings.matchAll(noPackages)].map((m) => path.basename(m[1]!))).toEqual(["base", "multi"]);
  });

  it("whose image is needed: a recipe with children or a registry target; leaves commit none", () => {
    const dir = tree(SITE);
    writeFileSync(
      path.join(dir, "tools.yaml"),
      "name: tools\nfrom:\n  image: docker.io/library/rockylinux:9\nboot: false\npublish:\n  - type: local\n    dir: /srv/x\n  - type: registry\n    repository: registry.local:5000/hpc/tools\n",
    );
    const graph = loadGraph(collectRecipeFiles([dir]));
    const needed = Object.fromEntries(graph.order.map((n) => [n, imageNeededBy(graph.nodes.get(n)!)]));
    expect(needed).toEqual({
      base: "child recipe login (and 1 more)",
      login: undefined,
      site: "child recipe compute (and 1 more)",
      compute: undefined,
      gpu: undefined,
      tools: "publish[1] (registry)",
    });
  });

  it("a list file (.txt or YAML recipes:) with paths relative to it; parents not listed are pulled in", () => {
    const dir = tree(SITE);
    writeFileSync(path.join(dir, "build.txt"), "# what CI builds\ncompute.yaml\n\ntools.yaml  # standalone\n");
    const fromText = loadGraph(collectRecipeFiles([path.join(dir, "build.txt")]));
    expect(fromText.order).toEqual(["base", "site", "compute", "tools"]);
    expect(
      [...fromText.nodes.values()]
        .filter((n) => n.requested)
        .map((n) => n.name)
        .sort(),
    ).toEqual(["compute", "tools"]);
    writeFileSync(path.join(dir, "list.yaml"), "recipes: [gpu.yaml]\n");
    expect(loadGraph(collectRecipeFiles([path.join(dir, "list.yaml")])).order).toEqual(["base", "site", "gpu"]);
  });

  it("cycles and missing parents: every broken file named, with line and the chain", () => {
    const dir = tree({ a: "b.yaml", b: "a.yaml", c: "nope.yaml", ok: undefined });
    let error: unknown;
    try {
      loadGraph(collectRecipeFiles([dir]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecipeError);
    const message = (error as Error).message;
    expect(message).toMatch(/a\.yaml:3:\d+: from\.recipe: recipe cycle: .*→.*a recipe cannot build on itself/);
    expect(message).toMatch(/c\.yaml:3:\d+: from\.recipe: parent recipe .*nope\.yaml does not exist/);
  });

  it("two recipes with one name are refused, naming both files and the line of each name:, and the fix", () => {
    const dir = tree({ one: undefined });
    writeFileSync(path.join(dir, "two.yaml"), "# the same name\nfrom:\n  image: x:1\nboot: false\n  # below\nname: one\n");
    expect(() => loadGraph(collectRecipeFiles([dir]))).toThrow(
      `two recipes are named one: ${path.join(dir, "one.yaml")}:1:1 and ${path.join(dir, "two.yaml")}:6:1; names identify images and output directories, so they must be unique: change the name: of one of them`,
    );
  });

  it("a path that does not exist, an empty directory: clear errors", () => {
    expect(() => collectRecipeFiles(["/nonexistent/recipes"])).toThrow(UserError);
    const empty = mkdtempSync(path.join(tmpdir(), "bootsmith-empty-"));
    dirs.push(empty);
    expect(() => collectRecipeFiles([empty])).toThrow(/no recipes found/);
  });
});

// OpenCHAMI layers name their parent by the registry tag it publishes: image-thrillhouse's
// meta.from, image-builder's parent:.
const OC_BASE = `meta:
  name: rocky-base
  tags: ["9.5", latest]
layer:
  manager:
    name: dnf
    options:
      releasever: "9"
publish:
  - type: registry
    url: Registry.Site:5000/openchami
`;
const ocCompute = (from: string) => `meta:
  name: rocky-compute
  tags: ["9.5"]
  from: ${from}
layer:
  manager:
    name: dnf
  actions:
    install:
      packages: [slurm]
publish:
  - type: registry
    url: registry.site:5000/openchami
`;
const IB_CHILD = `options:
  layer_type: base
  name: ib-child
  publish_tags: ["1"]
  parent: registry.site:5000/openchami/rocky-compute:9.5
  pkg_manager: dnf
packages:
  - htop
`;

describe("layers chained through registry tags", () => {
  it("a from.image another recipe of the run publishes makes it that recipe's child: ordered after it, built on its image, in ci gitlab's needs and --explain", () => {
    const dir = tree(
      {},
      {
        "base.yaml": OC_BASE,
        "compute.yaml": ocCompute("docker://registry.site:5000/openchami/rocky-base"),
        "ib-child.yaml": IB_CHILD,
        "leaf.yaml": "name: leaf\nfrom:\n  recipe: ib-child.yaml\nboot: false\n",
      },
    );
    const graph = loadGraph(collectRecipeFiles([dir]));
    expect(graph.order).toEqual(["rocky-base", "rocky-compute", "ib-child", "leaf"]);
    expect(graph.nodes.get("rocky-compute")?.parent).toBe("rocky-base");
    expect(graph.nodes.get("ib-child")?.parent).toBe("rocky-compute");
    const compute = graph.nodes.get("rocky-compute")!.recipe;
    // Built on the parent's image of this run, never on the registry's older one.
    expect(compute.parent).toBe(graph.nodes.get("rocky-base")!.recipe);
    expect(compute.spec.from).toEqual({ recipe: "base.yaml" });
    expect(baseRef(compute)).toBe("localhost/bootsmith/rocky-base:9.5");
    expect(compute.parentImage).toBe("docker://registry.site:5000/openchami/rocky-base");
    // The key holds the parent's (a new base rebuilds the layer), down to a native recipe on the chain.
    const alone = loadGraph([path.join(dir, "compute.yaml")]).nodes.get("rocky-compute")!.recipe;
    expect(alone.parent).toBeUndefined();
    expect(compute.inputDigest).not.toBe(alone.inputDigest);
    const leaf = graph.nodes.get("leaf")!.recipe;
    expect(leaf.parent).toBe(graph.nodes.get("ib-child")!.recipe);
    expect(leaf.parent?.parent).toBe(compute);
    expect(leaf.inputDigest).not.toBe(loadGraph([path.join(dir, "leaf.yaml")]).nodes.get("leaf")!.recipe.inputDigest);

    const pipeline = gitlabPipeline(graph, new Set(graph.order), { projectDir: dir });
    expect((pipeline[jobName("rocky-compute")] as { needs: unknown }).needs).toEqual([{ job: jobName("rocky-base"), artifacts: true }]);
    expect((pipeline[jobName("ib-child")] as { needs: unknown }).needs).toEqual([{ job: jobName("rocky-compute"), artifacts: true }]);

    const decisions = new Map(graph.order.map((n) => [n, { build: true, reasons: ["never built here"] }]));
    expect(explainText(graph, new Set(graph.order), decisions, {})).toContain(
      "  builds on rocky-base: its from.image docker://registry.site:5000/openchami/rocky-base is what rocky-base publishes in this run, so it waits for rocky-base and builds on the image rocky-base commits here",
    );
  });

  it("on a parent with arches: the child links to its own architecture's node, and its job waits for the join that pushes the tag", () => {
    const dir = tree(
      {},
      {
        "base.yaml":
          'name: base\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom:\n  image: docker.io/library/rockylinux:9\npackages:\n  manager: dnf\nboot: false\npublish:\n  - type: registry\n    repository: registry.site/site/base\n',
        "child.yaml": 'name: child\ntags: ["1"]\nfrom:\n  image: registry.site/site/base:1\npackages:\n  manager: dnf\nboot: false\n',
      },
    );
    const graph = loadGraph(collectRecipeFiles([dir]));
    expect(graph.nodes.get("child@x86_64")?.parent).toBe("base@x86_64");
    const needs = (selected: Set<string>) => (gitlabPipeline(graph, selected, { projectDir: dir })[jobName("child@x86_64")] as { needs: unknown }).needs;
    expect(needs(new Set(graph.order))).toEqual([{ job: "join:base", artifacts: true }]);
    // --only child@x86_64: no join (nothing publishes the tag), the architecture's job.
    expect(needs(selectNodes(graph, { only: ["child@x86_64"] }))).toEqual([{ job: jobName("base@x86_64"), artifacts: true }]);
  });

  it("a reference no recipe of the run publishes (another tag, host or port, a digest) stays an outside image", () => {
    for (const from of [
      "registry.site:5000/openchami/rocky-base:9",
      "registry.site/openchami/rocky-base:9.5",
      "registry.site:5000/openchami/rocky-base-x:9.5",
      `registry.site:5000/openchami/rocky-base@sha256:${"ab".repeat(32)}`,
    ]) {
      const dir = tree({}, { "base.yaml": OC_BASE, "compute.yaml": ocCompute(from) });
      const graph = loadGraph(collectRecipeFiles([dir]));
      expect(graph.nodes.get("rocky-compute")?.parent, from).toBeUndefined();
      expect(graph.nodes.get("rocky-compute")!.recipe.spec.from, from).toEqual({ image: from, tlsVerify: true });
    }
  });

  it("two recipes publishing the tag a layer builds on, or a cycle through tags: refused, naming the files", () => {
    const dir = tree({}, { "base.yaml": OC_BASE, "compute.yaml": ocCompute("registry.site:5000/openchami/rocky-base:latest") });
    writeFileSync(
      path.join(dir, "other.yaml"),
      "name: rocky-base-2\nfrom:\n  image: docker.io/library/rockylinux:9\ntags: [latest]\nboot: false\npublish:\n  - type: registry\n    repository: registry.site:5000/openchami/rocky-base\n",
    );
    expect(() => loadGraph(collectRecipeFiles([dir]))).toThrow(
      `${path.join(dir, "compute.yaml")}: from.image registry.site:5000/openchami/rocky-base:latest is published by more than one recipe of this run (${path.join(dir, "base.yaml")}, ${path.join(dir, "other.yaml")}); give each a tag of its own`,
    );
    const layer = (name: string, on: string) => ocCompute(`registry.site:5000/openchami/${on}:9.5`).replace("rocky-compute", name);
    const loop = tree({}, { "a.yaml": layer("a", "b"), "b.yaml": layer("b", "a") });
    expect(() => loadGraph(collectRecipeFiles([loop]))).toThrow(
      /^recipe cycle through registry tags: a \(.*a\.yaml\) → b \(.*b\.yaml\) → a \(.*a\.yaml\); a recipe cannot build on an image it publishes itself$/,
    );
  });
});

describe("selection", () => {
  it("--only NAME: the recipe and its ancestors, not siblings or children", () => {
    const graph = loadGraph(collectRecipeFiles([tree(SITE)]));
    expect([...selectNodes(graph, { only: ["compute"] })].sort()).toEqual(["base", "compute", "site"]);
    expect([...selectNodes(graph, { only: ["site", "tools"] })].sort()).toEqual(["base", "site", "tools"]);
  });

  it("--only with an unknown name suggests the closest", () => {
    const graph = loadGraph(collectRecipeFiles([tree(SITE)]));
    expect(() => selectNodes(graph, { only: ["comptue"] })).toThrow(/--only comptue: no such recipe in the graph \(did you mean compute\?\)/);
  });

  it("--since REF: changed recipes and copied files, plus descendants (and their ancestors)", async () => {
    const dir = tree(SITE, { "site.d/motd": "hello\n" });
    // site copies a directory: a change under it selects site and its descendants.
    writeFileSync(path.join(dir, "site.yaml"), "name: site\nfrom:\n  recipe: base.yaml\nfiles:\n  - dest: /etc/site.d\n    src: site.d\nboot: false\n");
    const git = await committedRepository(dir);

    const graph = () => loadGraph(collectRecipeFiles([dir]));
    expect([...selectNodes(graph(), { changed: await changedFiles("HEAD", dir) })]).toEqual([]);

    writeFileSync(path.join(dir, "site.d/motd"), "changed\n");
    expect([...selectNodes(graph(), { changed: await changedFiles("HEAD", dir) })].sort()).toEqual(["base", "compute", "gpu", "site"]);
    await git("commit", "-q", "-am", "motd");

    writeFileSync(path.join(dir, "login.yaml"), "name: login\nfrom:\n  recipe: base.yaml\ncommands:\n  - script: echo hi\nboot: false\n");
    writeFileSync(path.join(dir, "extra.yaml"), "name: extra\nfrom:\n  recipe: tools.yaml\nboot: false\n"); // untracked
    expect([...selectNodes(graph(), { changed: await changedFiles("HEAD", dir) })].sort()).toEqual(["base", "extra", "login", "tools"]);
    // Against the first commit, the motd change counts too.
    expect([...selectNodes(graph(), { changed: await changedFiles("HEAD~1", dir) })].sort()).toEqual([
      "base",
      "compute",
      "extra",
      "gpu",
      "login",
      "site",
      "tools",
    ]);
  });

  it("--since REF: every file the key hashes selects its recipe (a repository key, a module's source, the OpenSCAP tailoring and CPE)", async () => {
    const dir = tree(
      { base: undefined },
      {
        "keyed.yaml":
          "name: keyed\nfrom:\n  recipe: base.yaml\npackages:\n  manager: dnf\n  repos:\n    - name: site\n      baseurl: http://mirror.example/site/\n      gpgkey: keys/site.gpg\nboot: false\n",
        "keys/site.gpg": "key 1\n",
        "dkms.yaml": "name: dkms\nfrom:\n  image: docker.io/library/debian:12\npackages:\n  manager: apt\nkernelModules:\n  build:\n    src: mod\n",
        "mod/Makefile": "obj-m := x.o\n",
        "scanned.yaml":
          "name: scanned\nfrom:\n  image: docker.io/library/debian:12\npackages:\n  manager: apt\nscan:\n  openscap:\n    profile: standard\n    datastream: scap/ds.xml\n    tailoring: scap/tailoring.xml\n    cpe: scap/cpe.xml\nboot: false\n",
        "scap/ds.xml": '<Benchmark><Profile id="xccdf_org.ssgproject.content_profile_standard"/></Benchmark>\n',
        "scap/tailoring.xml": "<t/>\n",
        "scap/cpe.xml": "<c/>\n",
        "login.yaml": "name: login\nfrom:\n  recipe: keyed.yaml\nboot: false\n",
      },
    );
    const git = await committedRepository(dir);
    const selected = async () => [...selectNodes(loadGraph(collectRecipeFiles([dir])), { changed: await changedFiles("HEAD", dir) })].sort();

    // A rotated repository key changes keyed's key (and login's, through the parent): both are rebuilt.
    writeFileSync(path.join(dir, "keys/site.gpg"), "key 2\n");
    expect(await selected()).toEqual(["base", "keyed", "login"]);
    await git("checkout", "-q", "--", ".");
    writeFileSync(path.join(dir, "mod/Makefile"), "obj-m := y.o\n");
    expect(await selected()).toEqual(["dkms"]);
    await git("checkout", "-q", "--", ".");
    for (const file of ["scap/tailoring.xml", "scap/cpe.xml"]) {
      writeFileSync(path.join(dir, file), "<changed/>\n");
      expect(await selected()).toEqual(["scanned"]);
      await git("checkout", "-q", "--", ".");
    }
  });

  it("--since with a ref git does not know is a clear error", async () => {
    const dir = tree(SITE);
    await execa("git", ["-C", dir, "init", "-q"]);
    await expect(changedFiles("no-such-ref", dir)).rejects.toThrow(/--since no-such-ref: not a commit/);
  });
});
