// The layering rule in .dependency-cruiser.cjs (run by `npm run lint`) must reject what it is
// there to reject: a copy of src/ passes; the same copy with an upward import planted in core/,
// or with two modules importing each other, fails and names the rule.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";

const repo = path.resolve(import.meta.dirname, "../..");
const depcruise = path.join(repo, "node_modules/.bin/depcruise");
let dir: string;

/** Cruise the copy; returns the exit code and the report. */
async function cruise(): Promise<{ exitCode: number | undefined; output: string }> {
  const result = await execa(depcruise, ["--config", ".dependency-cruiser.cjs", "--output-type", "err", "src"], { cwd: dir, reject: false, all: true });
  return { exitCode: result.exitCode, output: result.all ?? "" };
}

function plant(file: string, line: string): () => void {
  const target = path.join(dir, file);
  const original = readFileSync(target, "utf8");
  writeFileSync(target, `${line}\n${original}`);
  return () => writeFileSync(target, original);
}

describe("the layering rule", () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "bootsmith-layers-"));
    for (const entry of ["src", "tsconfig.json", ".dependency-cruiser.cjs", "package.json"])
      cpSync(path.join(repo, entry), path.join(dir, entry), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts the tree as it is", async () => {
    const { exitCode, output } = await cruise();
    expect(output).toMatch(/no dependency violations found/);
    expect(exitCode).toBe(0);
  });

  it("rejects an upward import: core/ importing the CLI", async () => {
    const restore = plant("src/core/errors.ts", 'import "../cli/command.js";');
    try {
      const { exitCode, output } = await cruise();
      expect(exitCode).not.toBe(0);
      expect(output).toMatch(/layer-core: src\/core\/errors\.ts → src\/cli\/command\.ts/);
    } finally {
      restore();
    }
  });

  it("rejects one stage importing another: builder/ importing publish/", async () => {
    const restore = plant("src/builder/execute.ts", 'import "../publish/index.js";');
    try {
      const { exitCode, output } = await cruise();
      expect(exitCode).not.toBe(0);
      expect(output).toMatch(/layer-builder: src\/builder\/execute\.ts → src\/publish\/index\.ts/);
    } finally {
      restore();
    }
  });

  it("rejects a cycle inside one folder", async () => {
    // core/format.ts and core/hash.ts import each other: allowed by the layers, not by no-circular.
    const restoreA = plant("src/core/format.ts", 'import "./hash.js";');
    const restoreB = plant("src/core/hash.ts", 'import "./format.js";');
    try {
      const { exitCode, output } = await cruise();
      expect(exitCode).not.toBe(0);
      expect(output).toMatch(/no-circular: src\/core\/(format|hash)\.ts → /);
    } finally {
      restoreA();
      restoreB();
    }
  });
});
