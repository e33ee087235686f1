// The malformed-recipe corpus (test/fixtures/malformed/, made by generate.mjs there): truncated
// YAML, wrong types, unknown keys, bad MACs, parent cycles and missing parents, huge values,
// non-UTF-8 and other encodings, alias bombs, deep nesting, binary garbage, tabs. Every file must
// be refused with a clear error naming the file (and the path inside the recipe where the
// expectation gives one), in under a second, and the CLI must say so with exit code 2 and no
// stack trace. test/recipe/invalid-recipes.test.ts pins exact messages for single mistakes; this
// corpus is about hostile and broken input as a whole.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { RecipeError } from "../../src/recipe/errors.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";

const CORPUS = path.join(REPO_ROOT, "test/fixtures/malformed");
const CASES = path.join(CORPUS, "cases");
const expected = JSON.parse(readFileSync(path.join(CORPUS, "expected.json"), "utf8")) as Record<string, string[]>;
const files = readdirSync(CASES).sort();

/** What must never reach a user: a JavaScript stack, node's uncaught-error prefix, internals. */
function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^ {4}at /m);
  expect(text).not.toMatch(/^(\w*Error|Uncaught)\b/m);
  expect(text).not.toContain("node:internal");
  expect(text).not.toContain("file:///");
}

describe("malformed recipe corpus", () => {
  it("holds at least 100 recipes, each with an expectation", () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(files)("%s: refused in-process with a clear error in under a second", (name) => {
    const file = path.join(CASES, name);
    const started = performance.now();
    let error: unknown;
    try {
      loadRecipe(file);
    } catch (e) {
      error = e;
    }
    const elapsed = performance.now() - started;
    expect(error, `${name} was accepted`).toBeInstanceOf(RecipeError);
    const message = (error as RecipeError).message;
    // The file itself, or for a parent cycle the member of the cycle where it closes (the
    // message then names this file too).
    expect(message.split("\n")[0]!.startsWith(`${CASES}/`), message.slice(0, 300)).toBe(true);
    expect(message).toContain(name);
    for (const fragment of expected[name]!) expect(message, message.slice(0, 600)).toContain(fragment);
    expect(message).toMatch(/\d+ problems? found; nothing was built\.$/);
    expect(message.length, "the error is a report, not a dump").toBeLessThan(30_000);
    expectNoStackTrace(message);
    expect(elapsed, `${name} took ${elapsed.toFixed(0)} ms`).toBeLessThan(1000);
  });

  it("bootsmith validate with every file at once: exit 2, one clear report per file, no stack trace", { timeout: 120_000 }, async () => {
    const result = await bootsmith(["validate", ...files], { cwd: CASES, timeoutMs: 110_000 });
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(2);
    expect(result.stdout, "a malformed recipe was reported valid").toBe("");
    expectNoStackTrace(result.stderr);
    // Each refused file ends its report with the count line; reports come in argument order.
    const reports = result.stderr.split(/^\d+ problems? found; nothing was built\.(?:\n|$)/m);
    expect(reports.pop()).toBe("");
    expect(reports).toHaveLength(files.length);
    reports.forEach((report, i) => {
      const name = files[i]!;
      // Every line is a problem in a corpus file (names are resolved: files were passed relative).
      for (const line of report.trimEnd().split("\n")) expect(line.startsWith(`${CASES}/`), `${name}: ${line.slice(0, 200)}`).toBe(true);
      expect(report, name).toContain(name);
      for (const fragment of expected[name]!) expect(report, `${name}`).toContain(fragment);
    });
  });
});
