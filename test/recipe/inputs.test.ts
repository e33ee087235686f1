// The cache key's parts for Ansible commands: the playbook, its roles and the directories beside
// it are inputs, so a changed role changes the key and the explanation names it.
import { afterAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadRecipe } from "../../src/recipe/load.js";
import { inputDigests } from "../../src/recipe/inputs.js";
import { explainChange } from "../../src/pipeline/cache.js";
import type { Manifest } from "../../src/core/manifest.js";
import { REPO_ROOT } from "../plan/support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-inputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The example recipe with its parent and files/ (the playbook and its role), in a copy to change.
for (const f of ["debian-12-ansible.yaml", "debian-12-live.yaml", "files"]) cpSync(path.join(REPO_ROOT, "recipes", f), path.join(dir, f), { recursive: true });
const recipeFile = path.join(dir, "debian-12-ansible.yaml");

describe("ansible inputs", () => {
  it("records the playbook, the roles and templates/ beside the playbook", () => {
    expect(Object.keys(inputDigests(loadRecipe(recipeFile, { env: {} }))).filter((k) => k.startsWith("ansible"))).toEqual([
      "ansible commands[0] files/ansible/site.yml",
      "ansible commands[0] files/ansible/roles",
      "ansible commands[0] files/ansible/templates",
    ]);
  });

  it("a changed role changes the key, and the explanation names the roles", () => {
    const before = loadRecipe(recipeFile, { env: {} });
    // What the previous build's manifest recorded, read before the role changes.
    const old = { inputDigest: before.inputDigest, inputs: inputDigests(before) } as unknown as Manifest;
    writeFileSync(path.join(dir, "files/ansible/roles/timesync/tasks/main.yml"), "- ansible.builtin.debug: { msg: changed }\n");
    const after = loadRecipe(recipeFile, { env: {} });
    expect(after.inputDigest).not.toBe(before.inputDigest);
    const reasons = explainChange(after, old);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^ansible commands\[0\] files\/ansible\/roles changed: [0-9a-f]{16} → [0-9a-f]{16}$/);
  });

  it("a playbook outside the recipe's directory is refused", () => {
    writeFileSync(path.join(dir, "outside.yaml"), `name: x\nfrom: {image: "r/x:1"}\ncommands:\n  - ansible: { playbook: ../elsewhere.yml }\nboot: false\n`);
    expect(() => loadRecipe(path.join(dir, "outside.yaml"), { env: {} })).toThrow(/commands\[0\]\.ansible\.playbook|playbook/);
  });
});

describe("copied directories with symbolic links", () => {
  it("a link counts by its target path, even one that exists only in the image; a changed target changes the key", () => {
    const tree = mkdtempSync(path.join(tmpdir(), "bootsmith-inputs-links-"));
    try {
      mkdirSync(path.join(tree, "overlay/etc"), { recursive: true });
      writeFileSync(path.join(tree, "overlay/etc/motd"), "hello\n");
      // /etc/localtime as a site's overlay carries it: a link into the image's zoneinfo.
      symlinkSync("/usr/share/zoneinfo/definitely-not-on-this-host/UTC", path.join(tree, "overlay/etc/localtime"));
      writeFileSync(
        path.join(tree, "site.yaml"),
        "name: links\ntags: ['1']\nfrom:\n  image: registry.invalid/base:1\nfiles:\n  - dest: /\n    src: overlay\nboot: false\n",
      );
      const before = loadRecipe(path.join(tree, "site.yaml"), { env: {} });
      expect(loadRecipe(path.join(tree, "site.yaml"), { env: {} }).inputDigest).toBe(before.inputDigest);
      rmSync(path.join(tree, "overlay/etc/localtime"));
      symlinkSync("/usr/share/zoneinfo/Europe/Paris", path.join(tree, "overlay/etc/localtime"));
      const after = loadRecipe(path.join(tree, "site.yaml"), { env: {} });
      expect(after.inputDigest).not.toBe(before.inputDigest);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
