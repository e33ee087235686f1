import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CleanupStack } from "../../src/exec/cleanup.js";
import type { BuildEvent, Reporter } from "../../src/exec/events.js";
import { InterruptedError, withInterruptHandling, type InterruptSignal } from "../../src/exec/signals.js";
import { scratchDirs } from "../support/temp-dirs.js";

const scratch = scratchDirs();

const HARNESS_SOURCE = join(import.meta.dirname, "../fixtures/bin/interrupt-harness.ts");
let harnessScript = "";

// The harness is TypeScript; Node 20 cannot run that directly, and running it under vite-node
// would put Vite's own SIGTERM handler in the way. esbuild (already here through vitest) bundles
// it into one plain .mjs that a bare `node` runs, so the signals reach only our handlers.
beforeAll(async () => {
  harnessScript = join(scratch("bootsmith-harness-"), "interrupt-harness.mjs");
  await build({
    entryPoints: [HARNESS_SOURCE],
    outfile: harnessScript,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // execa's CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
});

interface Harness {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the first match of `pattern` in stdout, as soon as it is printed. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: number[] = [];

function startHarness(marker: string, mode?: string): Harness {
  const child = spawn(process.execPath, [harnessScript, marker, ...(mode ? [mode] : [])], { stdio: ["ignore", "pipe", "pipe"] });
  const harness: Harness = {
    child,
    stdout: "",
    stderr: "",
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(harness.stdout);
          if (match) {
            child.stdout?.off("data", check);
            resolve(match);
          }
        };
        child.stdout?.on("data", check);
        child.once("exit", () => reject(new Error(`harness exited before printing ${pattern}: ${harness.stdout}${harness.stderr}`)));
        check();
      }),
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on("data", (chunk: Buffer) => (harness.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (harness.stderr += chunk.toString()));
  return harness;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  // If a test failed half-way, do not leave a 300 s sleep behind.
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
});

describe("withInterruptHandling with a real child process", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)("on %s stops the command, unwinds the stack and exits with %i", async (signal, code) => {
    const marker = join(scratch("bootsmith-signal-"), "undone");
    const harness = startHarness(marker);
    const sleepPid = Number((await harness.waitFor(/child (\d+)/))[1]);
    started.push(sleepPid);
    expect(alive(sleepPid)).toBe(true);

    harness.child.kill(signal);
    const { code: exitCode } = await harness.exited;

    expect(exitCode).toBe(code);
    expect(alive(sleepPid)).toBe(false);
    expect(existsSync(marker)).toBe(true);
    expect(harness.stderr).toContain(`${signal} received`);
    // The failing undo was reported and did not stop the one below it.
    expect(harness.stderr).toContain('cleanup "failing undo" failed: umount: target is busy');
  });

  it("a second Ctrl-C during unwinding does not cut the unwinding short", async () => {
    const marker = join(scratch("bootsmith-signal-"), "undone");
    const harness = startHarness(marker, "slow-undo");
    const sleepPid = Number((await harness.waitFor(/child (\d+)/))[1]);
    started.push(sleepPid);

    harness.child.kill("SIGINT");
    await harness.waitFor(/undo-started/);
    harness.child.kill("SIGINT");
    const { code } = await harness.exited;

    expect(code).toBe(130);
    expect(harness.stderr).toContain("still cleaning up…");
    expect(existsSync(marker)).toBe(true);
    expect(alive(sleepPid)).toBe(false);
  });
});

describe("withInterruptHandling without signals", () => {
  const silent: Reporter = { emit: () => {}, close: async () => {} };

  it("returns the result and leaves the stack to the caller on success", async () => {
    const cleanup = new CleanupStack();
    cleanup.push("keep", async () => {});
    await expect(withInterruptHandling(cleanup, async () => 42, silent, new EventEmitter())).resolves.toBe(42);
    expect(cleanup.size).toBe(1);
  });

  it("unwinds the stack and rethrows the work's own failure", async () => {
    const cleanup = new CleanupStack();
    const undone: string[] = [];
    cleanup.push("a", async () => void undone.push("a"));
    cleanup.push("b", async () => void undone.push("b"));
    const failure = new Error("dnf exited with code 1");
    await expect(withInterruptHandling(cleanup, async () => Promise.reject(failure), silent, new EventEmitter())).rejects.toBe(failure);
    expect(undone).toEqual(["b", "a"]);
  });

  it("a failure caused by Ctrl-C itself (the terminal's SIGINT killed the command first) is an interruption, not a failure", async () => {
    // Ctrl-C signals the whole process group: buildah can die of it before node handles its own
    // copy, so the work fails and the signal arrives while the stack unwinds.
    const source = new EventEmitter();
    const cleanup = new CleanupStack();
    cleanup.push("umount", async () => void source.emit("SIGINT", "SIGINT" satisfies InterruptSignal));
    const error = await withInterruptHandling(cleanup, async () => Promise.reject(new Error("buildah was killed by SIGINT")), silent, source).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    expect(cleanup.size).toBe(0);
  });

  it("treats a signal that arrives as the work finishes as an interruption, and removes its listeners", async () => {
    const source = new EventEmitter();
    const events: BuildEvent[] = [];
    const cleanup = new CleanupStack();
    let undone = false;
    cleanup.push("x", async () => void (undone = true));
    const result = withInterruptHandling(
      cleanup,
      async (signal) => {
        source.emit("SIGTERM", "SIGTERM" satisfies InterruptSignal);
        expect(signal.aborted).toBe(true);
        return "done";
      },
      { emit: (e) => void events.push(e), close: async () => {} },
      source,
    );
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(143);
    expect(undone).toBe(true);
    expect(source.listenerCount("SIGINT") + source.listenerCount("SIGTERM")).toBe(0);
    expect(events.some((e) => e.type === "message" && e.text.includes("SIGTERM received"))).toBe(true);
  });
});
