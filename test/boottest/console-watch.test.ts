import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConsoleWatcher, stripAnsi, type ConsoleVerdict } from "../../src/boottest/console-watch.js";

const fixture = (name: string) => readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", name), "latin1");

/** Feed a recording in uneven chunks, as a pipe delivers it; return the first decisive verdict. */
function watch(text: string, watcher = new ConsoleWatcher(), chunk = 777): ConsoleVerdict {
  for (let i = 0; i < text.length; i += chunk) {
    const v = watcher.feed(text.slice(i, i + chunk));
    if (v.kind !== "pending") return v;
  }
  return watcher.end();
}

describe("ConsoleWatcher on recorded consoles", () => {
  it("passes a good live boot on the marker, despite dracut's FAILED sysroot.mount line", () => {
    const text = fixture("console-success.log");
    expect(text).toMatch(/FAILED.*sysroot\.mount/);
    const v = watch(text);
    expect(v).toMatchObject({ kind: "success", matched: "marker" });
    expect(v.kind === "success" && v.line).toMatch(/^BOOT-MARKER-OK host=feas-node/);
  });

  it("with --marker-target, passes on the multi-user.target status line before the marker", () => {
    const v = watch(fixture("console-success.log"), new ConsoleWatcher({ markerTarget: true }));
    expect(v).toMatchObject({ kind: "success", matched: "target" });
    expect(v.kind === "success" && v.line).toContain("Reached target multi-user.target - Multi-User System.");
  });

  it("fails fast on livenet's first download failure, naming the URL", () => {
    const w = new ConsoleWatcher();
    const v = watch(fixture("console-rootfs-404.log"), w);
    expect(v).toMatchObject({ kind: "failure", reason: "rootfs-download-failed" });
    expect(v.kind === "failure" && v.message).toContain("http://10.0.2.2:18080/wrong.squashfs");
  });

  it("fails on a kernel panic with its reason", () => {
    const v = watch(fixture("console-panic.log"));
    expect(v).toMatchObject({ kind: "failure", reason: "kernel-panic" });
    expect(v.kind === "failure" && v.message).toContain("VFS: Unable to mount root fs");
  });

  it("fails on dracut refusing root=live: when the initramfs lacks livenet (then it halts)", () => {
    const v = watch(fixture("console-no-livenet.log"));
    expect(v).toMatchObject({ kind: "failure", reason: "dracut-fatal" });
    expect(v.kind === "failure" && v.message).toMatch(
      /Don't know how to handle 'root=live:http:\/\/10\.0\.2\.2:\d+\/rootfs\.squashfs'.*lacks dracut's livenet/,
    );
  });

  it("stays pending on a console that has not decided yet", () => {
    const text = fixture("console-success.log");
    expect(watch(text.slice(0, text.indexOf("Reached target")))).toEqual({ kind: "pending" });
  });
});

describe("ConsoleWatcher rules", () => {
  const one = (line: string, w = new ConsoleWatcher()) => w.feed(line + "\n");

  it.each([
    ["[  300.1] dracut-initqueue[123]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:", "initqueue-timeout"],
    ["[  300.1] dracut: Warning: Could not boot.", "initqueue-timeout"],
    ["[   20.0] systemd[1]: Entering emergency mode. Exit the shell to continue.", "emergency-mode"],
    ["http://10.0.2.2:8080/vmlinuz... No such file or directory (https://ipxe.org/2d0c613b)", "ipxe-error"],
    ["No bootable device.", "no-bootable-device"],
    ["[   24.072113] reboot: System halted", "system-halted"],
    ["[   22.720522] dracut: FATAL: No or empty root= argument", "dracut-fatal"],
  ] as const)("%s -> %s", (line, reason) => {
    expect(one(line)).toMatchObject({ kind: "failure", reason });
  });

  it("names the whole iPXE error when iPXE wrapped it at 80 columns (as recorded here)", () => {
    const w = new ConsoleWatcher();
    w.feed("boot.ipxe : 585 bytes [script]\r\n");
    w.feed("http://10.0.2.2:8080/debian-12-live/bookworm/vmlinuz... No such file or director\r\n");
    expect(w.feed("y (http://ipxe.org/2d0c613b)\r\n")).toMatchObject({
      kind: "failure",
      reason: "ipxe-error",
      message: "iPXE failed: http://10.0.2.2:8080/debian-12-live/bookworm/vmlinuz... No such file or directory (http://ipxe.org/2d0c613b)",
    });
  });

  it("accepts bootsmith's own ready line by default", () => {
    expect(one("BOOTSMITH-READY host=node kernel=6.1.0-56-amd64 uptime=40.2s")).toMatchObject({ kind: "success", matched: "marker" });
  });

  it("ignores the marker and failure words in the kernel's echo of its command line", () => {
    const w = new ConsoleWatcher({ marker: /READY-42/ });
    expect(one("[    0.000000] Command line: console=ttyS0 bootsmith.marker=READY-42", w)).toEqual({ kind: "pending" });
    expect(one("READY-42", w)).toMatchObject({ kind: "success", matched: "marker" });
  });

  it("keeps the first verdict and a bounded, ANSI-free tail", () => {
    const w = new ConsoleWatcher({ tailLines: 3 });
    w.feed("\x1b[0;32m  OK  \x1b[0m] line 1\r\nBOOT-MARKER-OK\r\n");
    w.feed("Kernel panic - not syncing: later\nx\ny\n");
    expect(w.verdict).toMatchObject({ kind: "success" });
    expect(w.tail).toEqual(["Kernel panic - not syncing: later", "x", "y"]);
  });

  it("joins lines split across chunks and flushes a trailing partial line at the end", () => {
    const w = new ConsoleWatcher();
    expect(w.feed("BOOT-MARK")).toEqual({ kind: "pending" });
    expect(w.feed("ER-OK")).toEqual({ kind: "pending" });
    expect(w.end()).toMatchObject({ kind: "success" });
  });

  it("strips colour and reset sequences", () => {
    expect(stripAnsi("\x1bc\x1b[?7l\x1b[2J[\x1b[0;1;31mFAILED\x1b[0m] Failed")).toBe("[FAILED] Failed");
  });
});
