// `bootsmith lock DIR` reads the tree as build, validate and plan do: two recipes of one name are
// refused before any manifest is read or lock file written (they would share one output
// directory, so both would be locked from the same build).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockCommand } from "../../src/cli/lock.js";
import { UserError } from "../../src/core/errors.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("bootsmith lock DIR", () => {
  it("two recipes of one name: the graph's error, naming both files, and no lock file", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "bootsmith-lock-tree-"));
    mkdirSync(path.join(dir, "site"));
    writeFileSync(path.join(dir, "base.yaml"), "name: base\nfrom:\n  image: docker.io/library/rockylinux:9\npackages:\n  manager: dnf\nboot: false\n");
    writeFileSync(path.join(dir, "compute.yaml"), "name: compute\nfrom:\n  recipe: base.yaml\nboot: false\n");
    writeFileSync(path.join(dir, "site/compute.yaml"), "name: compute\nfrom:\n  recipe: ../base.yaml\nboot: false\n");
    const run = lockCommand.run([dir, "--out", path.join(dir, "out")]);
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(
      `two recipes are named compute: ${dir}/compute.yaml:1:1 and ${dir}/site/compute.yaml:1:1; names identify images and output directories, so they must be unique: change the name: of one of them`,
    );
    expect(existsSync(path.join(dir, "compute.lock.json")) || existsSync(path.join(dir, "site/compute.lock.json"))).toBe(false);
  });
});
