// main.ts lists commands lazily (name, summary, loader) so a command loads only what it uses;
// this keeps the table honest against each module's own name and summary.
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";

describe("the command table", () => {
  it.each(commands.map((c) => [c.name, c] as const))("%s matches its module", async (_name, entry) => {
    const command = await entry.load();
    expect(command.name).toBe(entry.name);
    expect(command.summary).toBe(entry.summary);
    expect(command.usage).toMatch(/^Usage: bootsmith /);
  });
});
