// The --junit reporter: one testcase per step, failures with the output tail and the error
// report, an unfinished step as an error, XML-escaped text.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createJunitReporter } from "../../src/pipeline/junit.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("createJunitReporter", () => {
  it("writes one testcase per step with times, a failure with the output tail, escaped", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-junit-"));
    dirs.push(dir);
    const file = path.join(dir, "sub", "junit.xml");
    const r = createJunitReporter(file, "base:1");
    r.emit({ type: "step-start", step: "packages", title: "Install packages", index: 1, total: 3 });
    r.emit({ type: "step-end", step: "packages", status: "ok", durationMs: 1500 });
    r.emit({ type: "step-start", step: "command-1", title: 'Run: "a" & <b>', index: 2, total: 3 });
    r.emit({ type: "output", step: "command-1", stream: "stderr", line: "oops \x1b[31m<red>" });
    r.emit({ type: "step-end", step: "command-1", status: "failed", durationMs: 250, error: "exited with code 3" });
    r.emit({ type: "step-start", step: "commit", title: "Commit", index: 3, total: 3 });
    // A failed build's summary carries its failure text (pipeline/build-session.ts).
    r.emit({ type: "summary", ok: false, durationMs: 1750, lines: ["step command-1 failed", "full log: build.log"] });
    await r.close();
    const xml = readFileSync(file, "utf8");
    expect(xml).toContain('<testsuite name="base:1" tests="3" failures="1" errors="1" skipped="0" time="1.750">');
    expect(xml).toContain('<testcase classname="base:1" name="packages: Install packages" time="1.500"/>');
    expect(xml).toContain('name="command-1: Run: &quot;a&quot; &amp; &lt;b&gt;" time="0.250">');
    expect(xml).toContain('<failure message="exited with code 3">oops [31m&lt;red&gt;\nstep command-1 failed\nfull log: build.log</failure>');
    expect(xml).toContain('<error message="did not finish">');
  });
});
