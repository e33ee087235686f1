// The recipe's architecture reaches every tool that picks one: buildah (the committed image's
// platform, and which image a base pull takes), mmdebstrap, dnf on the host, the xz BCJ filter;
// it is part of the cache key, and a layer cannot change it. test/e2e/aarch64.test.ts builds and
// boots an arm64 image for real.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandArches, loadRecipe, localImageRef } from "../../src/recipe/load.js";
import { defaultOutDir } from "../../src/builder/options.js";
import { loadGraph, selectNodes } from "../../src/pipeline/graph.js";
import { plan } from "../../src/plan/planner.js";
import type { Plan } from "../../src/steps/types.js";
import { fixedPlanOptions, RECIPES_DIR } from "./support.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-arch-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function write(files: Record<string, string>): string {
  const dir = path.join(root, `r${n++}`);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** Every exec of the plan as "program word word …" (runtime values as <var>). */
function commands(p: Plan): string[] {
  return p.steps.flatMap((s) =>
    s.actions.flatMap((a) => (a.kind === "exec" ? [[a.command.file, ...a.command.args.map((x) => (typeof x === "string" ? x : "<var>"))].join(" ")] : [])),
  );
}

const dnfRecipe = (arch: string, extra = "") =>
  `name: d\narch: ${arch}\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\nboot:\n  rootfs: {profile: release}\n${extra}`;

describe("arch: aarch64 in the plan", () => {
  it("the Debian arm64 example: buildah from --arch arm64, mmdebstrap --architectures=arm64", () => {
    const cmds = commands(plan(loadRecipe(path.join(RECIPES_DIR, "debian-12-live-arm64.yaml"), { env: {} }), fixedPlanOptions()));
    expect(cmds.find((c) => / from /.test(c))).toMatch(/ from --name \S+ --arch arm64 scratch$/);
    expect(cmds.find((c) => c.startsWith("mmdebstrap "))).toContain(" --architectures=arm64 ");
  });

  it("dnf on the host installs for the recipe's architecture (--forcearch), and xz gets no x86 BCJ filter", () => {
    const arm = commands(plan(loadRecipe(path.join(write({ "r.yaml": dnfRecipe("aarch64") }), "r.yaml"), { env: {} }), fixedPlanOptions()));
    const x86 = commands(plan(loadRecipe(path.join(write({ "r.yaml": dnfRecipe("x86_64") }), "r.yaml"), { env: {} }), fixedPlanOptions()));
    expect(arm.filter((c) => c.startsWith("dnf ")).every((c) => c.includes(" --forcearch=aarch64 "))).toBe(true);
    expect(x86.filter((c) => c.startsWith("dnf ")).every((c) => c.includes(" --forcearch=x86_64 "))).toBe(true);
    expect(arm.find((c) => c.startsWith("mksquashfs "))).toMatch(/-comp xz -processors/);
    expect(x86.find((c) => c.startsWith("mksquashfs "))).toMatch(/-comp xz -Xbcj x86 -processors/);
    expect(arm.find((c) => / from /.test(c))).toContain("--arch arm64");
    expect(x86.find((c) => / from /.test(c))).toContain("--arch amd64");
  });

  it("a base image is pulled for the recipe's platform", () => {
    const dir = write({ "r.yaml": "name: b\narch: aarch64\nfrom: {image: quay.io/rockylinux/rockylinux:9}\n" });
    expect(commands(plan(loadRecipe(path.join(dir, "r.yaml"), { env: {} }), fixedPlanOptions())).find((c) => / from /.test(c))).toMatch(
      /from --name \S+ --arch arm64 --tls-verify=true --pull=missing quay.io\/rockylinux\/rockylinux:9$/,
    );
  });

  it("--refresh pulls an image base again (--pull=always), so an updated base:latest is built on; a parent recipe's image never", () => {
    const dir = write({
      "base.yaml": "name: base\nfrom: {image: registry.site/site/base:latest}\npackages: {manager: dnf}\nboot: false\n",
      "child.yaml": "name: child\nfrom: {recipe: base.yaml}\nboot: false\n",
    });
    const from = (file: string, pullBase?: "always") =>
      commands(plan(loadRecipe(path.join(dir, file), { env: {} }), fixedPlanOptions(pullBase ? { pullBase } : {}))).find((c) => / from /.test(c));
    expect(from("base.yaml", "always")).toMatch(/ --pull=always registry\.site\/site\/base:latest$/);
    expect(from("base.yaml")).toMatch(/ --pull=missing registry\.site\/site\/base:latest$/);
    expect(from("child.yaml", "always")).toMatch(/ --pull=never localhost\/bootsmith\/base:latest$/);
    // An image of local storage (no registry serves localhost/…) or one pinned by digest cannot be newer in a registry.
    const digest = `sha256:${"ab".repeat(32)}`;
    writeFileSync(path.join(dir, "local.yaml"), "name: local\nfrom: {image: localhost/site-base:1}\npackages: {manager: dnf}\nboot: false\n");
    writeFileSync(path.join(dir, "pinned.yaml"), `name: pinned\nfrom: {image: "registry.site/site/base@${digest}"}\npackages: {manager: dnf}\nboot: false\n`);
    expect(from("local.yaml", "always")).toMatch(/ --pull=missing localhost\/site-base:1$/);
    expect(from("pinned.yaml", "always")).toMatch(/ --pull=missing registry\.site\/site\/base@sha256:(ab){32}$/);
  });

  it("the architecture is part of the cache key", () => {
    const a = loadRecipe(path.join(write({ "r.yaml": dnfRecipe("aarch64") }), "r.yaml"), { env: {} });
    const b = loadRecipe(path.join(write({ "r.yaml": dnfRecipe("x86_64") }), "r.yaml"), { env: {} });
    expect(a.inputDigest).not.toBe(b.inputDigest);
  });

  it("a layer on a parent of another architecture is refused, naming both", () => {
    const dir = write({ "base.yaml": dnfRecipe("x86_64"), "child.yaml": "name: c\narch: aarch64\nfrom: {recipe: base.yaml}\n" });
    expect(() => loadRecipe(path.join(dir, "child.yaml"), { env: {} })).toThrow(
      /arch: the parent recipe \S+base\.yaml is built for x86_64, not aarch64: a layer runs on its parent's root; remove arch here to take the parent's/,
    );
  });

  it("zypper from scratch for aarch64 is refused (its plug-in cannot force the architecture)", () => {
    const dir = write({ "r.yaml": "name: z\narch: aarch64\nfrom: scratch\npackages:\n  manager: zypper\n  install: [kernel-default]\n" });
    expect(() => loadRecipe(path.join(dir, "r.yaml"), { env: {} })).toThrow(/zypper from scratch builds x86_64 roots only/);
  });
});

