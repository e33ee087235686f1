// performBuildAction's undos with real processes (sh): an undo is on the cleanup stack before its
// command runs, so a command that did its work and then died (buildah from killed by the
// terminal's Ctrl-C after creating the container) is still undone; an undo whose command never
// took effect fails silently.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CleanupStack } from "../../src/exec/cleanup.js";
import type { BuildEvent } from "../../src/exec/events.js";
import { newBuildState, performBuildAction, runsLongProgram, type BuildAction, type BuildContext } from "../../src/builder/execute.js";
import type { Step } from "../../src/steps/types.js";
import type { LoadedRecipe } from "../../src/recipe/load.js";
import { scratchDirs } from "../support/temp-dirs.js";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { RECIPES_DIR, fixedPlanOptions } from "../plan/support.js";

const scratch = scratchDirs();

function context(events: BuildEvent[]): BuildContext {
  return {
    recipe: {} as LoadedRecipe,
    reporter: { emit: (e) => void events.push(e), close: async () => {} },
    cleanup: new CleanupStack(),
    tools: {},
  };
}

/** An exec action: `script` as the command, `rm marker` (or `undoScript`) as its undo. */
function createAction(script: string, marker: string, undoScript = `rm "${marker}"`): BuildAction {
  return {
    kind: "exec",
    command: { file: "sh", args: ["-c", script] },
    undo: { id: "marker", command: { file: "sh", args: ["-c", undoScript] } },
  };
}

const step = { id: "create", title: "create" } as Step;

describe("performBuildAction undo", () => {
  it("a command that created its object and then died of a signal is undone when the stack unwinds", async () => {
    const marker = path.join(scratch("bootsmith-undo-"), "container");
    const events: BuildEvent[] = [];
    const ctx = context(events);
    const action = createAction(`touch "${marker}"; kill -INT $$`, marker);
    await expect(performBuildAction(action, step, ctx, newBuildState())).rejects.toThrow(/killed by SIGINT/);
    expect(existsSync(marker)).toBe(true);
    const failures: string[] = [];
    await ctx.cleanup.unwind((label) => void failures.push(label));
    expect(existsSync(marker), "the container the killed command created is removed").toBe(false);
    expect(failures).toEqual([]);
  });

  it("the undo of a command that failed before doing anything fails without a cleanup warning", async () => {
    const marker = path.join(scratch("bootsmith-undo-"), "container");
    const ctx = context([]);
    const action = createAction("exit 1", marker);
    await expect(performBuildAction(action, step, ctx, newBuildState())).rejects.toThrow();
    const failures: string[] = [];
    await ctx.cleanup.unwind((label) => void failures.push(label));
    expect(failures).toEqual([]);
  });

  it("once its command succeeded, a failing undo is reported", async () => {
    const dir = scratch("bootsmith-undo-");
    const marker = path.join(dir, "container");
    const ctx = context([]);
    await performBuildAction(createAction(`touch "${marker}"`, marker, "exit 1"), step, ctx, newBuildState());
    const failures: string[] = [];
    await ctx.cleanup.unwind((label) => void failures.push(label));
    expect(failures).toEqual(["marker"]);
  });
});

describe("performBuildAction: rpm scriptlet failures", () => {
  // dnf installs a package whose %post fails and exits 0 (rpm's semantics): the only trace was a
  // "warning:" line among dnf's output in build.log, and the build said "build ok".
  it("a failed scriptlet in a command's output is reported as a warning naming the package", async () => {
    const events: BuildEvent[] = [];
    const output = [
      "  Running scriptlet: site-postfail-1.0-1.noarch                             1/1 ",
      "warning: %post(site-postfail-1.0-1.noarch) scriptlet failed, exit status 7",
      "warning: %triggerin(site-b-2-1.x86_64) scriptlet failed, signal 11",
      "Complete!",
    ].join("\n");
    const action: BuildAction = { kind: "exec", command: { file: "printf", args: ["%s\n", output], warnOn: "rpm-scriptlets" } };
    await performBuildAction(action, step, context(events), newBuildState());
    const warnings = events.flatMap((e) => (e.type === "message" && e.level === "warn" ? [e.text] : []));
    expect(warnings).toEqual([
      "[create] %post scriptlet of site-postfail-1.0-1.noarch failed (exit status 7); the package manager went on, so the package is installed without what that scriptlet does (its output is in build.log)",
      "[create] %triggerin scriptlet of site-b-2-1.x86_64 failed (signal 11); the package manager went on, so the package is installed without what that scriptlet does (its output is in build.log)",
    ]);
  });

  it("output without a failed scriptlet warns of nothing", async () => {
    const events: BuildEvent[] = [];
    const action: BuildAction = {
      kind: "exec",
      command: { file: "printf", args: ["%s\n", "Running scriptlet: a-1-1.noarch\nComplete!"], warnOn: "rpm-scriptlets" },
    };
    await performBuildAction(action, step, context(events), newBuildState());
    expect(events.filter((e) => e.type === "message")).toEqual([]);
  });

  // zypper exits 107 when a scriptlet failed and it went on; if rpm's line did not reach its
  // standard output, the accepted exit code alone must still not pass silently.
  it("an accepted non-zero exit without rpm's line is still a warning, naming the program and the code", async () => {
    const events: BuildEvent[] = [];
    const action: BuildAction = {
      kind: "exec",
      command: { file: "sh", args: ["-c", "echo 'Installing: a-1-1.noarch [done]'; exit 107"], acceptExitCodes: [107], warnOn: "rpm-scriptlets" },
    };
    await performBuildAction(action, step, context(events), newBuildState());
    expect(events.flatMap((e) => (e.type === "message" && e.level === "warn" ? [e.text] : []))).toEqual([
      "[create] sh exited with code 107: a package scriptlet failed and the package manager went on, so a package is installed without what its scriptlet does (its output is in build.log)",
    ]);
  });
});

describe("runsLongProgram: where the SBOM writers are preloaded", () => {
  const stepsOf = (file: string) => plan(loadRecipe(path.join(RECIPES_DIR, file), { env: {} }), fixedPlanOptions()).steps;

  it("not beside the first, short buildah commands: the load would delay their step's end", () => {
    const steps = stepsOf("rocky-9-live.yaml");
    expect(steps.filter(runsLongProgram).map((s) => s.id)[0]).toBe("configure-repos");
    expect(steps.filter((s) => s.id === "create-container" || s.id === "mount").some(runsLongProgram)).toBe(false);
  });

  it("in every example recipe, a long program runs before the identity step needs the writers", () => {
    for (const file of ["rocky-9-live.yaml", "debian-12-live.yaml", "debian-12-users.yaml", "leap-15-live.yaml", "rocky-9-compute.yaml"]) {
      const steps = stepsOf(file);
      const identity = steps.findIndex((s) => s.actions.some((a) => a.kind === "image-identity"));
      expect(identity, file).toBeGreaterThan(0);
      expect(steps.slice(0, identity).some(runsLongProgram), file).toBe(true);
    }
  });
});
