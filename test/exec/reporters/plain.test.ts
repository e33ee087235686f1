import { describe, expect, it } from "vitest";
import { createPlainReporter } from "../../../src/exec/reporters/plain.js";
import { FakeStream } from "./fake-stream.js";
import { buildEvents } from "./sequence.js";

describe("plain reporter", () => {
  it("prints one line per step start and end, commands, warnings and the summary", async () => {
    const out = new FakeStream();
    const reporter = createPlainReporter({ stream: out });
    buildEvents.forEach((e) => reporter.emit(e));
    await reporter.close();
    expect(out.text.split("\n")).toEqual([
      "[1/3] fetch-base: Fetch the base image …",
      "+ buildah from scratch",
      "[1/3] fetch-base … ok (1.2 s)",
      "[2/3] install-packages: Install packages …",
      "+ dnf -y install bash",
      "warning: repo metadata is 3 days old",
      "[2/3] install-packages … ok (42.1 s)",
      "[3/3] squashfs: Make rootfs.squashfs …",
      "+ mksquashfs /mnt rootfs.squashfs",
      "[3/3] squashfs … failed (3.0 s): mksquashfs exited with code 1",
      "build failed (46.3 s)",
      "  log: artifacts/x/build.log",
      "",
    ]);
  });

  it("prints output lines, without escape codes, only when verbose", () => {
    const quiet = new FakeStream();
    const verbose = new FakeStream();
    const event = { type: "output", step: "dnf", stream: "stdout", line: "\x1b[32mInstalled\x1b[0m" } as const;
    createPlainReporter({ stream: quiet }).emit(event);
    createPlainReporter({ stream: verbose, verbose: true }).emit(event);
    expect(quiet.text).toBe("");
    expect(verbose.text).toBe("  dnf | Installed\n");
  });
});
