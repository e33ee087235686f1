import { afterEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { acquireBuildLock, BuildLockedError, LOCK_FILE, lockOutputDir } from "../../src/builder/output-lock.js";
import { EXIT, UserError } from "../../src/core/errors.js";

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(path.join(tmpdir(), "bootsmith-lock-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
/** What acquireBuildLock throws for `dir` (undefined when it takes the lock). */
const lockError = (dir: string): unknown => {
  try {
    acquireBuildLock(dir);
  } catch (e) {
    return e;
  }
  return undefined;
};

describe("acquireBuildLock", () => {
  it("lets one build in and refuses the second, naming the holder", () => {
    const dir = fresh();
    const release = acquireBuildLock(dir);
    const error = lockError(dir);
    expect(error).toBeInstanceOf(BuildLockedError);
    expect((error as BuildLockedError).message).toContain(`pid ${process.pid}`);
    release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    acquireBuildLock(dir)();
  });

  it("takes over a lock whose process is gone", async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = child.pid!;
    await new Promise((resolve) => child.on("exit", resolve));
    writeFileSync(path.join(dir, LOCK_FILE), `${pid}\n`);
    const release = acquireBuildLock(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.pid} ${hostname()}\n`);
    release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it("refuses a lock taken on another host (shared storage): its pid cannot be checked from here", async () => {
    // Two nightly jobs on two nodes writing one NFS output directory: the other node's pid is
    // not a process here, and taking its lock over would let both builds write the same files.
    const dir = fresh();
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = child.pid!;
    await new Promise((resolve) => child.on("exit", resolve));
    writeFileSync(path.join(dir, LOCK_FILE), `${pid} other-node-17\n`);
    const error = lockError(dir);
    expect(error).toBeInstanceOf(BuildLockedError);
    expect((error as BuildLockedError).message).toContain(`pid ${pid} on other-node-17`);
    expect((error as BuildLockedError).message).toContain(`remove ${path.join(dir, LOCK_FILE)}`);
    expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${pid} other-node-17\n`);
  });

  it("refuses a lock whose process is alive although it is not a bootsmith of ours", () => {
    const dir = fresh();
    writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => acquireBuildLock(dir)).toThrow(new RegExp(`pid ${process.ppid}\\b`));
    expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.ppid}\n`);
  });
});

describe("lockOutputDir", () => {
  const failure = (dir: string): unknown => {
    try {
      lockOutputDir(dir)();
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it("creates a missing output directory and locks it", () => {
    const dir = path.join(fresh(), "a", "b");
    const release = lockOutputDir(dir);
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    release();
  });

  it("a file where the directory should be is bad input naming the directory, not a crash", () => {
    const file = path.join(fresh(), "afile");
    writeFileSync(file, "x");
    for (const dir of [file, path.join(file, "sub")]) {
      const error = failure(dir);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).exitCode).toBe(EXIT.usage);
      expect((error as UserError).message).toMatch(new RegExp(`^output directory ${dir} cannot be written: cannot mkdir ${file}`));
      expect((error as UserError).hint).toContain("--out");
    }
  });
});
