// The generated artifacts stay in sync with the schema (schema/recipe.schema.json and
// docs/recipe-reference.md), the example recipes point editors at the schema, and every example
// validates against the JSON Schema with ajv, as an editor would see it.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 as Ajv } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { schemaDocument } from "../../src/cli/schema.js";
import { loadRecipe } from "../../src/recipe/load.js";
import { DOCS_FILE, SCHEMA_FILE, renderRecipeDocs } from "../../scripts/gen-recipe-docs.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RECIPES = path.join(ROOT, "recipes");
const examples = readdirSync(RECIPES)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const FIX = "node scripts/gen-recipe-docs.mjs";

describe("schema/recipe.schema.json", () => {
  it("is what `bootsmith schema` prints", () => {
    const generated = `${JSON.stringify(schemaDocument(), null, 2)}\n`;
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    expect(committed === generated, `schema/recipe.schema.json is out of date; regenerate it with: ${FIX}`).toBe(true);
  });

  it("compiles with ajv", () => {
    expect(() => new Ajv({ strict: false }).compile(schemaDocument())).not.toThrow();
  });
});

describe("docs/recipe-reference.md", () => {
  it("is generated from the committed schema", () => {
    const generated = renderRecipeDocs(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
    expect(readFileSync(DOCS_FILE, "utf8") === generated, `docs/recipe-reference.md is out of date; regenerate it with: ${FIX}`).toBe(true);
  });

  it("has a row for every key of every example recipe", () => {
    const docs = readFileSync(DOCS_FILE, "utf8");
    const documented = new Set([...docs.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!.replace(/\[type=[^\]]+\]/g, "[]")));
    const keys = new Set<string>();
    const walk = (value: unknown, at: string, inMap: boolean) => {
      if (Array.isArray(value)) value.forEach((v) => walk(v, `${at}[]`, false));
      else if (value && typeof value === "object" && !inMap) {
        for (const [k, v] of Object.entries(value)) {
          const p = at ? `${at}.${k}` : k;
          if (k === "$schema") continue;
          keys.add(p);
          // labels, vars, env and Ansible's variables are free-form maps: their keys are the user's.
          walk(v, p, ["labels", "vars", "env", "inventoryVars", "extraVars"].includes(k));
        }
      }
    };
    for (const f of examples) walk(parse(readFileSync(path.join(RECIPES, f), "utf8")), "", false);
    expect(keys.size).toBeGreaterThan(20);
    for (const k of keys) expect(documented, `docs row for ${k}`).toContain(k);
  });
});

describe("example recipes", () => {
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schemaDocument());

  it.each(examples)("%s starts with the yaml-language-server schema line", (f) => {
    const first = readFileSync(path.join(RECIPES, f), "utf8").split("\n")[0];
    expect(first).toBe("# yaml-language-server: $schema=../schema/recipe.schema.json");
  });

  it.each(examples)("%s validates against the JSON Schema as written (before ${VAR} substitution)", (f) => {
    const data: unknown = parse(readFileSync(path.join(RECIPES, f), "utf8"));
    expect(validate(data), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it.each(examples)("%s validates against the JSON Schema after loading (defaults and variables applied)", (f) => {
    const { spec } = loadRecipe(path.join(RECIPES, f), { env: {} });
    expect(validate(JSON.parse(JSON.stringify(spec))), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("the JSON Schema rejects what the loader rejects: unknown keys, bad MACs, bad enums", () => {
    const base = { name: "t", from: "scratch", packages: { manager: "dnf", release: "9" } };
    expect(validate(base)).toBe(true);
    expect(validate({ ...base, tagz: ["a"] })).toBe(false);
    expect(validate({ ...base, packages: { manager: "dfn" } })).toBe(false);
    expect(validate({ ...base, register: [{ type: "bss", url: "http://bss", macs: ["52:54:00"] }] })).toBe(false);
    expect(validate({ ...base, publish: [{ type: "local", dir: "/srv", bucket: "x" }] })).toBe(false);
  });
});