const multiRecipe = (extra = "") =>
  `name: m\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n${extra}`;

describe("arches: one recipe, a build per architecture", () => {
  it("expands to one recipe per architecture, each with its own plan, output directory, image and cache key", () => {
    const dir = write({ "m.yaml": multiRecipe() });
    const [x86, arm, ...rest] = expandArches(loadRecipe(path.join(dir, "m.yaml"), { env: {} }));
    expect(rest).toEqual([]);
    expect([x86!.spec.arch, arm!.spec.arch]).toEqual(["x86_64", "aarch64"]);
    expect(x86!.inputDigest).not.toBe(arm!.inputDigest);
    expect(defaultOutDir(arm!, "/out")).toBe("/out/m/1/aarch64");
    expect(defaultOutDir(x86!, "/out")).toBe("/out/m/1/x86_64");
    expect([localImageRef(x86!.spec), localImageRef(arm!.spec)]).toEqual(["localhost/bootsmith/m:1-amd64", "localhost/bootsmith/m:1-arm64"]);
    const armCmds = commands(plan(arm!, fixedPlanOptions()));
    expect(armCmds.filter((c) => c.startsWith("dnf ")).every((c) => c.includes(" --forcearch=aarch64 "))).toBe(true);
    expect(
      commands(plan(x86!, fixedPlanOptions()))
        .filter((c) => c.startsWith("dnf "))
        .every((c) => c.includes(" --forcearch=x86_64 ")),
    ).toBe(true);
  });

  it("a single-architecture recipe keeps its directory and image name", () => {
    const [only, ...rest] = expandArches(loadRecipe(path.join(write({ "r.yaml": dnfRecipe("aarch64") }), "r.yaml"), { env: {} }));
    expect(rest).toEqual([]);
    expect(defaultOutDir(only!, "/out")).toBe("/out/d/latest");
    expect(localImageRef(only!.spec)).toBe("localhost/bootsmith/d:latest");
  });

  it("arch and arches together are refused, naming the fix", () => {
    const dir = write({ "m.yaml": multiRecipe("arch: aarch64\n") });
    expect(() => loadRecipe(path.join(dir, "m.yaml"), { env: {} })).toThrow(
      /m\.yaml:\d+:\d+: arches: give arch \(one architecture\) or arches \(several\), not both: remove arch: aarch64/,
    );
  });

  it("a repeated architecture is refused", () => {
    const dir = write({ "m.yaml": multiRecipe().replace("[x86_64, aarch64]", "[aarch64, aarch64]") });
    expect(() => loadRecipe(path.join(dir, "m.yaml"), { env: {} })).toThrow(/arches: each architecture once/);
  });

  it("a layer inherits its parent's arches and builds each on the parent's image of that architecture", () => {
    const dir = write({ "m.yaml": multiRecipe(), "c.yaml": "name: c\ntags: ['2']\nfrom: {recipe: m.yaml}\nboot: false\n" });
    const variants = expandArches(loadRecipe(path.join(dir, "c.yaml"), { env: {} }));
    expect(variants.map((v) => v.spec.arch)).toEqual(["x86_64", "aarch64"]);
    const arm = variants[1]!;
    expect(arm.parent!.spec.arch).toBe("aarch64");
    expect(commands(plan(arm, fixedPlanOptions())).find((c) => / from /.test(c))).toMatch(/--arch arm64 --pull=never localhost\/bootsmith\/m:1-arm64$/);
    expect(defaultOutDir(arm, "/out")).toBe("/out/c/2/aarch64");
  });

  it("a layer may take one of its parent's architectures, not one the parent lacks", () => {
    const dir = write({
      "m.yaml": multiRecipe(),
      "one.yaml": "name: one\narch: aarch64\nfrom: {recipe: m.yaml}\nboot: false\n",
      "base.yaml": dnfRecipe("x86_64"),
      "bad.yaml": "name: bad\narches: [x86_64, aarch64]\nfrom: {recipe: base.yaml}\nboot: false\n",
    });
    const [one, ...rest] = expandArches(loadRecipe(path.join(dir, "one.yaml"), { env: {} }));
    expect(rest).toEqual([]);
    expect(one!.parent!.spec.arch).toBe("aarch64");
    expect(defaultOutDir(one!, "/out")).toBe("/out/one/latest");
    expect(() => loadRecipe(path.join(dir, "bad.yaml"), { env: {} })).toThrow(/arches: the parent recipe \S+base\.yaml is built for x86_64, not aarch64/);
  });

  it("register: in a multi-architecture recipe names each entry's architecture: without arch:, or with one not built, the file, field and fix", () => {
    const dir = write({
      "m.yaml": multiRecipe("register:\n  - {type: bss, url: http://bss:27778, nids: [1]}\n"),
      "ok.yaml": multiRecipe("publish:\n  - {type: local, dir: /srv/boot}\nregister:\n  - {type: bss, arch: aarch64, url: http://bss:27778, nids: [1]}\n"),
      "nowhere.yaml": multiRecipe("register:\n  - {type: bss, arch: aarch64, url: http://bss:27778, nids: [1]}\n"),
      "one.yaml": dnfRecipe("x86_64") + "register:\n  - {type: bss, arch: aarch64, url: http://bss:27778, nids: [1]}\n",
    });
    expect(() => loadRecipe(path.join(dir, "m.yaml"), { env: {} })).toThrow(
      /m\.yaml:\d+:\d+: register\[0\]: the recipe is built for x86_64, aarch64: add arch: x86_64 or arch: aarch64 to say which architecture's artifacts these nodes boot/,
    );
    expect(loadRecipe(path.join(dir, "ok.yaml"), { env: {} }).spec.register[0]!.arch).toBe("aarch64");
    expect(() => loadRecipe(path.join(dir, "nowhere.yaml"), { env: {} })).toThrow(
      /register\[0\]: registration after the combined publish needs the image published to S3 or a local directory: add such a publish target/,
    );
    expect(() => loadRecipe(path.join(dir, "one.yaml"), { env: {} })).toThrow(
      /register\[0\]\.arch: aarch64, but the recipe is built for x86_64: name one of them, or remove arch/,
    );
  });

  it("the graph has a node per architecture, children on the same architecture's parent; --only NAME selects all of them", () => {
    const dir = write({ "m.yaml": multiRecipe(), "c.yaml": "name: c\nfrom: {recipe: m.yaml}\nboot: false\n" });
    const graph = loadGraph([path.join(dir, "m.yaml"), path.join(dir, "c.yaml")], { env: {} });
    expect(graph.order).toEqual(["m@aarch64", "c@aarch64", "m@x86_64", "c@x86_64"]);
    expect(graph.nodes.get("c@aarch64")!.parent).toBe("m@aarch64");
    expect(graph.nodes.get("m@x86_64")!.children).toEqual(["c@x86_64"]);
    expect([...selectNodes(graph, { only: ["c"] })].sort()).toEqual(["c@aarch64", "c@x86_64", "m@aarch64", "m@x86_64"]);
    expect([...selectNodes(graph, { only: ["c@aarch64"] })].sort()).toEqual(["c@aarch64", "m@aarch64"]);
  });
});
