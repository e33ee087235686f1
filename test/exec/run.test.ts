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
