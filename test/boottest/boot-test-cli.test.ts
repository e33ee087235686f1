// The boot-test and serve commands' argument handling: bad input is a UserError (exit 2) before
// anything starts; results print as PASS/FAIL lines with the console tail.
import { describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bootTestCommand, formatResult, resolveTarget } from "../../src/cli/boot-test.js";
import { UserError } from "../../src/core/errors.js";
import { parsePort, serveCommand } from "../../src/cli/serve.js";

describe("bootsmith boot-test arguments", () => {
  it.each([
    [[], /artifact directory or --bootscript-url/],
    [["a", "b"], /expected one artifact directory/],
    [["dir", "--accel", "hvf"], /--accel hvf: expected auto, kvm, tcg/],
    [["dir", "--marker", "(unclosed"], /--marker: not a valid regular expression/],
    [["dir", "--timeout", "5m"], /--timeout "5m": expected a positive whole number/],
    [["dir", "--port", "70000"], /--port "70000"/],
    [["dir", "--bogus"], /unknown option --bogus$/m],
    [
      ["recipes/debian-12-live.yaml", "--out", "/nonexistent-bootsmith-out"],
      /no build of debian-12-live in \/nonexistent-bootsmith-out .*bootsmith build recipes\/debian-12-live.yaml --no-publish/,
    ],
  ])("%j is refused", async (args, message) => {
    const run = bootTestCommand.run(args);
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toThrow(message);
  });

  it("finds a recipe's build in --out", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "bootsmith-cli-out-"));
    try {
      for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await writeFile(path.join(out, f), "x");
      expect(resolveTarget("recipes/debian-12-live.yaml", out, {}).dir).toBe(out);
      expect(resolveTarget(out, undefined, {}).dir).toBe(out);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("maps a missing artifact to a UserError naming the files", async () => {
    await expect(bootTestCommand.run(["/nonexistent-bootsmith-dir"])).rejects.toThrow(/missing vmlinuz, initramfs.img, rootfs.squashfs/);
  });

  it("prints PASS with the time, FAIL with reason, tail and log path", () => {
    expect(
      formatResult({ ok: true, message: "booted in 52.3 s (marker: BOOT-MARKER-OK)", bootSeconds: 52.3, consoleTail: ["x"], checks: [], elapsedSeconds: 55 }),
    ).toBe("PASS boot-test: booted in 52.3 s (marker: BOOT-MARKER-OK)");
    expect(
      formatResult({
        ok: false,
        reason: "kernel-panic",
        message: "kernel panic: VFS",
        consoleTail: ["a", "b"],
        consoleLog: "/tmp/c.log",
        checks: [],
        elapsedSeconds: 9,
      }),
    ).toBe(["FAIL boot-test (kernel-panic): kernel panic: VFS", "last 2 console lines:", "  | a", "  | b", "full console: /tmp/c.log"].join("\n"));
  });
});

describe("boot-test output for checks", () => {
  it("names the failing check and prints its output", () => {
    const text = formatResult({
      ok: false,
      reason: "check-failed",
      message: "booted in 60 s, but check slurmd failed (exit code 3, expected 0)",
      consoleTail: ["ignored"],
      elapsedSeconds: 70,
      checks: [
        {
          name: "system-running",
          builtin: true,
          status: "pass",
          exitCode: 0,
          seconds: 0.5,
          stdout: "systemctl is-system-running: running\n",
          stderr: "",
          message: "passed",
        },
        {
          name: "slurmd",
          builtin: false,
          status: "fail",
          exitCode: 3,
          seconds: 0.4,
          stdout: "inactive\n",
          stderr: "unit slurmd.service not found\n",
          message: "exit code 3, expected 0",
        },
      ],
      rewrittenUrls: ["http://127.0.0.1:8080/vmlinuz"],
    });
    expect(text.split("\n")).toEqual([
      "FAIL boot-test (check-failed): booted in 60 s, but check slurmd failed (exit code 3, expected 0)",
      "note: the boot script's http://127.0.0.1:8080/vmlinuz was booted as http://10.0.2.2:8080/vmlinuz (the guest's name for the host's loopback)",
      "  PASS system-running (built-in) 0.5 s: systemctl is-system-running: running",
      "  FAIL slurmd 0.4 s: exit code 3, expected 0",
      "       stdout:",
      "       | inactive",
      "       stderr:",
      "       | unit slurmd.service not found",
    ]);
  });

  it("summarises a storm per node and shows a failing node's details", () => {
    const node = (mac: string, ok: boolean) =>
      ok
        ? {
            ok: true as const,
            mac,
            message: "booted",
            bootSeconds: 90,
            consoleTail: [],
            elapsedSeconds: 95,
            checks: [],
            breakdown: { phases: [], totalSeconds: 95 },
          }
        : { ok: false as const, mac, reason: "timeout" as const, message: "no marker", consoleTail: ["last line"], elapsedSeconds: 300, checks: [] };
    const nodes = [node("52:54:00:12:34:56", true), node("52:54:00:12:34:57", false)];
    const text = formatResult({
      ...nodes[1]!,
      message: "1 of 2 nodes failed: node 2 (timeout): no marker",
      nodeResults: nodes,
      storm: { nodes: 2, totalSeconds: 300, peakBytesPerSecond: 52_300_000, bytesServed: 2 * 221_000_000 },
    });
    expect(text.split("\n").slice(0, 4)).toEqual([
      "FAIL boot-test storm (timeout): 1 of 2 nodes failed: node 2 (timeout): no marker",
      "  2 nodes, 300 s in all; server sent 421.5 MiB, peak 49.9 MiB/s over one second",
      "  node 1 (52:54:00:12:34:56): PASS up in 90 s, total 95 s",
      "  node 2 (52:54:00:12:34:57): FAIL (timeout) no marker",
    ]);
    expect(text).toContain("--- node 2\n  FAIL boot-test (timeout): no marker");
  });

  it("refuses a malformed --check as bad input", async () => {
    await expect(bootTestCommand.run(["/nonexistent-bootsmith-dir", "--check", "no equals"])).rejects.toThrow(
      /--check "no equals": the name before "=" must be one word/,
    );
  });
});

describe("bootsmith serve arguments", () => {
  it("parses ports and refuses junk", () => {
    expect(parsePort(undefined, 8080)).toBe(8080);
    expect(parsePort("0", 8080)).toBe(0);
    expect(() => parsePort("http", 8080)).toThrow(UserError);
  });

  it("refuses a missing directory as bad input", async () => {
    await expect(serveCommand.run(["/nonexistent-bootsmith-dir", "--port", "0"])).rejects.toThrow(/cannot serve .*nonexistent-bootsmith-dir/);
    await expect(serveCommand.run([])).rejects.toBeInstanceOf(UserError);
  });
});
