// --refresh's hooks around one build, from manifests the test writes (no buildah): the previous
// build is the output directory's manifest, else the set the recipe's directory target holds.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { refreshHooks } from "../../src/pipeline/refresh.js";
import { loadRecipe, type LoadedRecipe } from "../../src/recipe/load.js";
import type { Manifest, PackageRecord } from "../../src/core/manifest.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { recipe: LoadedRecipe; outDir: string; publishedFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-refresh-"));
  dirs.push(dir);
  const published = path.join(dir, "published");
  writeFileSync(
    path.join(dir, "site.yaml"),
    `name: site\ntags: ['1']\nfrom:\n  image: registry.invalid/base:1\npublish:\n  - type: local\n    dir: ${published}\nboot: false\n`,
  );
  return { recipe: loadRecipe(path.join(dir, "site.yaml")), outDir: path.join(dir, "out"), publishedFile: path.join(published, "site", "1", "manifest.json") };
}

const pkg = (name: string, version: string): PackageRecord => ({ name, version, release: "1", arch: "x86_64" });

function manifest(recipe: LoadedRecipe, builtAt: string, packages: PackageRecord[]): Manifest {
  return {
    schemaVersion: 1,
    name: "site",
    tags: ["1"],
    arch: "x86_64",
    inputDigest: recipe.inputDigest,
    recipeFile: recipe.file,
    base: { kind: "scratch" },
    image: { ref: "localhost/bootsmith/site:1" },
    artifacts: {},
    packages,
    packageManager: "dnf",
    tools: {},
    timings: [],
    builtAt,
  };
}

function write(file: string, m: Manifest): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(m));
}

describe("refreshHooks", () => {
  it("a runner that never built the recipe compares with the published set: same packages skip the publish", async () => {
    const { recipe, outDir, publishedFile } = setup();
    write(publishedFile, manifest(recipe, "2026-11-30T02:00:00Z", [pkg("bash", "5.1"), pkg("kernel", "5.14")]));
    const hooks = await refreshHooks(recipe, outDir, true);
    const rebuilt = manifest(recipe, "2026-12-01T02:00:00Z", [pkg("bash", "5.1"), pkg("kernel", "5.14")]);
    expect(hooks.skipPublish?.(rebuilt)).toBe("no package changed since the published set of 2026-11-30T02:00:00Z: not published or registered");
    expect(hooks.skipPublish?.({ ...rebuilt, packages: [pkg("bash", "5.2"), pkg("kernel", "5.14")] })).toBeUndefined();
    // After the build: the changelog compares with the published set, and says so.
    write(path.join(outDir, "manifest.json"), { ...rebuilt, packages: [pkg("bash", "5.2"), pkg("kernel", "5.14")] });
    expect(hooks.after()).toBe(
      `packages: 1 changed since the set published at ${publishedFile}; ${path.relative(process.cwd(), path.join(outDir, "changelog.md"))}`,
    );
    expect(readFileSync(path.join(outDir, "changelog.md"), "utf8")).toContain("bash");
  });

  it("the output directory's own manifest comes first; with neither, it is a first build", async () => {
    const { recipe, outDir, publishedFile } = setup();
    write(publishedFile, manifest(recipe, "2026-11-29T02:00:00Z", [pkg("bash", "5.0")]));
    write(path.join(outDir, "manifest.json"), manifest(recipe, "2026-11-30T02:00:00Z", [pkg("bash", "5.1")]));
    const local = await refreshHooks(recipe, outDir, true);
    expect(local.skipPublish?.(manifest(recipe, "2026-12-01T02:00:00Z", [pkg("bash", "5.1")]))).toBe(
      "no package changed since the build of 2026-11-30T02:00:00Z: not published or registered",
    );

    const fresh = setup();
    const first = await refreshHooks(fresh.recipe, fresh.outDir, true);
    expect(first.skipPublish).toBeUndefined();
    write(path.join(fresh.outDir, "manifest.json"), manifest(fresh.recipe, "2026-12-01T02:00:00Z", [pkg("bash", "5.1")]));
    expect(first.after()).toMatch(/^first build \(no previous manifest to compare with\); /);
    expect(existsSync(path.join(fresh.outDir, "changelog.md"))).toBe(true);
  });
});
