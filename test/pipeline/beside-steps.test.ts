// StepsBeside on its own: joins, failures noticed before the next step, stopping on a failure in
// front, and Ctrl-C (the parent signal) reaching the steps beside.
import { describe, expect, it } from "vitest";
import { StepsBeside } from "../../src/pipeline/beside-steps.js";

/** A step that ends when told to, or with its signal's abort. */
function controllable() {
  let finish!: (error?: Error) => void;
  let seen: AbortSignal | undefined;
  const run = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      seen = signal;
      finish = (error) => (error ? reject(error) : resolve());
      signal.addEventListener("abort", () => reject(new Error("stopped")));
    });
  return { run, finish: (error?: Error) => finish(error), signal: () => seen };
}

describe("StepsBeside", () => {
  it("the join step waits for the step beside; other steps do not", async () => {
    const beside = new StepsBeside();
    const step = controllable();
    beside.start("squashfs", "teardown", undefined, step.run);
    await beside.before("commit");
    let joined = false;
    const join = beside.before("teardown").then(() => (joined = true));
    await Promise.resolve();
    expect(joined).toBe(false);
    step.finish();
    await join;
    expect(joined).toBe(true);
  });

  it("a failure beside is thrown at the join, or by the first step that starts after it", async () => {
    const beside = new StepsBeside();
    const step = controllable();
    beside.start("squashfs", "teardown", undefined, step.run);
    step.finish(new Error("mksquashfs failed"));
    await new Promise((r) => setImmediate(r));
    await expect(beside.before("commit")).rejects.toThrow("mksquashfs failed");
  });

  it("stopAll aborts what runs beside and waits for it", async () => {
    const beside = new StepsBeside();
    const step = controllable();
    beside.start("squashfs", "teardown", undefined, step.run);
    await beside.stopAll();
    expect(step.signal()?.aborted).toBe(true);
    await expect(beside.finish()).resolves.toBeUndefined();
  });

  it("the parent signal (Ctrl-C) reaches the step beside", async () => {
    const beside = new StepsBeside();
    const step = controllable();
    const parent = new AbortController();
    beside.start("squashfs", "teardown", parent.signal, step.run);
    parent.abort();
    expect(step.signal()?.aborted).toBe(true);
    await expect(beside.before("teardown")).rejects.toThrow("stopped");
  });
});
