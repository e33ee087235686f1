// A reader that goes away before bootsmith has printed everything (`bootsmith schema | head -1`,
// a runner's log pipe that died, a terminal that hung up): what is left to print is dropped and
// the command ends as it would have, instead of dying of an uncaught EPIPE with a stack trace.
import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { dropOutputToClosedReaders } from "../../src/cli/closed-output.js";
import { CLI } from "../support/cli.js";

function outputStream(): NodeJS.WriteStream {
  return new PassThrough() as unknown as NodeJS.WriteStream;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe("dropOutputToClosedReaders", () => {
  it("drops EPIPE (a closed pipe) and EIO (a hung-up terminal)", () => {
    const stream = outputStream();
    dropOutputToClosedReaders([stream]);
    expect(() => stream.emit("error", errno("EPIPE"))).not.toThrow();
    expect(() => stream.emit("error", errno("EIO"))).not.toThrow();
  });

  it("lets any other write error through", () => {
    const stream = outputStream();
    dropOutputToClosedReaders([stream]);
    expect(() => stream.emit("error", errno("ENOSPC"))).toThrow("write ENOSPC");
  });
});

describe("the CLI writing to a reader that has gone", () => {
  it("bootsmith schema into a pipe closed before its first write: exit 0, no stack trace", async () => {
    const child = spawn(process.execPath, [CLI, "schema"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
