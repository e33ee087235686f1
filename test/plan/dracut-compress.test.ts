// The dracut compressor the plan runs: a bare `zstd` is bootsmith's level 9 (dracut's own
// expansion, level 15, took five times longer for an initramfs 1.3 % smaller: docs/benchmarks.md);
// any other value, a full command line included, reaches dracut as written.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { DRACUT_ZSTD, plan } from "../../src/plan/planner.js";
import { fixedPlanOptions } from "./support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-dracut-compress-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dracutArgv(compress: string | undefined): readonly unknown[] {
  const file = path.join(dir, `r-${Math.random().toString(36).slice(2)}.yaml`);
  const initramfs = compress === undefined ? "" : `  initramfs:\n    compress: ${JSON.stringify(compress)}\n`;
  writeFileSync(file, `name: c\ntags: ["1"]\nfrom:\n  image: localhost/x:1\nboot:\n  kernel: newest\n${initramfs}`);
  const step = plan(loadRecipe(file, { env: {} }), fixedPlanOptions()).steps.find((s) => s.id === "initramfs");
  const exec = step?.actions.find((a) => a.kind === "exec");
  if (exec?.kind !== "exec") throw new Error("no dracut command in the plan");
  return exec.command.args;
}

describe("dracut --compress", () => {
  it("runs zstd at level 9 on all cores for a bare zstd", () => {
    const argv = dracutArgv("zstd");
    expect(argv[argv.indexOf("--compress") + 1]).toBe(DRACUT_ZSTD);
    expect(DRACUT_ZSTD).toBe("zstd -9 -q -T0");
  });

  it.each(["zstd -15 -q -T0", "gzip", "xz"])("passes %s through as written", (compress) => {
    const argv = dracutArgv(compress);
    expect(argv[argv.indexOf("--compress") + 1]).toBe(compress);
  });

  it("leaves dracut's default compressor alone when the recipe names none", () => {
    expect(dracutArgv(undefined)).not.toContain("--compress");
  });
});
