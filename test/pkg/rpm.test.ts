// The .repo files the host's dnf and zypper read (src/pkg/rpm.ts): what they say for a
// repository's signing key given as a file beside the recipe.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { fixedPlanOptions, plannedCommands } from "../plan/support.js";

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-rpm-repo-files-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The repo file written for the host's package manager, for a recipe in `recipeDir`. */
function hostRepoFile(manager: "dnf" | "zypper", recipeDir: string): string {
  mkdirSync(recipeDir, { recursive: true });
  writeFileSync(path.join(recipeDir, "key.asc"), "not read by the planner\n");
  const file = path.join(recipeDir, "r.yaml");
  writeFileSync(
    file,
    [
      "name: t",
      "packages:",
      `  manager: ${manager}`,
      '  release: "9"',
      "  repos:",
      "    - {name: base, baseurl: 'https://mirror.local/el/', gpgkey: key.asc}",
      "  install: [kernel]",
      "boot: false",
      "",
    ].join("\n"),
  );
  const p = plan(loadRecipe(file, { env: {} }), fixedPlanOptions());
  const writes = p.steps.flatMap((s) => s.actions).filter((a) => a.kind === "write-file");
  const repoFile = writes.find((a) => a.path.startsWith(p.workDir) && !a.path.includes("image-repos") && a.path.endsWith("/base.repo"));
  if (!repoFile) throw new Error(`no host repo file among ${writes.map((w) => w.path).join(", ")}`);
  return repoFile.content;
}

describe("host repo files", () => {
  // dnf and zypper read gpgkey as a list split at spaces (and commas): a recipe under
  // "/srv/site images/" had its key read as two URLs, and dnf failed the download with
  // "Empty mirrorlist and no basepath specified!".
  for (const manager of ["dnf", "zypper"] as const) {
    it(`${manager}: a key file in a directory with spaces is one file:// URL naming that file`, () => {
      const recipeDir = path.join(dir, manager, "site images #1");
      const line = hostRepoFile(manager, recipeDir)
        .split("\n")
        .find((l) => l.startsWith("gpgkey="));
      expect(line).toBeDefined();
      const url = line!.slice("gpgkey=".length);
      expect(url).not.toMatch(/[\s,]/);
      expect(fileURLToPath(url)).toBe(path.join(recipeDir, "key.asc"));
    });
  }
});

describe("dnf commands", () => {
  it("every dnf command of a plan has its output checked for failed scriptlets", () => {
    const file = path.join(dir, "scriptlets.yaml");
    writeFileSync(
      file,
      [
        "name: t",
        "packages:",
        "  manager: dnf",
        '  release: "9"',
        "  repos: [{name: base, baseurl: 'https://mirror.local/el/'}]",
        "  install: [kernel]",
        "  remove: [vim]",
        "boot: false",
        "",
      ].join("\n"),
    );
    const commands = plannedCommands(file).filter((c) => c.file === "dnf");
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const c of commands) expect(c.warnOn, JSON.stringify(c.args)).toBe("rpm-scriptlets");
  });
});
