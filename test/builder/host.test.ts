import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isStaticElf } from "../../src/builder/elf.js";
import { detectHost } from "../../src/builder/host.js";
import { assessPrivilege } from "../../src/builder/host-privilege.js";
import { scratchDirs } from "../support/temp-dirs.js";
import { removeRunRoots } from "../support/storage-root.js";

const scratch = scratchDirs();

function tempParent(): string {
  return scratch("bootsmith-host-");
}

function ourMounts(dir: string): string[] {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((line) => line.includes(dir));
}

/** Runs a static busybox in a scratch container with `--isolation oci`: does OCI isolation work here? */
function ociIsolationRuns(): boolean {
  const storage = join(tempParent(), "storage");
  const args = ["--root", storage, "--runroot", join(storage, "..", "run"), "--storage-driver", "vfs"];
  const container = execFileSync("buildah", [...args, "from", "--quiet", "scratch"], { encoding: "utf8" }).trim();
  try {
    execFileSync("buildah", [...args, "copy", container, "/bin/busybox", "/busybox"], { stdio: "ignore" });
    return spawnSync("buildah", [...args, "run", "--isolation", "oci", container, "/busybox", "true"], { stdio: "ignore" }).status === 0;
  } finally {
    execFileSync("buildah", [...args, "rm", container], { stdio: "ignore" });
  }
}

describe("detectHost on this machine", () => {
  it("finds a storage driver and isolation that work, and buildah args that really do", async () => {
    const parent = tempParent();
    const storageRoot = join(parent, "storage");
    const facts = await detectHost({
      storageRoot,
      outputDir: join(parent, "out"),
      env: { ...process.env, BOOTSMITH_STORAGE_DRIVER: undefined, BOOTSMITH_ISOLATION: undefined },
    });

    expect(["overlay", "vfs"]).toContain(facts.storageDriver);
    expect(facts.checks.find((c) => c.id === "storage-driver")?.status).toBe("ok");
    expect(facts.isolation).toBe("chroot");
    expect(facts.privilege.mode).toBe("root");
    expect(facts.buildahArgs).toEqual(["--root", storageRoot, "--runroot", facts.runRoot, "--storage-driver", facts.storageDriver]);
    expect(facts.runRoot).toMatch(/^\/run\/bootsmith\/runroot-[0-9a-f]{12}$/);
    expect(facts.tools.buildah).toMatch(/^\d+\.\d+/);
    expect(facts.tools.mksquashfs).toMatch(/^\d+\.\d+/);
    expect(facts.checks.map((c) => c.id)).toEqual(expect.arrayContaining(["tool:buildah", "privilege", "isolation", "disk:storage", "disk:output"]));
    expect(facts.ok).toBe(true);

    // The probe cleaned up after itself: no temp storage, no mounts.
    expect(readdirSync(parent)).toEqual([]);
    expect(ourMounts(parent)).toEqual([]);

    // The returned arguments are the ones a build uses: they work for a real container. Their run
    // root is bootsmith's for this root, under /run, outside the scratch directory: removed after.
    const args = [...facts.buildahArgs];
    try {
      const container = execFileSync("buildah", [...args, "from", "--quiet", "scratch"], { encoding: "utf8" }).trim();
      execFileSync("buildah", [...args, "rm", container]);
      expect(execFileSync("buildah", [...args, "containers", "--quiet"], { encoding: "utf8" }).trim()).toBe("");
    } finally {
      removeRunRoots([storageRoot]);
    }
  });

  it("verifies buildah run with the isolation (busybox-static is installed here)", async () => {
    expect(await isStaticElf("/bin/busybox")).toBe(true);
    const facts = await detectHost({ storageRoot: join(tempParent(), "storage"), env: process.env });
    expect(facts.checks.find((c) => c.id === "isolation")).toMatchObject({ status: "ok", detail: "chroot: buildah run works" });
  });

  it("reports an isolation that does not work here as a failure with the override to use", async () => {
    const facts = await detectHost({ storageRoot: join(tempParent(), "storage"), isolation: "oci", env: process.env });
    const check = facts.checks.find((c) => c.id === "isolation");
    // OCI isolation needs a cgroup setup this host kind lacks. Whether it works here is asked of
    // buildah directly, so the probe's verdict is checked against the truth, not accepted either way.
    if (ociIsolationRuns()) expect(check).toMatchObject({ status: "ok", detail: "oci: buildah run works" });
    else expect(check).toMatchObject({ status: "fail", fix: "use BOOTSMITH_ISOLATION=chroot" });
  });

  it("honours BOOTSMITH_STORAGE_DRIVER and BOOTSMITH_STORAGE_ROOT", async () => {
    const storageRoot = join(tempParent(), "vfs-storage");
    const facts = await detectHost({ env: { ...process.env, BOOTSMITH_STORAGE_ROOT: storageRoot, BOOTSMITH_STORAGE_DRIVER: "vfs" } });
    expect(facts.storageDriver).toBe("vfs");
    expect(facts.storageRoot).toBe(storageRoot);
    expect(facts.checks.find((c) => c.id === "storage-driver")).toMatchObject({ status: "ok", detail: "vfs, configured" });
  });

  it("rejects an unknown driver with a suggestion, and a driver that the storage root does not hold", async () => {
    const unknown = await detectHost({ storageRoot: join(tempParent(), "s"), storageDriver: "overlay2", env: process.env });
    expect(unknown.ok).toBe(false);
    expect(unknown.checks.find((c) => c.id === "storage-driver")?.detail).toBe('unknown storage driver "overlay2" (did you mean "overlay"?)');

    const storageRoot = join(tempParent(), "storage");
    const args = ["--root", storageRoot, "--runroot", join(storageRoot, "..", "run"), "--storage-driver", "vfs"];
    execFileSync("buildah", [...args, "rm", execFileSync("buildah", [...args, "from", "--quiet", "scratch"], { encoding: "utf8" }).trim()]);
    const auto = await detectHost({ storageRoot, env: { ...process.env, BOOTSMITH_STORAGE_DRIVER: undefined } });
    expect(auto.storageDriver).toBe("vfs");
    expect(auto.checks.find((c) => c.id === "storage-driver")?.detail).toBe(`vfs, already used by ${storageRoot}`);
    const mismatch = await detectHost({ storageRoot, storageDriver: "overlay", env: process.env });
    expect(mismatch.checks.find((c) => c.id === "storage-driver")).toMatchObject({
      status: "fail",
      fix: `use BOOTSMITH_STORAGE_DRIVER=vfs, or a fresh BOOTSMITH_STORAGE_ROOT for overlay`,
    });
  });
});

