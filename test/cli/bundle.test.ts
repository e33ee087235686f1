// The CLI as it ships: `npm run build` bundles dist/cli/main.js (scripts/bundle.mjs) into one
// entry and a chunk per command or module loaded on demand. Every command must load from the
// bundle (a chunk that reaches for a file or module the bundle lost fails here, not at a user's)
// and say what its module says.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(ROOT, "dist/cli/main.js");

beforeAll(() => {
  const bundled = existsSync(MAIN) && readFileSync(MAIN, "utf8").includes("// bootsmith bundle");
  if (!bundled) execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
}, 180_000);

describe("the bundled CLI", () => {
  it("is what dist/cli/main.js holds", () => {
    expect(readFileSync(MAIN, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n\/\/ bootsmith bundle \(scripts\/bundle\.mjs\)\n/);
  });

  it.each(commands.map((c) => [c.name, c] as const))("loads %s and prints its usage", async (name, entry) => {
    const r = spawnSync(process.execPath, [MAIN, name, "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${(await entry.load()).usage.trimEnd()}\n`);
  });
});
