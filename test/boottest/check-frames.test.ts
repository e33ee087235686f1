import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CheckFrameParser } from "../../src/boottest/check-frames.js";
import { CHUNK_CHARS, harnessCpio, harnessFiles, renderHook, RUNNER } from "../../src/boottest/check-harness.js";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { fromRecord } from "../../src/boottest/checks.js";

/** The runner's own send() from check-harness.ts, run by /bin/sh with say() printing to stderr. */
function sendWithRunner(name: string, stream: "OUT" | "ERR", content: Buffer): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-frames-"));
  try {
    const file = path.join(dir, "data");
    writeFileSync(file, content);
    const send = /^send\(\) \{[\s\S]*?^\}$/m.exec(RUNNER)![0];
    const r = spawnSync("/bin/sh", ["-c", `say() { printf '%s\\n' "$*" >&2; }\n${send}\nsend "$1" "$2" "$3"`, "sh", name, stream, file], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n").filter(Boolean);
    // send() prints how many chunk lines it said, for the END frame.
    expect(r.stdout.trim()).toBe(String(lines.length));
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("check frames on the console", () => {
  it("reassembles output the runner's shell code chunked, with duplicates and kernel timestamps", () => {
    const stdout = Buffer.from(Array.from({ length: 60 }, (_, i) => `line ${i}: ünïcode ok`).join("\n") + "\n");
    const lines = sendWithRunner("big", "OUT", stdout);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThan(CHUNK_CHARS + 40);
    const p = new CheckFrameParser();
    expect(p.line("BOOTSMITH-CHECKS BEGIN 1")).toEqual([{ kind: "begin" }]);
    expect(p.line("BOOTSMITH-CHECK big START")).toEqual([{ kind: "start", name: "big" }]);
    for (const l of [...lines, ...lines.map((x) => `[   61.123456] ${x}`)]) p.line(l);
    expect(p.line(`BOOTSMITH-CHECK big END exit=0 ms=1234 out=${lines.length} err=0`)).toEqual([{ kind: "end", name: "big" }]);
    expect(p.line(`[   61.2] BOOTSMITH-CHECK big END exit=0 ms=1234 out=${lines.length} err=0`)).toEqual([]);
    expect(p.report("big")).toEqual({ exitCode: 0, milliseconds: 1234, stdout: stdout.toString(), stderr: "", incomplete: false });
    expect(p.done).toBe(false);
    expect(p.line("BOOTSMITH-CHECKS DONE")).toEqual([{ kind: "done" }]);
    expect(p.done).toBe(true);
  });

  it("keeps only the output's tail and notices a lost chunk", () => {
    const lines = sendWithRunner("t", "ERR", Buffer.alloc(10_000, "x"));
    const p = new CheckFrameParser();
    lines.filter((_, i) => i !== 3).forEach((l) => p.line(l));
    p.line(`BOOTSMITH-CHECK t END exit=2 ms=5 out=0 err=${lines.length}`);
    const r = p.report("t")!;
    expect(r.incomplete).toBe(true);
    expect(r.stderr.length).toBeLessThan(4096);
    expect(r.stderr).toMatch(/^x+$/);
  });

  it("reads frames that the console and kernel-log copies tore apart mid-line (seen in a real boot)", () => {
    const p = new CheckFrameParser();
    // Console lines of a real debian-12-live boot-test (CI, 2026-12-01): the console copy of an
    // END frame is cut by the kernel log's copy of the same frame, or follows a login prompt.
    expect(p.line("BOOTSMITH-CHECKS[   31.549445] BOOTSMITH-CHECKS BEGIN 3")).toEqual([{ kind: "begin" }]);
    expect(p.line("BOOTSMITH-CHECK image-id START")).toEqual([{ kind: "start", name: "image-id" }]);
    p.line("BOOTSMITH-CHECK image-id OUT 1/1 SU1BR0VfSUQ9ZGViaWFuLTEyLWxpdmUgSU1BR0VfVkVSU0lPTj1ib29rd29ybQo=");
    expect(p.line("BOOTSMITH-CHECK image-id END exit=0 ms=73 out=1 [   32.305868] BOOTSMITH-CHECK image-id END exit=0 ms=73 out=1 err=0")).toEqual([
      { kind: "end", name: "image-id" },
    ]);
    expect(p.report("image-id")).toMatchObject({ exitCode: 0, stdout: "IMAGE_ID=debian-12-live IMAGE_VERSION=bookworm\n", incomplete: false });
    p.line("BOOTSMITH-CHECK live-root START");
    p.line("BOOTSMITH-CHECK live-root OUT 1/1 b2sK");
    expect(p.line("debian-live login: BOOTSMITH-CHECK live-root END ex[   32.663219] BOOTSMITH-CHECK live-root END exit=0 ms=216 out=1 err=0")).toEqual([
      { kind: "end", name: "live-root" },
    ]);
    // Two whole frames in one line both count.
    expect(p.line("BOOTSMITH-CHECK a START BOOTSMITH-CHECK a END exit=1 ms=2 out=0 err=0")).toEqual([
      { kind: "start", name: "a" },
      { kind: "end", name: "a" },
    ]);
    expect(p.report("a")).toMatchObject({ exitCode: 1 });
  });

  it("reports nothing for a check whose END never came", () => {
    const p = new CheckFrameParser();
    p.line("BOOTSMITH-CHECK a START");
    expect(p.report("a")).toBeUndefined();
    expect(p.report("never")).toBeUndefined();
  });
});

describe("the check harness initrd", () => {
  const checks = [
    fromRecord({ name: "quotes", script: "echo 'it''s' \"$HOME\"", expect: { exit: 0 }, timeout: 7 }),
    fromRecord({ name: "argv", run: ["hostname"], expect: { exit: 0 }, timeout: 3 }),
  ];

  it("is a newc archive with only the pre-pivot hook", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-harness-"));
    try {
      writeFileSync(path.join(dir, "h.cpio"), harnessCpio(checks));
      const listing = await listInitramfs(path.join(dir, "h.cpio"));
      expect(listing.segments).toEqual(["cpio"]);
      expect(listing.entries.map((e) => [e.name, e.mode.toString(8)])).toEqual([["lib/dracut/hooks/pre-pivot/90-bootsmith-checks.sh", "100755"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hook writes every file byte for byte with shell builtins (the initramfs has no cat or cp)", () => {
    // Run the hook as dracut would (sourced), in a private mount namespace whose /run is a fresh tmpfs.
    const hook = renderHook(checks).replace(/^(echo "BOOTSMITH-HARNESS.*) > \/dev\/kmsg$/m, "$1 > /dev/null");
    const files = [...harnessFiles(checks).keys(), "/run/systemd/system/multi-user.target.wants/bootsmith-checks.service"];
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-hook-"));
    writeFileSync(path.join(dir, "hook.sh"), hook);
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        `mount -t tmpfs none /run && . "$0" && for f in "$@"; do printf '=== %s\\n' "$f"; cat "$f"; done`,
        path.join(dir, "hook.sh"),
        ...files,
      ],
      { encoding: "utf8" },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const got = new Map(
      r.stdout
        .split(/^=== /m)
        .filter(Boolean)
        .map((chunk) => [chunk.slice(0, chunk.indexOf("\n")), chunk.slice(chunk.indexOf("\n") + 1)] as const),
    );
    for (const [file, text] of harnessFiles(checks)) expect(got.get(file), file).toBe(text);
    // The wants link resolves to the unit.
    expect(got.get(files.at(-1)!)).toBe(harnessFiles(checks).get("/run/systemd/system/bootsmith-checks.service"));
    expect(harnessFiles(checks).get("/run/bootsmith/checks.list")).toBe("01-quotes.sh quotes 7\n02-argv.sh argv 3\n");
  });
});
