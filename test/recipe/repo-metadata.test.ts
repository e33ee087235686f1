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

describe("a repository's key file in the cache key", () => {
  // The key file was not hashed: a site that rotated its repository key (same file name) kept the
  // old key in the image, and build --if-changed skipped the build as up to date.
  it("changes the input digest and names the repository's gpgkey when the key file changes", () => {
    const dir = mkdtempSync(path.join(work, "key-"));
    const file = path.join(dir, "recipe.yaml");
    writeFileSync(
      file,
      [
        "name: keyed",
        "from: scratch",
        "packages:",
        "  manager: apt",
        "  release: bookworm",
        "  repos: [{name: site, baseurl: 'http://deb.site.local/debian', gpgkey: site.asc}]",
        "boot: false",
        "",
      ].join("\n"),
    );
    const withKey = (text: string) => {
      writeFileSync(path.join(dir, "site.asc"), text);
      const recipe = loadRecipe(file);
      return { digest: recipe.inputDigest, inputs: inputDigests(recipe) };
    };
    const before = withKey("old key\n");
    const same = withKey("old key\n");
    const rotated = withKey("new key\n");
    expect(same.digest).toBe(before.digest);
    expect(rotated.digest).not.toBe(before.digest);
    expect(before.inputs["repo site gpgkey"]).toMatch(/^[0-9a-f]{16}$/);
    expect(rotated.inputs["repo site gpgkey"]).not.toBe(before.inputs["repo site gpgkey"]);
    expect(rotated.inputs["recipe.packages"]).toBe(before.inputs["recipe.packages"]);
  });
});
