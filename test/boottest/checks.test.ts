import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import {
  builtinChecks,
  fromRecord,
  judge,
  parseCheckOption,
  resolveChecks,
  shQuote,
  SKIP_EXIT,
  TIMEOUT_EXIT,
  type NodeCheck,
} from "../../src/boottest/checks.js";
import type { Manifest } from "../../src/core/manifest.js";

const sh = (script: string) => spawnSync("/bin/sh", ["-c", script], { encoding: "utf8" });

describe("checks run in the node", () => {
  it("quotes argv words so /bin/sh gets them back verbatim", () => {
    const words = ["printf", "%s|", "it's", "$HOME", "a b", "`x`", "\\n"];
    const check = fromRecord({ name: "argv", run: words, expect: { exit: 0 }, timeout: 5 });
    expect(check.script.startsWith("exec ")).toBe(true);
    expect(sh(check.script).stdout).toBe("it's|$HOME|a b|`x`|\\n|");
    expect(execFileSync("/bin/sh", ["-c", `echo ${shQuote("'; rm -rf /tmp/nothing; '")}`], { encoding: "utf8" })).toBe("'; rm -rf /tmp/nothing; '\n");
  });

  it("runs a recipe script with -e: the first failing command fails the check", () => {
    const check = fromRecord({ name: "s", script: "false\necho unreachable", expect: { exit: 0 }, timeout: 5 });
    const r = sh(check.script);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
  });

  it("parses --check NAME=SCRIPT and refuses a bad name or an empty script", () => {
    expect(parseCheckOption("sshd=systemctl is-active ssh")).toEqual({ name: "sshd", script: "systemctl is-active ssh", expect: { exit: 0 }, timeout: 60 });
    expect(parseCheckOption("x=a=b").script).toBe("a=b");
    expect(() => parseCheckOption("two words=true")).toThrow(/one word/);
    expect(() => parseCheckOption("nocommand")).toThrow(/give a shell command/);
  });

  it("judges exit code, stdout regex, timeouts and built-in skips", () => {
    const check: NodeCheck = { name: "c", script: "true", expect: { exit: 0, stdout: "^active$" }, timeout: 9, builtin: false };
    const report = (exitCode: number, stdout = "active\n") => ({ exitCode, milliseconds: 1500, stdout, stderr: "", incomplete: false });
    expect(judge(check, report(0))).toMatchObject({ status: "pass", seconds: 1.5 });
    expect(judge(check, report(3))).toMatchObject({ status: "fail", message: "exit code 3, expected 0" });
    expect(judge(check, report(0, "inactive\n"))).toMatchObject({ status: "fail", message: "stdout does not match /^active$/" });
    expect(judge(check, report(TIMEOUT_EXIT))).toMatchObject({ status: "fail", message: "stopped after its timeout of 9 s" });
    expect(judge(check, undefined)).toMatchObject({ status: "fail", message: expect.stringMatching(/no result reached the console/) });
    expect(judge(check, report(SKIP_EXIT))).toMatchObject({ status: "fail" });
    expect(judge({ ...check, builtin: true, expect: { exit: 0 } }, report(SKIP_EXIT, "no IMAGE_ID\n"))).toMatchObject({
      status: "skip",
      message: "no IMAGE_ID",
    });
    expect(judge({ ...check, expect: { exit: 1 } }, report(1, ""))).toMatchObject({ status: "pass" });
  });

  it("applies the built-in checks where they apply", () => {
    const names = (params: string | undefined, manifest?: Partial<Manifest>) => builtinChecks({ params, manifest: manifest as Manifest }).map((c) => c.name);
    expect(names("console=ttyS0")).toEqual(["system-running", "image-id"]);
    expect(names("root=live:http://x/r")).toEqual(["system-running", "image-id", "live-root"]);
    expect(names("root=live:http://x/r", { name: "n", artifacts: {}, initramfs: { modules: [], drivers: ["virtio_net"] } })).toEqual([
      "system-running",
      "image-id",
      "live-root",
      "kernel-modules",
    ]);
    expect(() => resolveChecks({ recipe: [{ name: "image-id", script: "true", expect: { exit: 0 }, timeout: 1 }], builtins: true, ctx: {} })).toThrow(
      /two checks are named "image-id"/,
    );
    expect(
      resolveChecks({
        recipe: [{ name: "a", script: "true", expect: { exit: 0 }, timeout: 1 }],
        extra: [{ name: "b", script: "true", expect: { exit: 0 }, timeout: 1 }],
        builtins: false,
        ctx: {},
      }).map((c) => c.name),
    ).toEqual(["a", "b"]);
  });

  it("built-in image-id and kernel-modules scripts behave as described on a host root", () => {
    const [, imageId] = builtinChecks({ manifest: { name: "no-such-image-id" } as Manifest });
    // The host's os-release has no IMAGE_ID (skip) or a different one (fail): never a pass.
    const r = sh(imageId!.script);
    expect([SKIP_EXIT, 1]).toContain(r.status);
    const modules = builtinChecks({
      manifest: { name: "x", artifacts: {}, initramfs: { modules: [], drivers: ["bootsmith-no-such-driver"] } } as unknown as Manifest,
    }).find((c) => c.name === "kernel-modules")!;
    const m = sh(modules.script);
    expect(m.status).toBe(1);
    expect(m.stdout).toContain("bootsmith-no-such-driver: NOT loaded and not built in");
  });
});
