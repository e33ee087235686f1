// Each OpenCHAMI config in test/fixtures/compat plans exactly the steps of the native recipe
// written next to it by hand, and `bootsmith convert`'s output plans them too.
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../../src/recipe/load.js";
import { plan, type PlanOptions } from "../../../src/plan/planner.js";
import { convertCommand } from "../../../src/cli/convert.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/compat/", import.meta.url));

const OPTIONS: PlanOptions = {
  buildId: "test",
  outDir: "/out",
  workDir: "/work",
  cacheDir: "/cache",
  buildah: { globalArgs: [], isolation: "chroot" },
  hostAptSources: [],
  cores: 2,
  publish: true,
};

/**
 * The plan as JSON, with the recipe's own file (in the plan's header and in the manifest step,
 * which reloads it) and directory replaced by placeholders.
 */
function planJson(file: string): unknown {
  const planned = plan(loadRecipe(file, { env: {} }), OPTIONS);
  const json = JSON.stringify({ ...planned, recipe: { ...planned.recipe, file: "<recipe>" } })
    .split(JSON.stringify(planned.recipe.file))
    .join('"<recipe>"');
  return JSON.parse(json.split(path.dirname(realpathSync(file))).join("<dir>")) as unknown;
}

const PAIRS = [
  { format: "image-builder", config: "image-builder/rocky-9-base.yaml", native: "image-builder/rocky-9-base.native.yaml" },
  { format: "image-builder", config: "image-builder/rocky-8-compute.yaml", native: "image-builder/rocky-8-compute.native.yaml" },
  { format: "image-builder", config: "image-builder/compute-ansible.yaml", native: "image-builder/compute-ansible.native.yaml" },
  { format: "image-builder", config: "image-builder/leap-15-base.yaml", native: "image-builder/leap-15-base.native.yaml" },
  { format: "image-thrillhouse", config: "thrillhouse/rocky-base.yaml", native: "thrillhouse/rocky-base.native.yaml" },
  { format: "image-thrillhouse", config: "thrillhouse/bookworm-compute.yaml", native: "thrillhouse/bookworm-compute.native.yaml" },
] as const;

const tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-compat-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(PAIRS)("$config ($format)", ({ config, native }) => {
  it("plans the same steps as its native equivalent", () => {
    expect(planJson(path.join(FIXTURES, config))).toEqual(planJson(path.join(FIXTURES, native)));
  });

  it("converts to a native recipe that plans the same steps", async () => {
    // Converted next to a copy of the config: the recipe's files: src stay relative to it.
    const dir = path.join(tmp, path.dirname(config));
    cpSync(path.join(FIXTURES, path.dirname(config)), dir, { recursive: true });
    const out = path.join(dir, `${path.basename(config, ".yaml")}.converted.yaml`);
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect(await convertCommand.run([path.join(dir, path.basename(config)), "-o", out])).toBe(0);
    } finally {
      process.stderr.write = stderr;
    }
    const text = readFileSync(out, "utf8");
    expect(text.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=.*schema\/recipe\.schema\.json$/);
    expect(text).toContain(`from ${path.basename(config)} (an OpenCHAMI`);
    expect(text).toContain("apiVersion: bootsmith/v1");
    expect(planJson(out)).toEqual(planJson(path.join(FIXTURES, native)));
  });
});
