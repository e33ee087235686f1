// Scheduling with a fake build function: concurrency limit, parents first, failures skip
// descendants only, interrupts stop new starts, and the summary table.
import { describe, expect, it } from "vitest";
import { runExitCode, runGraph, summaryTable, type BuildAttempt } from "../../src/pipeline/parallel.js";
import { topologicalOrder, type GraphNode, type RecipeGraph } from "../../src/pipeline/graph.js";
import type { Decision } from "../../src/pipeline/cache.js";
import type { LoadedRecipe } from "../../src/recipe/load.js";

/** A graph from name → parent, without recipes (the scheduler never looks at them). */
function graphOf(parents: Record<string, string | undefined>): RecipeGraph {
  const nodes = new Map<string, GraphNode>();
  for (const [name, parent] of Object.entries(parents)) {
    const children = Object.entries(parents)
      .filter(([, p]) => p === name)
      .map(([n]) => n)
      .sort();
    nodes.set(name, { name, parent, children, requested: true, recipe: { file: `/r/${name}.yaml` } as LoadedRecipe });
  }
  return { nodes, order: topologicalOrder(nodes) };
}

const all = (g: RecipeGraph) => new Set(g.nodes.keys());
const rebuildAll = (g: RecipeGraph) => new Map<string, Decision>([...g.nodes.keys()].map((n) => [n, { build: true, reasons: ["test"] }]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runGraph", () => {
  it("never runs more than --jobs builds at once, and a child only after its parent", async () => {
    const g = graphOf({ base: undefined, a: "base", b: "base", c: "base", d: "base", e: undefined });
    let running = 0;
    let peak = 0;
    const finished: string[] = [];
    const started: string[] = [];
    const outcomes = await runGraph(g, {
      jobs: 2,
      selected: all(g),
      decisions: rebuildAll(g),
      build: async (node): Promise<BuildAttempt> => {
        started.push(node.name);
        if (node.parent) expect(finished).toContain(node.parent);
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        finished.push(node.name);
        return { exitCode: 0 };
      },
    });
    expect(peak).toBe(2);
    expect(started.slice(0, 2).sort()).toEqual(["base", "e"]);
    expect([...outcomes.values()].every((o) => o.status === "built")).toBe(true);
    expect(runExitCode(outcomes)).toBe(0);
  });

  it("a failure skips its descendants with the reason; unrelated builds finish", async () => {
    const g = graphOf({ base: undefined, site: "base", compute: "site", gpu: "site", login: "base", tools: undefined });
    const outcomes = await runGraph(g, {
      jobs: 3,
      selected: all(g),
      decisions: rebuildAll(g),
      build: async (node) => (node.name === "site" ? { exitCode: 1, detail: "exit 1; log site/build.log" } : { exitCode: 0 }),
    });
    expect(outcomes.get("site")).toMatchObject({ status: "failed", detail: "exit 1; log site/build.log" });
    expect(outcomes.get("compute")).toEqual({ status: "skipped", detail: "parent site failed" });
    expect(outcomes.get("gpu")).toEqual({ status: "skipped", detail: "parent site failed" });
    expect(outcomes.get("login")?.status).toBe("built");
    expect(outcomes.get("tools")?.status).toBe("built");
    expect(runExitCode(outcomes)).toBe(1);
    const table = summaryTable(g.order, outcomes, 1234);
    expect(table[0]).toMatch(/^recipe\s+result\s+time\s+detail$/);
    expect(table.find((l) => l.startsWith("compute"))).toMatch(/^compute\s+skipped\s+-\s+parent site failed$/);
    expect(table.at(-1)).toBe("3 built, 0 up to date, 2 skipped, 1 failed in 1.2 s");
  });

  it("up-to-date recipes are not built, and their children build on them; a thrown error is a failure", async () => {
    const g = graphOf({ base: undefined, child: "base", other: undefined });
    const built: string[] = [];
    const decisions = new Map<string, Decision>([
      ["base", { build: false, reasons: ["up to date: key abc"] }],
      ["child", { build: true, reasons: ["recipe commands: changed"] }],
      ["other", { build: true, reasons: ["never built"] }],
    ]);
    const outcomes = await runGraph(g, {
      jobs: 4,
      selected: all(g),
      decisions,
      build: async (node) => {
        built.push(node.name);
        if (node.name === "other") throw new Error("host cannot build");
        return { exitCode: 0 };
      },
    });
    expect(built.sort()).toEqual(["child", "other"]);
    expect(outcomes.get("base")).toEqual({ status: "up-to-date", detail: "up to date: key abc" });
    expect(outcomes.get("other")).toMatchObject({ status: "failed", detail: "host cannot build" });
  });

  it("after an interrupt nothing new starts, and the exit code is the signal's", async () => {
    const g = graphOf({ a: undefined, b: undefined, c: undefined, d: "a" });
    const built: string[] = [];
    const outcomes = await runGraph(g, {
      jobs: 1,
      selected: all(g),
      decisions: rebuildAll(g),
      build: async (node) => {
        built.push(node.name);
        return { exitCode: node.name === "a" ? 0 : 130 };
      },
    });
    expect(built).toEqual(["a", "b"]);
    expect(outcomes.get("c")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(outcomes.get("d")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(runExitCode(outcomes)).toBe(130);
  });

  it("unselected recipes are left out, selected children of them still run (their parent is assumed built)", async () => {
    const g = graphOf({ base: undefined, child: "base" });
    const outcomes = await runGraph(g, { jobs: 1, selected: new Set(["child"]), decisions: rebuildAll(g), build: async () => ({ exitCode: 0 }) });
    expect([...outcomes.keys()]).toEqual(["child"]);
  });
});
