// start(): the watched long-running process (QEMU in boot-test) through the same door as run().
import { describe, expect, it } from "vitest";
import { start } from "../../src/exec/run.js";
import type { BuildEvent } from "../../src/exec/events.js";

const recorder = () => {
  const events: BuildEvent[] = [];
  return { events, reporter: { emit: (e: BuildEvent) => void events.push(e), close: async () => {} } };
};

describe("start", () => {
  it("streams lines as they come, and stop() terminates a process that would run forever", async () => {
    const { events, reporter } = recorder();
    const lines: string[] = [];
    let ready: () => void = () => {};
    const sawReady = new Promise<void>((resolve) => (ready = resolve));
    // prints two lines (the second split across writes), then idles until killed
    const script = "process.stdout.write('one\\ntw'); setTimeout(() => process.stdout.write('o\\nREADY\\n'), 50); setInterval(() => {}, 1000);";
    const p = start(
      { file: process.execPath, args: ["-e", script] },
      { step: "t", reporter },
      {
        onLine: (line, stream) => {
          lines.push(`${stream}:${line}`);
          if (line === "READY") ready();
        },
      },
    );
    await sawReady;
    expect(lines).toEqual(["stdout:one", "stdout:two", "stdout:READY"]);
    const exit = await p.stop(2_000);
    expect(exit.signal).toBe("SIGTERM");
    expect(await p.exited).toEqual(exit);
    expect(events[0]).toMatchObject({ type: "command", step: "t" });
    expect(events.some((e) => e.type === "output")).toBe(false); // report: false by default
  });

  it("reports output events when asked and resolves exited with the exit code", async () => {
    const { events, reporter } = recorder();
    const p = start({ file: process.execPath, args: ["-e", "console.error('bad thing'); process.exit(3)"] }, { step: "t", reporter }, { report: true });
    expect(await p.exited).toEqual({ exitCode: 3, signal: undefined });
    expect(events).toContainEqual({ type: "output", step: "t", stream: "stderr", line: "bad thing" });
    expect(p.outputTail).toEqual(["bad thing"]);
    expect(await p.stop()).toEqual({ exitCode: 3, signal: undefined }); // stopping an exited process is a no-op
  });

  it("explains a program that is not installed", async () => {
    const p = start({ file: "qemu-system-bootsmith-nonexistent", args: [] }, { step: "t", reporter: recorder().reporter });
    const exit = await p.exited;
    expect(exit.startError).toMatch(/qemu-system-bootsmith-nonexistent: command not found/);
  });

  it("kills the process when the run is aborted", async () => {
    const controller = new AbortController();
    let started: () => void = () => {};
    const up = new Promise<void>((resolve) => (started = resolve));
    const p = start(
      { file: process.execPath, args: ["-e", "console.log('up'); setInterval(() => {}, 1000)"] },
      { step: "t", reporter: recorder().reporter, signal: controller.signal },
      { onLine: () => started() },
    );
    await up;
    controller.abort();
    expect((await p.exited).signal).toBe("SIGTERM");
  });
});
