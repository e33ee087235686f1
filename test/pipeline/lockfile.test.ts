// The lock file on its own: path, content from a manifest (sorted, version fields only), read
// checks, and the --locked comparison with its message.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../../src/core/errors.js";
import type { PackageRecord } from "../../src/core/manifest.js";
import { checkLocked, LockDriftError, lockedVerifier, lockFilePath, lockFromManifest, readLockFile, writeLockFile } from "../../src/pipeline/lockfile.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-lockfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pkgs: PackageRecord[] = [
  { name: "zlib", version: "1.2.11", release: "40.el9", arch: "x86_64" },
  { name: "kernel", version: "5.14.0", release: "10.fx", arch: "x86_64" },
  { name: "bash", epoch: "0", version: "5.1.8", release: "9.el9", arch: "x86_64" },
  { name: "kernel", version: "5.14.0", release: "9.fx", arch: "x86_64" },
];
const recipe = { name: "demo", file: path.join(dir, "demo.yaml"), inputDigest: "b".repeat(64) };

function catchError(fn: () => void): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("lock file", () => {
  it("sits next to the recipe", () => {
    expect(lockFilePath("recipes/debian-12-live.yaml")).toBe("recipes/debian-12-live.lock.json");
    expect(lockFilePath("/r/x.yml")).toBe("/r/x.lock.json");
    expect(lockFilePath("/r/x")).toBe("/r/x.lock.json");
  });

  it("is written from a manifest, sorted, with only the version fields, and reads back", () => {
    const extra = { ...pkgs[0]!, size: 12 } as PackageRecord;
    const lock = lockFromManifest({ name: "demo", inputDigest: "a".repeat(64), packages: [extra, ...pkgs.slice(1)] });
    expect(lock.packages.map((p) => `${p.name}-${p.release}`)).toEqual(["bash-9.el9", "kernel-10.fx", "kernel-9.fx", "zlib-40.el9"]);
    expect(Object.keys(lock.packages[0]!)).toEqual(["name", "epoch", "version", "release", "arch"]);
    expect(lock.packages.find((p) => p.name === "zlib")).toEqual(pkgs[0]);
    const file = path.join(dir, "demo.lock.json");
    writeLockFile(file, lock);
    const text = readFileSync(file, "utf8");
    expect(JSON.parse(text)).toMatchObject({ lockVersion: 1, recipe: "demo", inputDigest: "a".repeat(64) });
    expect(text.endsWith("}\n")).toBe(true);
    expect(readLockFile(file)).toEqual(lock);
  });

  it("a missing or malformed lock file is a UserError (exit 2) naming the file", () => {
    const missing = catchError(() => readLockFile(path.join(dir, "nope.lock.json"), path.join(dir, "nope.yaml")));
    expect(missing).toBeInstanceOf(UserError);
    expect((missing as UserError).exitCode).toBe(2);
    expect(missing.message).toMatch(/no lock file .*nope\.lock\.json; .*bootsmith lock .*nope\.yaml/);
    const cases: [string, RegExp][] = [
      ["{", /not a lock file/],
      ["[]", /expected a JSON object/],
      [JSON.stringify({ lockVersion: 2, recipe: "demo", packages: [] }), /lockVersion 2, expected 1/],
      [JSON.stringify({ lockVersion: 1, packages: [] }), /recipe:/],
      [JSON.stringify({ lockVersion: 1, recipe: "demo", packages: [{ name: "a", version: "1" }] }), /packages\[0\]\.arch/],
      [JSON.stringify({ lockVersion: 1, recipe: "demo", packages: [{ name: "a", version: "1", arch: "x", release: 2 }] }), /packages\[0\]\.release/],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, "bad.lock.json");
      writeFileSync(file, text);
      const error = catchError(() => readLockFile(file));
      expect(error, text).toBeInstanceOf(UserError);
      expect(error.message, text).toMatch(message);
      expect(error.message).toContain("bad.lock.json");
    }
  });
});

describe("--locked comparison", () => {
  const lock = lockFromManifest({ name: "demo", inputDigest: recipe.inputDigest, packages: pkgs });

  it("passes when the packages are the same, in any order", () => {
    expect(() => checkLocked(lock, "/r/demo.lock.json", recipe, [...pkgs].reverse())).not.toThrow();
  });

  it("fails on a changed version, an added and a removed package, listing each and how to accept them", () => {
    const built: PackageRecord[] = [{ ...pkgs[0]!, release: "41.el9" }, pkgs[1]!, pkgs[3]!, { name: "new-tool", version: "1.0", release: "1", arch: "noarch" }];
    const error = catchError(() => checkLocked(lock, path.join(dir, "demo.lock.json"), { ...recipe, inputDigest: "c".repeat(64) }, built));
    expect(error).toBeInstanceOf(LockDriftError);
    const drift = (error as LockDriftError).drift;
    expect(drift.changed).toEqual([{ name: "zlib", arch: "x86_64", from: "1.2.11-40.el9", to: "1.2.11-41.el9" }]);
    expect(drift.added.map((c) => c.name)).toEqual(["new-tool"]);
    expect(drift.removed.map((c) => c.name)).toEqual(["bash"]);
    expect(error.message).toContain("zlib.x86_64 1.2.11-40.el9 (locked) → 1.2.11-41.el9 (built)");
    expect(error.message).toContain("added   new-tool.noarch 1.0-1");
    expect(error.message).toContain("removed bash.x86_64 5.1.8-9.el9");
    expect(error.message).toContain("The recipe changed since the lock file was written");
    expect(error.message).toContain("Nothing was published or registered.");
    expect(error.message).toMatch(/bootsmith lock .*demo\.yaml/);
  });

  it("a kernel installed twice compares as a set", () => {
    const onlyNewest = pkgs.filter((p) => p.release !== "9.fx");
    const error = catchError(() => checkLocked(lock, "/r/demo.lock.json", recipe, onlyNewest));
    expect(error.message).toContain("kernel.x86_64 5.14.0-10.fx, 5.14.0-9.fx (locked) → 5.14.0-10.fx (built)");
  });

  it("lockedVerifier reads the lock file up front and refuses one of another recipe", () => {
    const file = path.join(dir, "other.yaml");
    writeLockFile(lockFilePath(file), lock);
    const error = catchError(() => lockedVerifier({ spec: { name: "other" }, file, inputDigest: recipe.inputDigest }));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain('locks the recipe "demo", not "other"');
    const verify = lockedVerifier({ spec: { name: "demo" }, file, inputDigest: recipe.inputDigest });
    expect(() => verify(pkgs)).not.toThrow();
    expect(() => verify(pkgs.slice(1))).toThrow(LockDriftError);
  });
});
