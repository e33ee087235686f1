// Finding and stopping the processes a step left running in the image root, with real processes
// chrooted into scratch roots: the ones in the root and in a directory inside it are stopped; the
// host's and another build's root's (a second build of `--jobs 2`) are never touched.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findImageProcesses, startingStep, stopImageProcesses } from "../../src/builder/image-processes.js";
import { chrootedProcesses, runsIn, untilRuns } from "../support/chrooted-process.js";
import { scratchDirs } from "../support/temp-dirs.js";

const scratch = scratchDirs();
const procs = chrootedProcesses();

describe("processes left in the image root", () => {
  it("are found by their root (the image's or one inside it) and stopped; the host's and another root's are not touched", async () => {
    const image = procs.makeRoot(scratch("bootsmith-procs-image-"));
    const inside = procs.makeRoot(path.join(image, "srv", "chroot"));
    const other = procs.makeRoot(scratch("bootsmith-procs-other-"));
    const daemon = procs.start(image, ["sleep", "300"]);
    const nested = procs.start(inside, ["sleep", "301"]);
    const otherBuild = procs.start(other, ["sleep", "302"]);
    const host = procs.start(undefined, ["sleep", "303"]);
    await untilRuns(daemon, image, "/bin/busybox sleep 300");
    await untilRuns(nested, inside, "/bin/busybox sleep 301");
    await untilRuns(otherBuild, other, "/bin/busybox sleep 302");

    expect(
      findImageProcesses(image)
        .map((p) => [p.pid, p.command])
        .sort(),
    ).toEqual(
      [
        [daemon, "/bin/busybox sleep 300"],
        [nested, "/bin/busybox sleep 301"],
      ].sort(),
    );

    const stopped = await stopImageProcesses(image);
    expect(stopped.map((p) => [p.pid, p.by]).sort()).toEqual(
      [
        [daemon, "SIGTERM"],
        [nested, "SIGTERM"],
      ].sort(),
    );
    expect(runsIn(daemon)).toBe(false);
    expect(runsIn(nested)).toBe(false);
    expect(runsIn(otherBuild, other)).toBe(true);
    expect(runsIn(host)).toBe(true);
    expect(findImageProcesses(image)).toEqual([]);
  });

  it("one that ignores SIGTERM is killed after the grace period", async () => {
    const image = procs.makeRoot(scratch("bootsmith-procs-stubborn-"));
    // An ignored signal stays ignored across exec: the sleep ignores SIGTERM.
    const stubborn = procs.start(image, ["sh", "-c", "trap '' TERM; exec /bin/busybox sleep 300"]);
    await untilRuns(stubborn, image, "/bin/busybox sleep 300");
    const stopped = await stopImageProcesses(image, { graceMs: 200 });
    expect(stopped.map((p) => [p.pid, p.by])).toEqual([[stubborn, "SIGKILL"]]);
    expect(runsIn(stubborn)).toBe(false);
  });

  it("an empty root has none, and stopping them does nothing", async () => {
    const image = scratch("bootsmith-procs-empty-");
    mkdirSync(path.join(image, "etc"));
    expect(findImageProcesses(image)).toEqual([]);
    expect(await stopImageProcesses(image)).toEqual([]);
  });

  it("a process is put down to the step whose program was running when it started", () => {
    const starts = [
      { step: "install-packages", at: 100 },
      { step: "command-1", at: 150.5 },
      { step: "initramfs", at: 170 },
    ];
    expect(startingStep({ pid: 1, command: "gpg-agent", startedAt: 160 }, starts)).toBe("command-1");
    expect(startingStep({ pid: 1, command: "gpg-agent", startedAt: 150.5 }, starts)).toBe("command-1");
    expect(startingStep({ pid: 1, command: "x", startedAt: 50 }, starts)).toBeUndefined();
  });
});
