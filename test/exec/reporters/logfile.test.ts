import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogFileReporter, LogFileError } from "../../../src/exec/reporters/logfile.js";
import { buildEvents } from "./sequence.js";
import { scratchDirs } from "../../support/temp-dirs.js";

const scratch = scratchDirs();

const fixedTime = () => new Date("2026-01-02T03:04:05.678Z");

describe("build log file reporter", () => {
  it("appends every event, output lines with timestamp and step, and is complete after close", async () => {
    const dir = scratch("bootsmith-log-");
    const path = join(dir, "out", "build.log");
    const reporter = createLogFileReporter(path, { now: fixedTime });
    buildEvents.forEach((e) => reporter.emit(e));
    await reporter.close();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toContain("2026-01-02T03:04:05.678Z [install-packages] 1> Installing: bash-5.2");
    expect(lines).toContain("2026-01-02T03:04:05.678Z [squashfs] 2> FATAL ERROR: no space left");
    expect(lines).toContain("2026-01-02T03:04:05.678Z [squashfs] + mksquashfs /mnt rootfs.squashfs");
    expect(lines).toContain("2026-01-02T03:04:05.678Z [squashfs] failed after 3.0 s: mksquashfs exited with code 1");
    expect(lines).toContain("2026-01-02T03:04:05.678Z WARN repo metadata is 3 days old");
    expect(lines.at(-1)).toBe("2026-01-02T03:04:05.678Z SUMMARY log: artifacts/x/build.log");
    // Every event left at least one line (the summary two).
    expect(lines).toHaveLength(buildEvents.length + 1);
  });

  it("appends to an existing log instead of replacing it", async () => {
    const path = join(scratch("bootsmith-log-"), "build.log");
    writeFileSync(path, "previous attempt\n");
    const reporter = createLogFileReporter(path, { now: fixedTime });
    reporter.emit({ type: "message", level: "info", text: "again" });
    await reporter.close();
    expect(readFileSync(path, "utf8")).toBe("previous attempt\n2026-01-02T03:04:05.678Z INFO again\n");
  });

  it("reports a log that cannot be written from close()", async () => {
    const dir = scratch("bootsmith-log-");
    // A directory where the file should be: opening it fails asynchronously.
    const reporter = createLogFileReporter(dir);
    reporter.emit({ type: "message", level: "info", text: "lost" });
    await expect(reporter.close()).rejects.toBeInstanceOf(LogFileError);
  });
});
