// The aarch64 emulation check `bootsmith doctor` runs: each way binfmt_misc can be broken is
// reported with the command that fixes it (a binfmt_misc directory laid out as the kernel
// shows it), and on this host (scripts/setup.sh mounts and registers it) a static arm64
// program really runs.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BINFMT_DIR, foreignArchCheck } from "../../src/builder/binfmt.js";
import { silentReporter } from "../../src/exec/events.js";
import { missingPrerequisites } from "../support/prerequisites.js";
import { scratchDirs } from "../support/temp-dirs.js";

const scratch = scratchDirs();

const QEMU_ENTRY = (flags: string, state = "enabled") =>
  `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\nmagic 7f454c460201010000000000000000000200b700\n`;

function binfmtDir(files: Record<string, string>): string {
  const dir = scratch("bootsmith-binfmt-");
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const check = (binfmt: string, need: "fail" | "warn" = "fail") =>
  foreignArchCheck("aarch64", { binfmtDir: binfmt, host: "x86_64", reporter: silentReporter, need });

describe("foreignArchCheck (aarch64 on an x86_64 host)", () => {
  it("binfmt_misc not mounted: says so and gives the mount command", async () => {
    const r = await check(binfmtDir({}));
    expect(r).toMatchObject({ id: "binfmt:aarch64", status: "fail", detail: expect.stringContaining("binfmt_misc is not mounted") });
    expect(r.fix).toMatch(/^mount -t binfmt_misc binfmt_misc \S+ .*update-binfmts --enable qemu-aarch64$/);
  });

  it("no qemu-aarch64 entry: install qemu-user-static and enable it; a warning when only asked about", async () => {
    const r = await check(binfmtDir({ status: "enabled\n" }), "warn");
    expect(r).toMatchObject({ status: "warn", detail: expect.stringContaining("no qemu-aarch64 entry") });
    expect(r.fix).toBe("apt-get install qemu-user-static binfmt-support arch-test && update-binfmts --enable qemu-aarch64");
  });

  it("a disabled entry, and one without the F flag (invisible from inside the image's root)", async () => {
    expect(await check(binfmtDir({ status: "enabled\n", "qemu-aarch64": QEMU_ENTRY("PF", "disabled") }))).toMatchObject({
      status: "fail",
      fix: "update-binfmts --enable qemu-aarch64",
    });
    expect(await check(binfmtDir({ status: "enabled\n", "qemu-aarch64": QEMU_ENTRY("P") }))).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("lacks the F flag"),
    });
  });

  it("a native host needs no emulation", async () => {
    expect(await foreignArchCheck("aarch64", { binfmtDir: "/nonexistent", host: "aarch64", reporter: silentReporter, need: "fail" })).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("native"),
    });
  });

  const skip = missingPrerequisites("binfmt.test (this host)", [
    {
      need: "qemu-aarch64 registered in binfmt_misc, and arch-test",
      present: existsSync(path.join(BINFMT_DIR, "qemu-aarch64")) && existsSync("/usr/bin/arch-test"),
      install: "bash scripts/setup.sh (installs qemu-user-static binfmt-support arch-test, mounts binfmt_misc)",
    },
  ]);
  it.skipIf(skip)("on this host a static arm64 program runs through qemu-user", async () => {
    const r = await foreignArchCheck("aarch64", { host: "x86_64", reporter: silentReporter, need: "fail" });
    expect(r).toMatchObject({ status: "ok", detail: expect.stringMatching(/flags \w*F\w*\): a static aarch64 program runs/) });
  });
});
