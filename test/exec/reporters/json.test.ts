import { describe, expect, it } from "vitest";
import { createJsonReporter } from "../../../src/exec/reporters/json.js";
import { FakeStream } from "./fake-stream.js";
import { buildEvents } from "./sequence.js";

describe("JSON lines reporter", () => {
  it("writes each event as one parseable JSON object per line, with a time", async () => {
    const out = new FakeStream();
    const reporter = createJsonReporter({ stream: out, now: () => new Date("2026-01-02T03:04:05.000Z") });
    buildEvents.forEach((e) => reporter.emit(e));
    await reporter.close();
    const lines = out.text.trimEnd().split("\n");
    expect(lines).toHaveLength(buildEvents.length);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    parsed.forEach((p, i) => {
      const { time, ...event } = p;
      expect(time).toBe("2026-01-02T03:04:05.000Z");
      expect(event).toEqual(buildEvents[i]);
    });
  });

  it("keeps a line with a newline inside on one JSON line", () => {
    const out = new FakeStream();
    createJsonReporter({ stream: out }).emit({ type: "message", level: "error", text: "two\nlines" });
    expect(out.text.split("\n")).toHaveLength(2);
  });
});
