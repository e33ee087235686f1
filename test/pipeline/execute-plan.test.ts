// executePlan with a step beside the next ones (Step.besideUntil), with real processes (sh) and
// a fifo as the proof of concurrency: the step beside reads the fifo, the step after it writes
// it, so run one after the other the build would hang (and the test time out). The join waits
// for the step beside; its failure fails the build before the join step; a failure in front
// stops the step beside before executePlan returns (the failure beside noticed before a later
// step starts: test/pipeline/beside-steps.test.ts).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { CleanupStack } from "../../src/exec/cleanup.js";
import type { BuildEvent } from "../../src/exec/events.js";
import { executePlan, StepFailedError } from "../../src/pipeline/execute-plan.js";
import { loadRecipe } from "../../src/recipe/load.js";
import type { Plan, Step } from "../../src/steps/types.js";
import { scratchDirs } from "../support/temp-dirs.js";
import { chrootedProcesses, runsIn } from "../support/chrooted-process.js";

const scratch = scratchDirs();

const sh = (id: string, script: string, extra: Partial<Step> = {}): Step => ({
  id,
  title: id,
  actions: [{ kind: "exec", command: { file: "sh", args: ["-ec", script] } }],
  produces: [],
  ...extra,
});

/** A recipe without boot artifacts, a fifo, and a plan of `steps` followed by the manifest. */
function setUp(steps: (fifo: string, dir: string) => Step[], recipeExtra = "") {
  const dir = scratch("bootsmith-beside-");
  const file = path.join(dir, "r.yaml");
  writeFileSync(
    file,
    "apiVersion: bootsmith/v1\nname: beside\ntags: ['1']\nfrom: scratch\npackages: { manager: dnf, release: '9', repos: [{ name: r, baseurl: 'file:///none' }], install: [x] }\n" +
      recipeExtra,
  );
  const fifo = path.join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const outDir = path.join(dir, "out");
  const plan: Plan = {
    recipe: { name: "beside", tags: ["1"], file, inputDigest: "0".repeat(64) },
    container: "none",
    image: "localhost/beside:1",
    outDir,
    workDir: path.join(dir, "work"),
    packageManager: "none",
    steps: [
      ...steps(fifo, dir),
      { id: "manifest", title: "manifest", actions: [{ kind: "write-manifest", dir: outDir, recipe: file, vars: {} }], produces: [] },
    ],
  };
  const events: BuildEvent[] = [];
  const cleanup = new CleanupStack();
  const ctx = {
    recipe: loadRecipe(file),
    reporter: { emit: (e: BuildEvent) => void events.push(e), close: async () => {} },
    cleanup,
    tools: {},
    buildahGlobalArgs: [],
  };
  return { dir, fifo, plan, ctx, events, cleanup };
}

const ends = (events: readonly BuildEvent[]) => events.flatMap((e) => (e.type === "step-end" ? [`${e.step} ${e.status}`] : []));

describe("executePlan: a step beside the next ones", () => {
  it("runs beside them, and the join step waits for it", async () => {
    const { plan, ctx, events, dir } = setUp((fifo, d) => [
      sh("reader", `read line < "${fifo}"; echo "$line" > "${d}/read"`, { besideUntil: "join" }),
      sh("writer", `echo hello > "${fifo}"`),
      sh("join", `cat "${d}/read" > "${d}/joined"`),
    ]);
    const result = await executePlan(plan, ctx);
    // The join step saw what the step beside wrote: it waited for it.
    expect(readFileSync(path.join(dir, "joined"), "utf8")).toBe("hello\n");
    expect(ends(events).indexOf("reader ok")).toBeLessThan(ends(events).indexOf("join ok"));
    // Timings in plan order, whichever step ended first.
    expect(result.manifest.timings.map((t) => t.step)).toEqual(["reader", "writer", "join"]);
  });

  it("its failure fails the build at the join, and the join step does not run", async () => {
    const { plan, ctx, events, dir } = setUp((fifo, d) => [
      sh("reader", `read line < "${fifo}"; exit 3`, { besideUntil: "join" }),
      sh("writer", `echo hello > "${fifo}"`),
      sh("join", `touch "${d}/joined"`),
    ]);
    const failure = await executePlan(plan, ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as StepFailedError).step.id).toBe("reader");
    expect((failure as Error).message).toMatch(/exited with code 3/);
    expect(existsSync(path.join(dir, "joined"))).toBe(false);
    // Both ended (in either order: the reader exits as soon as the writer has written); no join.
    expect(ends(events).sort()).toEqual(["reader failed", "writer ok"]);
  });

  it("a failure in front stops the step beside before executePlan returns", async () => {
    const { plan, ctx, events, dir } = setUp((fifo, d) => [
      // Would wait for ever: nothing writes the fifo.
      sh("stuck", `echo $$ > "${d}/pid"; read line < "${fifo}"`, { besideUntil: "join" }),
      sh("fails", `while [ ! -s "${d}/pid" ]; do :; done; exit 5`),
      sh("join", "true"),
    ]);
    const failure = await executePlan(plan, ctx).catch((e: unknown) => e);
    expect((failure as StepFailedError).step.id).toBe("fails");
    const pid = Number(readFileSync(path.join(dir, "pid"), "utf8"));
    // Stopped and reaped: no such process any more.
    expect(() => process.kill(pid, 0)).toThrow();
    expect(ends(events)).toEqual(["fails failed", "stuck failed"]);
  });
});

