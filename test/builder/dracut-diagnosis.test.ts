// A failing dracut through run() with the dracut diagnosis: the failure report shows the line that
// made it fail first, with a hint, even when hundreds of noise lines follow it.
// test/fixtures/dracut/network-without-dbus.log is real output: Debian 12's dracut 059 in the
// test-deb-kernel-base image (test/fixtures/debian-layers) run with --add "dmsquash-live livenet
// network" (network resolves to systemd-networkd; the image has no dbus), exit 1.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { run, isCommandError, type CommandError } from "../../src/exec/run.js";
import { dracutDiagnosis } from "../../src/builder/dracut-diagnosis.js";
import { REPO_ROOT } from "../support/cli.js";

const LOG = path.join(REPO_ROOT, "test/fixtures/dracut/network-without-dbus.log");
const reporter = { emit: () => {}, close: async () => {} };

/** Replays the log on stderr, then `noise` lines like dracut's skipped-module chatter, and exits 1. */
async function failingDracut(noise: number, diagnose = true): Promise<CommandError> {
  const script =
    'cat "$1" >&2; i=0; while [ $i -lt "$2" ]; do echo "dracut: dracut module \'m$i\' will not be installed, because command \'x$i\' could not be found!" >&2; i=$((i+1)); done; exit 1';
  try {
    await run({ file: "sh", args: ["-c", script, "sh", LOG, String(noise)] }, { step: "initramfs", reporter }, diagnose ? { diagnosis: dracutDiagnosis } : {});
  } catch (error) {
    if (isCommandError(error)) return error;
    throw error;
  }
  throw new Error("the command did not fail");
}

describe("dracut failure diagnosis", () => {
  it("names the cause in the message and first in the report, with the hint for the known cause", async () => {
    const error = await failingDracut(0);
    expect(error.causes).toEqual(["dracut: dracut module 'ifcfg' cannot be found or installed."]);
    expect(error.message).toBe("[initramfs] sh exited with code 1: dracut: dracut module 'ifcfg' cannot be found or installed.");
    expect(error.hint).toMatch(/systemd-networkd, which needs dbus.*network-legacy/);
    const lines = error.report.split("\n");
    expect(lines.slice(1, 3)).toEqual(["  cause:", "    dracut: dracut module 'ifcfg' cannot be found or installed."]);
    expect(lines.findIndex((l) => l.startsWith("  hint:"))).toBeLessThan(lines.indexOf("  last output:"));
  });

  it("keeps the cause when it is far above the last output lines", async () => {
    const error = await failingDracut(200);
    expect(error.outputTail.join("\n")).not.toContain("cannot be found or installed");
    expect(error.causes).toEqual(["dracut: dracut module 'ifcfg' cannot be found or installed."]);
  });

  it("without a diagnosis the report is the plain tail, as before", async () => {
    const error = await failingDracut(0, false);
    expect(error.causes).toEqual([]);
    expect(error.message).toBe("[initramfs] sh exited with code 1");
    expect(error.hint).toBeUndefined();
  });

  it.each([
    ["dracut: dracut module 'livenet' cannot be found or installed.", /dracut-live.*curl/],
    ["dracut: dracut module 'network-legacy' cannot be found or installed.", /isc-dhcp-client, procps, iproute2/],
    ["dracut: dracut module 'foo' cannot be found or installed.", /install the package that ships it/],
    ["dracut: FATAL: Cannot find module directory /lib/modules/6.1.0-9-amd64/", /no \/lib\/modules directory/],
    ["cp: error writing '/var/tmp/initramfs.x': No space left on device", /is full/],
  ])("%s → a hint", (line, hint) => {
    expect(dracutDiagnosis.isCause(line)).toBe(true);
    expect(dracutDiagnosis.hint([line])).toMatch(hint);
  });

  it("the skipped-module chatter is not a cause", () => {
    expect(dracutDiagnosis.isCause("dracut: dracut module 'nbd' will not be installed, because command 'nbd-client' could not be found!")).toBe(false);
  });
});
