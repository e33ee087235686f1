// The cache key covers what is cheap to know about repositories: the repomd.xml of dnf
// repositories on local disk. A repository rebuilt with new packages changes the key and the
// explanation names it.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadRecipe } from "../../src/recipe/load.js";
import { inputDigests } from "../../src/recipe/inputs.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-repomd-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function setup(repomd: string): string {
  const repo = path.join(work, "repo");
  mkdirSync(path.join(repo, "repodata"), { recursive: true });
  writeFileSync(path.join(repo, "repodata", "repomd.xml"), repomd);
  const file = path.join(work, "recipe.yaml");
  writeFileSync(
    file,
    [
      "name: repomd",
      "packages:",
      "  manager: dnf",
      '  release: "1"',
      "  repos:",
      "    - name: local",
      `      baseurl: file://${repo}`,
      "  install: [x]",
      "boot: false",
      "",
    ].join("\n"),
  );
  return file;
}

describe("repository metadata in the cache key", () => {
  it("changes the input digest and names the repository when repomd.xml changes", () => {
    // inputDigests reads the repository as it is now, like the loader: take each right after loading.
    const before = loadRecipe(setup("<repomd>1</repomd>"));
    const a = inputDigests(before);
    const same = loadRecipe(setup("<repomd>1</repomd>"));
    const after = loadRecipe(setup("<repomd>2</repomd>"));
    const b = inputDigests(after);
    expect(same.inputDigest).toBe(before.inputDigest);
    expect(after.inputDigest).not.toBe(before.inputDigest);
    expect(a["repo local"]).toMatch(/^[0-9a-f]{16}$/);
    expect(b["repo local"]).not.toBe(a["repo local"]);
    expect(b["recipe.packages"]).toBe(a["recipe.packages"]);
  });
});
