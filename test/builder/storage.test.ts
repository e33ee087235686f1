// One answer to "which buildah storage does this command work on": root, run root and driver
// from the flags, BOOTSMITH_STORAGE_ROOT / BOOTSMITH_STORAGE_DRIVER, what the root records and
// buildah's defaults. `bootsmith build` (host detection), its --if-changed cache decision and the
// commands that read the build's image (publish, export, artifacts remove-superseded) all ask
// it. A stand-in buildah on a private PATH answers `buildah info` with paths under the test
// directory, so nothing here touches the host's storage.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { imageStorageArgs, lookupStorageArgs, resolveStorage, runRootFor, storageArgs } from "../../src/builder/storage.js";
import { UserError } from "../../src/core/errors.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-storage-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bin = path.join(work, "bin");
const defaultRoot = path.join(work, "default-graph");
const defaultRunRoot = path.join(work, "default-run");
mkdirSync(bin);
writeFileSync(
  path.join(bin, "buildah"),
  `#!/bin/sh\ncase "$1" in\n--version) echo "buildah version 1.28.2" ;;\ninfo) printf '%s\\t%s\\n' ${defaultRoot} ${defaultRunRoot} ;;\n*) exit 1 ;;\nesac\n`,
  { mode: 0o755 },
);
const env = { PATH: bin, HOME: work, XDG_RUNTIME_DIR: path.join(work, "xdg-run") };
/** buildah's default paths are remembered here, not in the host's /run. */
const versionCacheDir = path.join(work, "version-cache");
const uid = process.getuid?.() ?? 0;

describe("resolveStorage", () => {
  it("nothing configured: buildah's own root and run root, no driver to insist on", async () => {
    const storage = await resolveStorage({}, { env });
    expect(storage).toMatchObject({ root: defaultRoot, runRoot: defaultRunRoot });
    expect(storage.driver).toBeUndefined();
  });

  it("BOOTSMITH_STORAGE_ROOT: that root, and the run root a build uses for it (one per root under /run), not <root>/run", async () => {
    const root = path.join(work, "site-storage");
    const storage = await resolveStorage({}, { env: { ...env, BOOTSMITH_STORAGE_ROOT: root } });
    expect(storage.root).toBe(root);
    expect(storage.runRoot).toBe(runRootFor(root, uid, env));
    expect(storage.runRoot).not.toBe(path.join(root, "run"));
  });

  it("--root without --runroot pairs the root with the build's run root for it, not buildah's default run root", async () => {
    const root = path.join(work, "flag-storage");
    const storage = await resolveStorage({ root }, { env: { ...env, BOOTSMITH_STORAGE_ROOT: path.join(work, "ignored") } });
    expect(storage).toMatchObject({ root, runRoot: runRootFor(root, uid, env) });
    expect(storage.runRoot).not.toBe(defaultRunRoot);
    // --runroot wins; a relative root is made absolute (buildah's own working directory may differ).
    expect(await resolveStorage({ root: "rel/storage", runRoot: "rel/run" }, { env })).toMatchObject({
      root: path.resolve("rel/storage"),
      runRoot: path.resolve("rel/run"),
    });
  });

  it("a configured root that is buildah's default keeps buildah's default run root: one root, one run root", async () => {
    expect(await resolveStorage({}, { env: { ...env, BOOTSMITH_STORAGE_ROOT: defaultRoot } })).toMatchObject({ root: defaultRoot, runRoot: defaultRunRoot });
  });

  it("driver: the flag, else BOOTSMITH_STORAGE_DRIVER, else the one the root records", async () => {
    const root = path.join(work, "recorded");
    mkdirSync(path.join(root, "vfs-layers"), { recursive: true });
    expect((await resolveStorage({ root }, { env })).driver).toBe("vfs");
    expect((await resolveStorage({ root }, { env })).recordedDriver).toBe("vfs");
    expect((await resolveStorage({ root }, { env: { ...env, BOOTSMITH_STORAGE_DRIVER: "overlay" } })).driver).toBe("overlay");
    expect((await resolveStorage({ root, driver: "btrfs" }, { env: { ...env, BOOTSMITH_STORAGE_DRIVER: "overlay" } })).driver).toBe("btrfs");
  });
});

describe("storageArgs", () => {
  it("buildah's global options, the driver only when there is one", () => {
    expect(storageArgs({ root: "/r", runRoot: "/rr", driver: "vfs" })).toEqual(["--root", "/r", "--runroot", "/rr", "--storage-driver", "vfs"]);
    expect(storageArgs({ root: "/r", runRoot: "/rr" })).toEqual(["--root", "/r", "--runroot", "/rr"]);
  });
});

describe("imageStorageArgs (commands that read the build's image)", () => {
  it("BOOTSMITH_STORAGE_ROOT alone gives the build's root, run root and the driver the root records", async () => {
    const root = path.join(work, "built");
    mkdirSync(path.join(root, "overlay-layers"), { recursive: true });
    expect(await imageStorageArgs({}, { env: { ...env, BOOTSMITH_STORAGE_ROOT: root }, versionCacheDir })).toEqual([
      "--root",
      root,
      "--runroot",
      runRootFor(root, uid, env),
      "--storage-driver",
      "overlay",
    ]);
  });

  it("refuses an unknown driver and one the root cannot be opened with, naming the fix", async () => {
    const root = path.join(work, "vfs-root");
    mkdirSync(path.join(root, "vfs-layers"), { recursive: true });
    const unknown = await imageStorageArgs({ root, driver: "overlay2" }, { env, versionCacheDir }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UserError);
    expect((unknown as Error).message).toBe('--storage-driver overlay2: unknown storage driver (did you mean "overlay"?); use one of overlay, vfs, btrfs, zfs');
    const mismatch = await imageStorageArgs({ root }, { env: { ...env, BOOTSMITH_STORAGE_DRIVER: "overlay" }, versionCacheDir }).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(UserError);
    expect((mismatch as Error).message).toBe(
      `BOOTSMITH_STORAGE_DRIVER=overlay: ${root} holds vfs storage, which buildah cannot open with overlay; use vfs (or leave the driver unset)`,
    );
  });
});

describe("imageStorageArgs on a root no build has used", () => {
  it("says it holds no images and how to give the build's storage, and leaves the root as it was", async () => {
    const unused = path.join(work, "unused");
    mkdirSync(unused);
    const error = await imageStorageArgs({ root: unused }, { env, versionCacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `${unused} holds no images: no build has used it (it has no overlay-layers, vfs-layers, btrfs-layers, zfs-layers); give the storage the build used (--root, or BOOTSMITH_STORAGE_ROOT as it was for the build)`,
    );
    expect(readdirSync(unused)).toEqual([]);
  });
});

describe("lookupStorageArgs (the cache's look for the build's image)", () => {
  it("a root that records no driver holds no image: no options, so the lookup leaves it to the build's storage check", async () => {
    const fresh = path.join(work, "fresh");
    mkdirSync(fresh);
    const withVfs = ["--root", fresh, "--runroot", runRootFor(fresh, uid, env), "--storage-driver", "vfs"];
    expect(await lookupStorageArgs({ root: fresh }, { env, versionCacheDir })).toBeUndefined();
    // a driver asked for is the one the build uses as well: buildah may lay the root out with it
    expect(await lookupStorageArgs({ root: fresh, driver: "vfs" }, { env, versionCacheDir })).toEqual(withVfs);
    mkdirSync(path.join(fresh, "vfs-layers"));
    expect(await lookupStorageArgs({ root: fresh }, { env, versionCacheDir })).toEqual(withVfs);
  });
});
