// One error base: every deliberate error carries its exit code, and cli/main.ts turns any of
// them into a message (with the hint) and that code; anything else is a bug and is rethrown.
import { afterEach, describe, expect, it, vi } from "vitest";
import { closedPort } from "../support/closed-port.js";
import { BootsmithError, EXIT, fileSystemFailure, messageWithCause, UserError, withContext } from "../../src/core/errors.js";
import { exitCodeFor } from "../../src/cli/main.js";
import { RecipeError } from "../../src/recipe/errors.js";
import { PublishError, PublishInputError } from "../../src/publish/errors.js";
import { InterruptedError } from "../../src/exec/signals.js";
import { RegistrationError } from "../../src/register/errors.js";

function stderrOf(fn: () => number): { code: number; stderr: string } {
  let stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const code = fn();
  return { code, stderr };
}

afterEach(() => vi.restoreAllMocks());

describe("the error base and exitCodeFor", () => {
  it("gives bad input exit 2 and failures exit 1, by class", () => {
    expect(new UserError("x").exitCode).toBe(EXIT.usage);
    expect(new RecipeError([{ file: "r.yaml", path: "name", message: "bad" }]).exitCode).toBe(EXIT.usage);
    expect(new PublishInputError("x").exitCode).toBe(EXIT.usage);
    expect(new PublishError("x", "transfer-failed").exitCode).toBe(EXIT.failed);
    expect(new InterruptedError("SIGTERM").exitCode).toBe(143);
    expect(new RegistrationError("invalid", "x").exitCode).toBe(EXIT.usage);
    expect(new RegistrationError("unavailable", "x").exitCode).toBe(EXIT.failed);
  });

  it("withContext puts where it happened in front and keeps the exit code and hint", () => {
    const error = withContext("bootsmith publish", new BootsmithError("no space", EXIT.usage, { hint: "free some" }));
    const { code, stderr } = stderrOf(() => exitCodeFor(error));
    expect(code).toBe(EXIT.usage);
    expect(stderr).toBe("bootsmith publish: no space\nhint: free some\n");
  });

  it("prints the message and the hint, and returns the error's exit code", () => {
    const { code, stderr } = stderrOf(() => exitCodeFor(new BootsmithError("the disk is full", EXIT.failed, { hint: "free some space" })));
    expect(code).toBe(EXIT.failed);
    expect(stderr).toBe("the disk is full\nhint: free some space\n");
  });

  it("rethrows what is not a BootsmithError: that is a bug, with its stack", () => {
    const bug = new TypeError("undefined is not a function");
    expect(() => exitCodeFor(bug)).toThrow(bug);
  });

  it("fileSystemFailure names the operation, the path and the reason of a Node filesystem error; anything else is not one", () => {
    const erofs = Object.assign(new Error("EROFS: read-only file system, open '/mnt/x'"), { code: "EROFS", syscall: "open", path: "/mnt/x" });
    const failure = fileSystemFailure(erofs);
    expect(failure?.message).toBe("cannot open /mnt/x: read-only file system (EROFS)");
    expect(failure?.exitCode).toBe(EXIT.failed);
    expect(fileSystemFailure(new TypeError("x is not a function"))).toBeUndefined();
    expect(fileSystemFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", syscall: "connect" }))).toBeUndefined();
  });
});

describe("messageWithCause", () => {
  it("adds the cause fetch hides behind 'fetch failed' (a refused connection is named)", async () => {
    const port = await closedPort();
    const error = await fetch(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(messageWithCause(error)).toBe(`fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  it("an error without a cause, or whose message already says it, is left as it is", () => {
    expect(messageWithCause(new Error("boom"))).toBe("boom");
    expect(messageWithCause(new Error("a: b", { cause: new Error("b") }))).toBe("a: b");
    expect(messageWithCause("text")).toBe("text");
  });
});
