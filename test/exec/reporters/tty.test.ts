import { describe, expect, it } from "vitest";
import { createTtyReporter } from "../../../src/exec/reporters/tty.js";
import { FakeStream, screen } from "./fake-stream.js";
import { buildEvents } from "./sequence.js";

describe("TTY reporter", () => {
  it("leaves a static record of every step with its time, the warning and the summary", async () => {
    const out = new FakeStream(true, 100);
    const reporter = createTtyReporter({ stream: out, color: false, now: () => 0 });
    buildEvents.forEach((e) => reporter.emit(e));
    await reporter.close();
    const final = screen(out.text);
    expect(final[0]).toMatch(/^✓ \[1\/3\] fetch-base +1\.2 s$/);
    expect(final).toContain("warning: repo metadata is 3 days old");
    expect(final.find((l) => l.includes("install-packages"))).toMatch(/✓ \[2\/3\] install-packages +42\.1 s$/);
    expect(final.find((l) => l.includes("squashfs"))).toMatch(/✗ \[3\/3\] squashfs +failed after 3\.0 s$/);
    expect(final).toContain("    mksquashfs exited with code 1");
    expect(final).toContain("✗ build failed after 46.3 s");
    expect(final.at(-1)).toBe("  log: artifacts/x/build.log");
    // Nothing of the live region (spinner, last output line) survives in the final frame.
    expect(final.join("\n")).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|FATAL ERROR/);
  });

  it("redraws the running step in place with its elapsed time and the last output line", async () => {
    const out = new FakeStream(true, 100);
    let clock = 0;
    const reporter = createTtyReporter({ stream: out, color: false, now: () => clock });
    reporter.emit({ type: "step-start", step: "install-packages", title: "Install packages", index: 2, total: 9 });
    reporter.emit({ type: "command", step: "install-packages", command: "dnf -y install bash" });
    reporter.renderNow();
    let frame = screen(out.text);
    expect(frame).toHaveLength(2);
    expect(frame[0]).toMatch(/^. \[2\/9\] install-packages — Install packages +0\.0 s$/);
    expect(frame[1]).toBe("    + dnf -y install bash");

    clock = 12_300;
    reporter.emit({ type: "output", step: "install-packages", stream: "stdout", line: "  Installing : bash-5.2.15  \r" });
    reporter.emit({ type: "output", step: "install-packages", stream: "stdout", line: "" });
    reporter.renderNow();
    frame = screen(out.text);
    // Same two lines, rewritten: the screen did not grow.
    expect(frame).toHaveLength(2);
    expect(frame[0]).toMatch(/install-packages — Install packages +12\.3 s$/);
    expect(frame[1]).toBe("    Installing : bash-5.2.15");
    expect(out.text).toContain("\r\x1b[2A\x1b[J");

    await reporter.close();
    expect(screen(out.text)).toEqual([expect.stringMatching(/^■ \[2\/9\] install-packages +interrupted after 12\.3 s$/)]);
  });

  it("fits every line into a narrow terminal, keeping the step name and time", async () => {
    const out = new FakeStream(true, 30);
    const reporter = createTtyReporter({ stream: out, color: false, now: () => 5_000 });
    reporter.emit({ type: "step-start", step: "install-packages-for-the-compute-nodes", title: "A long title", index: 12, total: 14 });
    reporter.emit({ type: "output", step: "install-packages-for-the-compute-nodes", stream: "stdout", line: "x".repeat(200) });
    reporter.renderNow();
    const frame = screen(out.text);
    expect(frame).toHaveLength(1);
    expect(Array.from(frame[0]!).length).toBeLessThanOrEqual(29);
    expect(frame[0]).toMatch(/^. \[12\/14\] install-pac…  0\.0 s$/);
    reporter.emit({ type: "step-end", step: "install-packages-for-the-compute-nodes", status: "ok", durationMs: 61_000 });
    await reporter.close();
    // Step lines are cut to fit; free text (messages, the recap) may wrap, since it is never redrawn.
    const stepLines = screen(out.text).filter((l) => l.includes("[12/14]"));
    expect(stepLines).toHaveLength(1);
    for (const line of stepLines) expect(Array.from(line).length).toBeLessThanOrEqual(29);
    expect(screen(out.text)[0]).toContain("1 min 01 s");
  });
});
