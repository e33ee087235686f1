// A --var no recipe given uses changes nothing: misspelt (MIROR for MIRROR), the recipe's default
// would stay in place without a word. Each command that takes --var warns, naming the closest
// variable the recipes do use; a variable one recipe of several (or a parent) uses is no warning.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { unusedVarWarnings } from "../../src/recipe/unused-vars.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-unused-vars-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(name: string, lines: string[]): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, ...lines, "boot: false", ""].join("\n"));
  return file;
}

const base = recipe("base", [
  "vars:",
  "  MIRROR: http://mirror.example/rocky",
  "  BASEOS: ${MIRROR}/9/BaseOS",
  "importEnv: [SITE_TOKEN]",
  "secrets: [SITE_TOKEN]",
  "from:",
  "  image: rockylinux:9",
  "commands:",
  '  - script: "echo ${BASEOS} $${LITERAL}"',
]);
const child = recipe("child", ["from:", "  recipe: base.yaml", "labels:", "  site: ${SITE}"]);
const other = recipe("other", ["from:", "  image: rockylinux:9", "labels:", '  role: "${ROLE}"']);

function warnings(file: string | string[], vars: Record<string, string>): string {
  const files = Array.isArray(file) ? file : [file];
  return unusedVarWarnings(
    vars,
    files.map((f) => loadRecipe(f, { env: { SITE_TOKEN: "token-0123" }, vars: { SITE: "s", ROLE: "r", ...vars } })),
  );
}

describe("unusedVarWarnings", () => {
  it("says nothing of variables the recipe defines, imports, lists as secrets or references, its parents' included", () => {
    expect(warnings(child, { MIRROR: "m", BASEOS: "b", SITE_TOKEN: "token-0123", SITE: "s" })).toBe("");
  });

  it("names a misspelt --var and the variable it was probably meant for", () => {
    expect(warnings(child, { MIROR: "http://site/rocky" })).toBe(
      "warning: --var MIROR is used by no variable of the recipe (or its parents), so it changes nothing: did you mean MIRROR?\n",
    );
  });

  it("counts $${NAME} as a literal, not a use", () => {
    expect(warnings(base, { LITERAL: "x" })).toMatch(/^warning: --var LITERAL is used by no variable of the recipe/);
  });

  it("over several recipes, warns only of a --var none of them uses", () => {
    expect(warnings([child, other], { ROLE: "r", SITE: "s" })).toBe("");
    expect(warnings([child, other], { ROLLE: "r" })).toBe(
      "warning: --var ROLLE is used by no variable of any of the recipes given (or their parents), so it changes nothing: did you mean ROLE?\n",
    );
  });

  it("has nothing to say without recipes (none loaded) or without --var", () => {
    expect(unusedVarWarnings({ X: "1" }, [])).toBe("");
    expect(warnings(other, {})).toBe("");
  });
});
