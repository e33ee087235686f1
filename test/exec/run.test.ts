import { describe, expect, it } from "vitest";
import { silentReporter } from "../../src/exec/events.js";
import { CommandError, run } from "../../src/exec/run.js";

async function failure(file: string, args: string[]): Promise<CommandError> {
  const error = await run({ file, args }, { step: "test", reporter: silentReporter }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CommandError);
  return error as CommandError;
}

describe("run: what a failure says", () => {
  it("a program that is not installed is 'command not found' with the install hint", async () => {
    const error = await failure("bootsmith-no-such-program", []);
    expect(error.message).toBe("[test] bootsmith-no-such-program: command not found");
  });

  it("exit 127 from a program that did start names what it ran, not the program itself", async () => {
    // What `buildah run … sh -c SCRIPT` looks like when the script calls a program the image lacks.
    const error = await failure("sh", ["-c", "bootsmith-missing-inside"]);
    expect(error.message).not.toMatch(/sh: command not found$/);
    expect(error.message).toMatch(/^\[test\] sh exited with code 127: a program it ran was not found: .*bootsmith-missing-inside/);
    expect(error.processExitCode).toBe(127);
  });
});

describe("run: output", () => {
  /** Runs printf with `text` on stdout and "e1\ne2" on stderr; returns the result and the lines reported. */
  async function printed(text: string, options: { capture?: boolean } = {}) {
    const lines: string[] = [];
    const reporter = {
      emit: (e: { type: string; stream?: string; line?: string }) => e.type === "output" && lines.push(`${e.stream}:${e.line}`),
      close: async () => {},
    };
    const result = await run({ file: "sh", args: ["-c", 'printf "%s" "$1"; printf "e1\\ne2" >&2', "sh", text] }, { step: "test", reporter }, options);
    return { stdout: result.stdout, lines };
  }

  it("reports each line without its line ending, a last line without one too, and keeps stdout as written minus its final newline", async () => {
    const r = await printed("a\r\nb\n\nc");
    expect(r.stdout).toBe("a\r\nb\n\nc");
    expect(r.lines.filter((l) => l.startsWith("stdout:"))).toEqual(["stdout:a", "stdout:b", "stdout:", "stdout:c"]);
    expect(r.lines.filter((l) => l.startsWith("stderr:"))).toEqual(["stderr:e1", "stderr:e2"]);
    expect((await printed("a\nb\n")).stdout).toBe("a\nb");
    expect((await printed("a\n\n")).stdout).toBe("a\n");
    expect((await printed("")).stdout).toBe("");
  });

  it("decodes characters split across reads, and long output whole", async () => {
    // 80 kB lines of 2- and 3-byte characters: more than a pipe's read, so split somewhere inside one.
    const line = "é€✓".repeat(10_000);
    const lines: string[] = [];
    const reporter = { emit: (e: { type: string; line?: string }) => e.type === "output" && lines.push(e.line!), close: async () => {} };
    const r = await run({ file: "sh", args: ["-c", 'yes "$1" | head -n 3', "sh", line] }, { step: "test", reporter });
    expect(r.stdout).toBe(Array(3).fill(line).join("\n"));
    expect(lines).toEqual(Array(3).fill(line));
  });

  it("without capture, still reports the lines", async () => {
    const r = await printed("x\ny", { capture: false });
    expect(r.stdout).toBe("");
    expect(r.lines).toContain("stdout:y");
  });
});
