import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitForAnyFile } from "./wait-for-file.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("waitForAnyFile", () => {
  it("resolves at once with a file that is already there", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "bootsmith-wait-"));
    writeFileSync(path.join(dir, "b"), "");
    await expect(waitForAnyFile([path.join(dir, "a"), path.join(dir, "b")], 1_000)).resolves.toBe(path.join(dir, "b"));
  });

  it("resolves with the file renamed into place later, whichever of the list it is", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "bootsmith-wait-"));
    const waiting = waitForAnyFile([path.join(dir, "ready"), path.join(dir, "failed")], 10_000);
    writeFileSync(path.join(dir, "failed.tmp"), "no");
    renameSync(path.join(dir, "failed.tmp"), path.join(dir, "failed"));
    await expect(waiting).resolves.toBe(path.join(dir, "failed"));
  });

  it("rejects after the timeout, naming the files", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "bootsmith-wait-"));
    await expect(waitForAnyFile([path.join(dir, "never")], 50)).rejects.toThrow(`none of ${path.join(dir, "never")} appeared within 0.05 s`);
  });
});