describe("isStaticElf", () => {
  it("tells a static binary from a dynamic one and from a script", async () => {
    const script = join(tempParent(), "script.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    expect(await isStaticElf("/bin/busybox")).toBe(true);
    expect(await isStaticElf("/bin/sh")).toBe(false);
    expect(await isStaticElf(script)).toBe(false);
    expect(await isStaticElf("/nonexistent")).toBe(false);
  });
});

describe("assessPrivilege", () => {
  const rootless = { uid: 1000, user: "ci", unprivilegedUsernsClone: "1\n", maxUserNamespaces: "15000\n", subuid: "ci:100000:65536\n", newuidmap: true };

  it("accepts root and a fully set up rootless user", () => {
    expect(assessPrivilege({ ...rootless, uid: 0, user: "root" }).mode).toBe("root");
    expect(assessPrivilege(rootless)).toMatchObject({ mode: "rootless", fixes: [] });
    expect(assessPrivilege({ ...rootless, unprivilegedUsernsClone: undefined, subuid: "1000:100000:65536" }).mode).toBe("rootless");
  });

  it.each([
    [{ unprivilegedUsernsClone: "0" }, "sysctl -w kernel.unprivileged_userns_clone=1"],
    [{ maxUserNamespaces: "0" }, "sysctl -w user.max_user_namespaces=15000"],
    [{ subuid: "other:100000:65536" }, "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ci"],
    [{ newuidmap: false }, "apt-get install uidmap"],
  ])("without %j says how to fix it", (change, fix) => {
    const verdict = assessPrivilege({ ...rootless, ...change });
    expect(verdict.mode).toBe("unavailable");
    expect(verdict.fixes.join("\n")).toContain(fix);
  });
});
