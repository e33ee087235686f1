import { describe, expect, it } from "vitest";
import { createReporter, resolveReporterMode, TtyReporter } from "../../../src/exec/reporters/index.js";
import { FakeStream } from "./fake-stream.js";

describe("createReporter", () => {
  it.each([
    [true, {}, "tty"],
    [true, { CI: "true" }, "plain"],
    [true, { GITLAB_CI: "true", CI: "true" }, "plain"],
    [true, { CI: "false" }, "tty"],
    [true, { TERM: "dumb" }, "plain"],
    [false, {}, "plain"],
  ] as const)("auto with isTTY=%s and env %j is %s", (isTTY, env, expected) => {
    expect(resolveReporterMode("auto", new FakeStream(isTTY, 80), env)).toBe(expected);
  });

  it("respects an explicit mode", () => {
    expect(resolveReporterMode("plain", new FakeStream(true, 80), {})).toBe("plain");
    expect(resolveReporterMode("tty", new FakeStream(false), { CI: "1" })).toBe("tty");
  });

  it("sends human output to the given stream and JSON to the JSON stream only", async () => {
    const human = new FakeStream();
    const json = new FakeStream();
    const event = { type: "message", level: "warn", text: "careful" } as const;
    const plain = createReporter({ mode: "auto", stream: human, jsonStream: json, env: {} });
    plain.emit(event);
    await plain.close();
    expect(human.text).toBe("warning: careful\n");
    const machine = createReporter({ mode: "json", stream: human, jsonStream: json, env: {} });
    machine.emit(event);
    await machine.close();
    expect(human.text).toBe("warning: careful\n");
    expect(JSON.parse(json.text)).toMatchObject(event);
  });

  it("builds a terminal reporter for a terminal", async () => {
    const reporter = createReporter({ stream: new FakeStream(true, 80), env: {} });
    expect(reporter).toBeInstanceOf(TtyReporter);
    await reporter.close();
  });
});
