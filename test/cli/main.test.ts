// main.ts lists commands lazily (name, summary, loader) so a command loads only what it uses;
// this keeps the table honest against each module's own name and summary. main turns a
// filesystem error (read-only or full disk, a file in the way) into a message, not a crash.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { commands, main } from "../../src/cli/main.js";
import { EXIT } from "../../src/core/errors.js";
import { makeFakeImage } from "../publish/support/artifacts.js";

describe("the command table", () => {
  it.each(commands.map((c) => [c.name, c] as const))("%s matches its module", async (_name, entry) => {
    const command = await entry.load();
    expect(command.name).toBe(entry.name);
    expect(command.summary).toBe(entry.summary);
    expect(command.usage).toMatch(/^Usage: bootsmith /);
  });
});

describe("main", () => {
  it("a filesystem error a command meets (a file where a directory should be) is a message and exit 1, not a crash", async () => {
    const image = await makeFakeImage({ sizes: { kernel: 1024 } });
    const blocker = path.join(image.dir, "a-file");
    writeFileSync(blocker, "x");
    let stderr = "";
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    try {
      const code = await main(["publish", image.dir, "--to", `dir:${blocker}/sub`]);
      expect(code).toBe(EXIT.failed);
    } finally {
      spy.mockRestore();
      rmSync(image.dir, { recursive: true, force: true });
    }
    expect(stderr).toMatch(
      new RegExp(`^bootsmith publish: cannot mkdir ${blocker}/sub\\S*: a part of the path is a file, not a directory \\(ENOTDIR\\)\\nhint: `),
    );
  });
});

/** Runs main with stdout and stderr captured. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const seen = { stdout: "", stderr: "" };
  const spies = (["stdout", "stderr"] as const).map((name) =>
    vi.spyOn(process[name], "write").mockImplementation((chunk: string | Uint8Array) => ((seen[name] += String(chunk)), true)),
  );
  try {
    return { code: await main(argv), ...seen };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe("bootsmith schema", () => {
  it.each([["--out", "x.json"], ["x.json"]])("refuses arguments it does not take (%s), exit 2, instead of ignoring them", async (...args) => {
    const r = await run("schema", ...args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^bootsmith schema: /);
  });
});

describe("bootsmith help COMMAND", () => {
  it("prints that command's --help, as `bootsmith COMMAND --help` does", async () => {
    const r = await run("help", "build");
    expect(r.code).toBe(EXIT.ok);
    const build = await commands.find((c) => c.name === "build")!.load();
    expect(r.stdout).toBe(`${build.usage.trimEnd()}\n`);
  });

  it("an unknown command after help is refused (exit 2), naming the commands", async () => {
    const r = await run("help", "frobnicate");
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});

describe("bootsmith --version", () => {
  it("is named in the main help, and prints the version", async () => {
    expect((await run("--help")).stdout).toMatch(/^\s+bootsmith --version$/m);
    expect((await run("--version")).stdout).toMatch(/^bootsmith \d+\.\d+\.\d+\n$/);
  });
});
