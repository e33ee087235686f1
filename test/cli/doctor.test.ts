import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findOnPath, TOOLS } from "../../src/builder/host-tools.js";
import { runDoctor } from "../../src/cli/doctor.js";
import { FakeStream } from "../exec/reporters/fake-stream.js";
import { scratchDirs } from "../support/temp-dirs.js";

const scratch = scratchDirs();

/** A PATH holding every tool doctor checks except `without`, as symlinks to the real ones. */
async function pathWithout(without: string): Promise<string> {
  const dir = scratch("bootsmith-path-");
  for (const tool of TOOLS) {
    if (tool.name === without) continue;
    const real = await findOnPath(tool.name, process.env.PATH);
    if (real) symlinkSync(real, join(dir, tool.name));
  }
  return dir;
}

function storageRoot(): string {
  return join(scratch("bootsmith-doctor-"), "storage");
}

describe("bootsmith doctor", () => {
  it("passes on this machine and shows the buildah settings", async () => {
    const out = new FakeStream();
    const code = await runDoctor({ storageRoot: storageRoot(), out, env: process.env });
    expect(code).toBe(0);
    expect(out.text).toMatch(/ok +buildah +\d+\.\d+/);
    expect(out.text).toMatch(/ok +buildah storage driver +(overlay|vfs)/);
    expect(out.text).toContain("ready to build");
  });

  it("reports a required tool missing from PATH with the apt-get fix and exits 1", async () => {
    const out = new FakeStream();
    const code = await runDoctor({ storageRoot: storageRoot(), out, env: { ...process.env, PATH: await pathWithout("mksquashfs") } });
    expect(code).toBe(1);
    const lines = out.text.split("\n");
    const at = lines.findIndex((l) => /FAIL +mksquashfs +missing \(required: makes rootfs\.squashfs\)/.test(l));
    expect(at).toBeGreaterThan(-1);
    expect(lines[at + 1]).toMatch(/^ +fix: apt-get install squashfs-tools$/);
    // The rest still works without it.
    expect(out.text).toMatch(/ok +buildah +\d/);
    expect(out.text).toContain("1 check(s) failed");
  });

  it("prints an optional tool as a warning only, and everything as JSON with --json", async () => {
    const out = new FakeStream();
    const code = await runDoctor({ storageRoot: storageRoot(), json: true, out, env: { ...process.env, PATH: await pathWithout("qemu-system-x86_64") } });
    expect(code).toBe(0);
    const report = JSON.parse(out.text) as {
      ok: boolean;
      problems: { id: string; status: string; fix: string }[];
      tools: Record<string, string>;
      buildahArgs: string[];
    };
    expect(report.ok).toBe(true);
    expect(report.problems).toContainEqual(expect.objectContaining({ id: "tool:qemu-system-x86_64", status: "warn", fix: "apt-get install qemu-system-x86" }));
    expect(report.tools.qemu).toBeUndefined();
    expect(report.tools.buildah).toMatch(/^\d/);
    expect(report.buildahArgs).toContain("--storage-driver");
  });
});
