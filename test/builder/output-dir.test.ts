// The output directory across a rebuild: a failed or interrupted rebuild leaves the previous
// build's artifacts as they were, a successful one replaces them, and a build killed outright
// (no cleanup ran) still leaves the previous build to the next one. Plain files, no build.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { PREVIOUS_DIR, prepareOutDir } from "../../src/builder/output-dir.js";
import { scratchDirs } from "../support/temp-dirs.js";

const scratch = scratchDirs();

/** An output directory holding a complete build whose files say `label`. */
function completeBuild(label: string): { outDir: string; workDir: string } {
  const root = scratch("bootsmith-out-dir-");
  const outDir = path.join(root, "out");
  mkdirSync(outDir);
  for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.cdx.json", "openscap-report.html", "manifest.json"])
    writeFileSync(path.join(outDir, f), label);
  writeFileSync(path.join(outDir, "build.log"), `${label} log`);
  return { outDir, workDir: path.join(root, "work") };
}

const read = (dir: string, f: string) => readFileSync(path.join(dir, f), "utf8");

describe("prepareOutDir", () => {
  it("a failed rebuild puts the previous build back, its own scan report and build.log stay", async () => {
    const plan = completeBuild("old");
    const cleanup = new CleanupStack();
    prepareOutDir(plan, { cleanup });
    // While the rebuild runs, the directory does not look complete.
    expect(existsSync(path.join(plan.outDir, "manifest.json"))).toBe(false);
    expect(existsSync(path.join(plan.outDir, "vmlinuz"))).toBe(false);
    writeFileSync(path.join(plan.outDir, "vmlinuz"), "new, partial");
    writeFileSync(path.join(plan.outDir, "openscap-report.html"), "new: why the scan failed");
    writeFileSync(path.join(plan.outDir, "build.log"), "new log");
    await cleanup.unwind(() => {});
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.cdx.json", "manifest.json"]) expect(read(plan.outDir, f), f).toBe("old");
    expect(read(plan.outDir, "openscap-report.html")).toBe("new: why the scan failed");
    expect(read(plan.outDir, "build.log")).toBe("new log");
    expect(existsSync(path.join(plan.outDir, PREVIOUS_DIR))).toBe(false);
    expect(existsSync(plan.workDir)).toBe(false);
  });

  it("a successful rebuild keeps only its own artifacts", async () => {
    const plan = completeBuild("old");
    const cleanup = new CleanupStack();
    const keep = prepareOutDir(plan, { cleanup });
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json"]) writeFileSync(path.join(plan.outDir, f), "new");
    keep();
    await cleanup.unwind(() => {});
    expect(readdirSync(plan.outDir).sort()).toEqual(["build.log", "initramfs.img", "manifest.json", "rootfs.squashfs", "vmlinuz"]);
    expect(read(plan.outDir, "vmlinuz")).toBe("new");
  });

  it("after a build killed outright, the next build still has the previous one to fall back to", async () => {
    const plan = completeBuild("old");
    prepareOutDir(plan, { cleanup: new CleanupStack() }); // killed: its cleanup never runs
    writeFileSync(path.join(plan.outDir, "vmlinuz"), "killed build's partial");
    const cleanup = new CleanupStack();
    prepareOutDir({ ...plan, workDir: `${plan.workDir}-next` }, { cleanup });
    expect(existsSync(path.join(plan.outDir, "vmlinuz")), "the killed build's partial file is gone").toBe(false);
    await cleanup.unwind(() => {}); // this one fails too
    expect(read(plan.outDir, "vmlinuz")).toBe("old");
    expect(read(plan.outDir, "manifest.json")).toBe("old");
  });

  it("leftovers without a manifest are not a build to keep: removed, as on a first build", async () => {
    const plan = completeBuild("old");
    rmSync(path.join(plan.outDir, "manifest.json"));
    const cleanup = new CleanupStack();
    prepareOutDir(plan, { cleanup });
    await cleanup.unwind(() => {});
    expect(readdirSync(plan.outDir).sort()).toEqual(["build.log"]);
  });
});