describe("executePlan: a publish step", () => {
  it("to an S3 endpoint that does not answer names the recipe line the endpoint is on", async () => {
    const recipe = "publish:\n  - type: s3\n    bucket: boot-images\n    endpoint: http://127.0.0.1:1\n";
    const { plan: built, ctx, dir } = setUp(() => [], recipe);
    // The plan carries its own copy of the recipe's target, as a plan read back from JSON would.
    const target = structuredClone(ctx.recipe.spec.publish[0]!);
    const publishStep: Step = {
      id: "publish-1-s3",
      title: "Publish to s3",
      actions: [{ kind: "publish", target, entry: 0, dir: built.outDir, record: path.join(dir, "published.json"), storage: [] }],
      produces: [],
    };
    const plan: Plan = { ...built, steps: [...built.steps, publishStep] };
    vi.stubEnv("S3_ACCESS", "AKIAEXAMPLE");
    vi.stubEnv("S3_SECRET", "examplesecretexamplesecret");
    const failure = await executePlan(plan, ctx)
      .catch((e: unknown) => e)
      .finally(() => vi.unstubAllEnvs());
    expect((failure as StepFailedError).step.id).toBe("publish-1-s3");
    expect((failure as Error).message).toContain(
      `Check the endpoint, given by publish[0].endpoint at ${ctx.recipe.file}:9:15, and that the server is running.`,
    );
  });

  it("of the second of two identical entries names the second entry's line", async () => {
    const entry = "  - type: s3\n    bucket: boot-images\n    endpoint: http://127.0.0.1:1\n";
    const { plan: built, ctx, dir } = setUp(() => [], `publish:\n${entry}${entry}`);
    const publishStep: Step = {
      id: "publish-2-s3",
      title: "Publish to s3",
      actions: [
        {
          kind: "publish",
          target: structuredClone(ctx.recipe.spec.publish[1]!),
          entry: 1,
          dir: built.outDir,
          record: path.join(dir, "published.json"),
          storage: [],
        },
      ],
      produces: [],
    };
    vi.stubEnv("S3_ACCESS", "AKIAEXAMPLE");
    vi.stubEnv("S3_SECRET", "examplesecretexamplesecret");
    const failure = await executePlan({ ...built, steps: [...built.steps, publishStep] }, ctx)
      .catch((e: unknown) => e)
      .finally(() => vi.unstubAllEnvs());
    expect((failure as Error).message).toContain(`given by publish[1].endpoint at ${ctx.recipe.file}:12:15,`);
  });
});

describe("executePlan: processes a step left running in the image root", () => {
  const procs = chrootedProcesses();

  /**
   * A plan whose "mount" is a scratch root with busybox, whose unmount records the processes still
   * in it, and whose step `daemon` starts one there (the plan's stop-processes step and the
   * mount's undo as the planner makes them).
   */
  function daemonPlan(daemonExit: number) {
    return setUp((_fifo, dir) => {
      const root = procs.makeRoot(path.join(dir, "root"));
      const sawAtUnmount = path.join(dir, "unmount-saw");
      return [
        {
          id: "mount",
          title: "mount",
          produces: [],
          actions: [
            {
              kind: "exec",
              command: { file: "echo", args: [root] },
              capture: "MNT",
              undo: {
                id: "mount",
                command: { file: "sh", args: ["-c", `for p in /proc/[0-9]*; do [ "$p/root" -ef "${root}" ] && echo "$p"; done > "${sawAtUnmount}"; true`] },
                stopProcessesIn: [{ var: "MNT" }],
              },
            },
          ],
        },
        // As `buildah run … sh -c 'daemon &'`: the shell runs in the root, and its child stays.
        sh("daemon", `chroot "${root}" /bin/busybox sh -c '/bin/busybox sleep 300 >/dev/null 2>&1 & echo $! > /pid'; exit ${daemonExit}`),
        { id: "stop-processes", title: "stop", produces: [], actions: [{ kind: "stop-processes", root: [{ var: "MNT" }] }] },
        { id: "teardown", title: "teardown", produces: [], actions: [{ kind: "release", undoId: "mount" }] },
      ];
    });
  }

  const warnings = (events: readonly BuildEvent[]) => events.flatMap((e) => (e.type === "message" && e.level === "warn" ? [e.text] : []));

  it("are stopped after the steps, reported with the step that started them, before the unmount", async () => {
    const { plan, ctx, events, dir } = daemonPlan(0);
    await executePlan(plan, ctx);
    const pid = procs.track(Number(readFileSync(path.join(dir, "root", "pid"), "utf8")));
    expect(runsIn(pid)).toBe(false);
    expect(warnings(events)).toEqual([
      `[stop-processes] stopped a process left running in the image by step daemon (SIGTERM): pid ${pid} (/bin/busybox sleep 300)`,
    ]);
    expect(readFileSync(path.join(dir, "unmount-saw"), "utf8")).toBe("");
    expect(ctx.cleanup.size).toBe(0);
  });

  it("a failed step's are stopped on the failure path, before the unmount", async () => {
    const { plan, ctx, events, dir } = daemonPlan(3);
    await expect(executePlan(plan, ctx)).rejects.toBeInstanceOf(StepFailedError);
    const pid = procs.track(Number(readFileSync(path.join(dir, "root", "pid"), "utf8")));
    await ctx.cleanup.unwind((label, error) => {
      throw new Error(`undo ${label} failed: ${String(error)}`);
    });
    expect(runsIn(pid)).toBe(false);
    expect(warnings(events)).toEqual([`[cleanup] stopped a process left running in the image by step daemon (SIGTERM): pid ${pid} (/bin/busybox sleep 300)`]);
    expect(readFileSync(path.join(dir, "unmount-saw"), "utf8")).toBe("");
  });
});
