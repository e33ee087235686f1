// The recipe's architecture reaches every tool that picks one: buildah (the committed image's
// platform, and which image a base pull takes), mmdebstrap, dnf on the host, the xz BCJ filter;
// it is part of the cache key, and a layer cannot change it. test/e2e/aarch64.test.ts builds and
// boots an arm64 image for real.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
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

  it("the architecture is part of the cache key", () => {
    const a = loadRecipe(path.join(write({ "r.yaml": dnfRecipe("aarch64") }), "r.yaml"), { env: {} });
    const b = loadRecipe(path.join(write({ "r.yaml": dnfRecipe("x86_64") }), "r.yaml"), { env: {} });
    expect(a.inputDigest).not.toBe(b.inputDigest);
  });

  it("a layer on a parent of another architecture is refused, naming both", () => {
    const dir = write({ "base.yaml": dnfRecipe("x86_64"), "child.yaml": "name: c\narch: aarch64\nfrom: {recipe: base.yaml}\n" });
    expect(() => loadRecipe(path.join(dir, "child.yaml"), { env: {} })).toThrow(
      /arch: the parent recipe \S+base\.yaml is x86_64 and this one is aarch64: set arch: x86_64/,
    );
  });

  it("zypper from scratch for aarch64 is refused (its plug-in cannot force the architecture)", () => {
    const dir = write({ "r.yaml": "name: z\narch: aarch64\nfrom: scratch\npackages:\n  manager: zypper\n  install: [kernel-default]\n" });
    expect(() => loadRecipe(path.join(dir, "r.yaml"), { env: {} })).toThrow(/zypper from scratch builds x86_64 roots only/);
  });
});
