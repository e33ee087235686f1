// The documentation's examples stay true to the CLI and the schema: a newcomer copies them
// literally. Every `bootsmith COMMAND … --flag` shown in README.md or docs/*.md (code blocks and
// inline code) names a real command and a flag its --help lists, and every ```yaml recipe
// snippet validates as a recipe (a snippet without apiVersion is a fragment: it is laid over a
// minimal recipe first, so its keys are checked in their place); every relative link leads to a
// file, and to a heading of it when it names one.
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";
import { loadRecipe } from "../../src/recipe/load.js";
import { scratchDirs } from "../support/temp-dirs.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).flatMap((f) => (f.endsWith(".md") ? [`docs/${f}`] : []))];
const scratch = scratchDirs();

interface Snippet {
  readonly where: string; // file:line
  readonly text: string;
}

/** Code a reader would type: lines of fenced or indented blocks (comments dropped) and inline `code`. */
function codeSnippets(file: string): Snippet[] {
  const out: Snippet[] = [];
  let fenced = false;
  readFileSync(path.join(ROOT, file), "utf8")
    .split("\n")
    .forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      if (/^\s*```/.test(line)) fenced = !fenced;
      else if (fenced || line.startsWith("    ")) out.push({ where, text: line.replace(/\s#\s.*$/, "") });
      else for (const m of line.matchAll(/`([^`]+)`/g)) out.push({ where, text: m[1]!.replaceAll("\\|", "/") });
    });
  return out;
}

/** The ```yaml blocks of a file, with the line each starts on. */
function yamlBlocks(file: string): Snippet[] {
  const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    out.push({ where: `${file}:${i + 2}`, text: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return out;
}

describe("commands shown in the documentation", () => {
  const names = commands.map((c) => c.name);
  const mentions = DOCS.flatMap(codeSnippets).flatMap((s) =>
    [...s.text.matchAll(/(?:^\s*(?:\$\s+|sudo\s+|[A-Z_]+=\$\()?|[|;&]\s*)bootsmith ([a-z][a-z-]*)([^|;&]*)/g)].map((m) => ({
      ...s,
      command: m[1]!,
      rest: m[2]!,
    })),
  );

  it("finds the examples it checks", () => {
    expect(mentions.length).toBeGreaterThan(100);
  });

  it.each(DOCS)("%s names only real commands and the flags their --help lists", async (file) => {
    const wrong: string[] = [];
    for (const m of mentions.filter((x) => x.where.startsWith(`${file}:`))) {
      const entry = commands.find((c) => c.name === m.command);
      if (!entry) {
        wrong.push(`${m.where}: bootsmith ${m.command}: no such command (${names.join(", ")})`);
        continue;
      }
      const usage = (await entry.load()).usage;
      for (const flag of m.rest.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) {
        if (!new RegExp(`(?<![\\w-])${flag[0]}(?![\\w-])`).test(usage) && flag[0] !== "--help")
          wrong.push(`${m.where}: bootsmith ${m.command} ${flag[0]}: not in \`bootsmith ${m.command} --help\``);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("yaml recipe snippets in the documentation", () => {
  const blocks = DOCS.flatMap(yamlBlocks);
  const base = { apiVersion: "bootsmith/v1", name: "snippet", tags: ["1"], from: "scratch", packages: { manager: "apt", release: "bookworm" } };

  it("finds the snippets it checks", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((b) => [b.where, b] as const))("%s validates", (_where, block) => {
    const data = parse(block.text) as Record<string, unknown>;
    // Beside copies of the example recipes, so `from: {recipe: rocky-9-base.yaml}` resolves.
    const dir = scratch("bootsmith-docs-");
    cpSync(path.join(ROOT, "recipes"), dir, { recursive: true });
    const file = path.join(dir, "snippet.yaml");
    writeFileSync(file, "apiVersion" in data ? block.text : JSON.stringify({ ...base, ...data }));
    expect(() => loadRecipe(file, { env: {} }), block.where).not.toThrow();
  });
});

describe("links between the documents", () => {
  // GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
  const anchor = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
  const headings = (file: string) => new Set([...readFileSync(file, "utf8").matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1]!)));

  it.each(DOCS)("%s links only to files and headings that exist", (file) => {
    const broken: string[] = [];
    for (const m of readFileSync(path.join(ROOT, file), "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(m[1]!)) continue;
      const [target, hash] = m[1]!.split("#");
      const linked = target ? path.join(ROOT, path.dirname(file), target) : path.join(ROOT, file);
      if (!existsSync(linked)) broken.push(`${m[1]}: no such file`);
      else if (hash && linked.endsWith(".md") && !headings(linked).has(hash)) broken.push(`${m[1]}: no heading #${hash}`);
    }
    expect(broken).toEqual([]);
  });
});
