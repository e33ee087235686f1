// files: owner: by name is checked against the image root's /etc/passwd and /etc/group before
// any file is copied: a missing user or group is a recipe error at the owner's line.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFileOwners } from "../../src/builder/file-owners.js";
import { RecipeError } from "../../src/recipe/errors.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-file-owners-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = path.join(dir, "root");
mkdirSync(path.join(root, "etc"), { recursive: true });
writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nmunge:x:991:991::/var/lib/munge:/sbin/nologin\n");
writeFileSync(path.join(root, "etc/group"), "root:x:0:\nmunge:x:991:\nwheel:x:10:\n");
const recipe = path.join(dir, "r.yaml");
writeFileSync(
  recipe,
  [
    "name: t",
    "files:",
    "  - dest: /etc/munge/munge.key",
    "    content: k",
    "    owner: munge:munge",
    "  - dest: /etc/slurm/slurm.conf",
    "    content: c",
    "    owner: slurm:wheel",
    "  - dest: /etc/x",
    "    content: x",
    "    owner: root:slurm",
    "",
  ].join("\n"),
);

function failure(owners: { index: number; owner: string }[], at = root): string {
  try {
    checkFileOwners(at, recipe, owners);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return (error as Error).message;
  }
  throw new Error("no error");
}

describe("checkFileOwners", () => {
  it("users and groups the image has, and numeric ids, pass", () => {
    expect(() =>
      checkFileOwners(root, recipe, [
        { index: 0, owner: "munge:munge" },
        { index: 1, owner: "1234:5678" },
        { index: 2, owner: "root" },
      ]),
    ).not.toThrow();
  });

  it("a missing user or group: the recipe's file:line, the field, what is missing and the fix", () => {
    const message = failure([
      { index: 0, owner: "munge:munge" },
      { index: 1, owner: "slurm:wheel" },
      { index: 2, owner: "root:slurm" },
    ]);
    expect(message).toContain(
      `${recipe}:8:12: files[1].owner: the image has no user "slurm" (after its base, packages:, users: and groups:): add it to users:/groups: with a fixed id`,
    );
    expect(message).toContain(`${recipe}:11:12: files[2].owner: the image has no group "slurm"`);
    expect(message).not.toContain("files[0]");
  });

  it("reads the image's files inside the root: a symlinked /etc/passwd never reaches the host's", () => {
    const linked = path.join(dir, "linked");
    mkdirSync(path.join(linked, "etc"), { recursive: true });
    // a host file with the user, named by absolute path: inside the root that path does not exist
    const host = path.join(dir, "host-passwd");
    writeFileSync(host, "root:x:0:0:root:/root:/bin/sh\n");
    symlinkSync(host, path.join(linked, "etc/passwd"));
    symlinkSync(host, path.join(linked, "etc/group"));
    // through the link on the host it would be found
    expect(failure([{ index: 2, owner: "root" }], linked)).toContain('files[2].owner: the image has no user "root"');
  });
});
