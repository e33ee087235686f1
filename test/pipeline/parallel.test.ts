// Scheduling with a fake build function: concurrency limit, parents first, failures skip
// descendants only, interrupts stop new starts, and the summary table.
import { EventEmitter } from "node:events";
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
    const run = await runGraph(g, {
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
    expect([...run.outcomes.values()].every((o) => o.status === "built")).toBe(true);
    expect(runExitCode(run)).toBe(0);
  });

  it("a failure skips its descendants with the reason; unrelated builds finish", async () => {
    const g = graphOf({ base: undefined, site: "base", compute: "site", gpu: "site", login: "base", tools: undefined });
    const run = await runGraph(g, {
      jobs: 3,
      selected: all(g),
      decisions: rebuildAll(g),
      build: async (node) => (node.name === "site" ? { exitCode: 1, detail: "exit 1; log site/build.log" } : { exitCode: 0 }),
    });
    expect(run.outcomes.get("site")).toMatchObject({ status: "failed", detail: "exit 1; log site/build.log" });
    expect(run.outcomes.get("compute")).toEqual({ status: "skipped", detail: "parent site failed" });
    expect(run.outcomes.get("gpu")).toEqual({ status: "skipped", detail: "parent site failed" });
    expect(run.outcomes.get("login")?.status).toBe("built");
    expect(run.outcomes.get("tools")?.status).toBe("built");
    expect(runExitCode(run)).toBe(1);
    const table = summaryTable(g.order, run.outcomes, 1234);
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
    const run = await runGraph(g, {
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
    expect(run.outcomes.get("base")).toEqual({ status: "up-to-date", detail: "up to date: key abc" });
    expect(run.outcomes.get("other")).toMatchObject({ status: "failed", detail: "host cannot build" });
  });

  it("after an interrupt nothing new starts, and the exit code is the signal's", async () => {
    const g = graphOf({ a: undefined, b: undefined, c: undefined, d: "a" });
    const built: string[] = [];
    const run = await runGraph(g, {
      jobs: 1,
      selected: all(g),
      decisions: rebuildAll(g),
      build: async (node) => {
        built.push(node.name);
        return { exitCode: node.name === "a" ? 0 : 130 };
      },
    });
    expect(built).toEqual(["a", "b"]);
    expect(run.outcomes.get("c")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(run.outcomes.get("d")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(runExitCode(run)).toBe(130);
  });

  it("the children of an interrupted build are skipped as such, not as children of a failure", async () => {
    const g = graphOf({ a: undefined, b: "a" });
    const run = await runGraph(g, { jobs: 1, selected: all(g), decisions: rebuildAll(g), build: async () => ({ exitCode: 143 }) });
    expect(run.outcomes.get("b")).toEqual({ status: "skipped", detail: "parent a was interrupted" });
    expect(runExitCode(run)).toBe(143);
  });

  it("Ctrl-C stops new starts at once, even when the running build fails of it with another code first", async () => {
    // The terminal's SIGINT reaches the build's command too: a build can end with exit 1 before
    // any build reports 130, which used to free a queue slot for the next recipe.
    const g = graphOf({ a: undefined, b: undefined, c: undefined });
    const signals = new EventEmitter();
    const built: string[] = [];
    const run = await runGraph(g, {
      jobs: 1,
      selected: all(g),
      decisions: rebuildAll(g),
      signals,
      build: async (node) => {
        built.push(node.name);
        signals.emit("SIGINT", "SIGINT");
        return { exitCode: 1, detail: "buildah was killed by SIGINT" };
      },
    });
    expect(built).toEqual(["a"]);
    expect(run.outcomes.get("b")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(run.outcomes.get("c")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(runExitCode(run)).toBe(130);
    expect(signals.listenerCount("SIGINT") + signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("a build still preparing when SIGTERM comes throws the abort reason and is skipped; the run exits 143", async () => {
    const g = graphOf({ a: undefined, b: undefined });
    const signals = new EventEmitter();
    const run = await runGraph(g, {
      jobs: 2,
      selected: all(g),
      decisions: rebuildAll(g),
      signals,
      build: async (node, interrupt) => {
        if (node.name === "a") {
          signals.emit("SIGTERM", "SIGTERM");
          return { exitCode: 0 };
        }
        await sleep(5); // b waits for the host's detection meanwhile
        interrupt.throwIfAborted();
        return { exitCode: 0 };
      },
    });
    expect(run.outcomes.get("a")?.status).toBe("built");
    expect(run.outcomes.get("b")).toEqual({ status: "skipped", detail: "interrupted before it started" });
    expect(runExitCode(run)).toBe(143);
  });

  it("unselected recipes are left out, selected children of them still run (their parent is assumed built)", async () => {
    const g = graphOf({ base: undefined, child: "base" });
    const run = await runGraph(g, { jobs: 1, selected: new Set(["child"]), decisions: rebuildAll(g), build: async () => ({ exitCode: 0 }) });
    expect([...run.outcomes.keys()]).toEqual(["child"]);
  });
});
