import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BuildEvent, Reporter } from "../../../src/exec/events.js";
import { createLogFileReporter } from "../../../src/exec/reporters/logfile.js";
import { redact, redactEvent } from "../../../src/exec/reporters/redact.js";
import { scratchDirs } from "../../support/temp-dirs.js";

const scratch = scratchDirs();

function recorder(): Reporter & { events: BuildEvent[]; closed: boolean } {
  const r = {
    events: [] as BuildEvent[],
    closed: false,
    emit: (e: BuildEvent) => void r.events.push(e),
    close: async () => void (r.closed = true),
  };
  return r;
}

const SECRET = "s3cr3t/p@ss";

describe("redact", () => {
  it("replaces a secret in every string of every event variant", () => {
    const events: BuildEvent[] = [
      { type: "step-start", step: `push-${SECRET}`, title: `t ${SECRET}`, index: 1, total: 1 },
      { type: "command", step: "push", command: `buildah push --creds admin:${SECRET} img` },
      { type: "output", step: "push", stream: "stderr", line: `auth ${SECRET} rejected, ${SECRET}` },
      { type: "message", level: "error", text: `bad token ${SECRET}` },
      { type: "step-end", step: "push", status: "failed", durationMs: 1, error: `denied for ${SECRET}` },
      { type: "summary", ok: false, durationMs: 1, lines: [`url https://u:${encodeURIComponent(SECRET)}@host/`] },
    ];
    for (const event of events) {
      const clean = redactEvent(event, [SECRET]);
      const text = JSON.stringify(clean);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(encodeURIComponent(SECRET));
      expect(text).toContain("***");
      // Non-string fields and the event's shape are untouched.
      expect(Object.keys(clean)).toEqual(Object.keys(event));
      expect(clean.type).toBe(event.type);
    }
    expect(redactEvent(events[1]!, [SECRET])).toEqual({ type: "command", step: "push", command: "buildah push --creds admin:*** img" });
  });

  it("replaces the longest secret first and ignores empty strings", () => {
    const event: BuildEvent = { type: "message", level: "info", text: "token abcdefgh and abcd" };
    expect(redactEvent(event, ["", "abcd", "abcdefgh"])).toEqual({ type: "message", level: "info", text: "token *** and ***" });
  });

  it("hides a short secret where a credential sits and leaves the rest of the line readable", () => {
    const event: BuildEvent = { type: "command", step: "push", command: "skopeo copy --dest-creds admin:a docker://a/b http://u:a@mirror/" };
    expect(redactEvent(event, ["a"])).toEqual({
      type: "command",
      step: "push",
      command: "skopeo copy --dest-creds admin:*** docker://a/b http://u:***@mirror/",
    });
  });

  it("forwards to the inner reporter, picks up secrets added later and closes it", async () => {
    const inner = recorder();
    const secrets: string[] = [];
    const reporter = redact(secrets, inner);
    reporter.emit({ type: "message", level: "info", text: "token T0KEN" });
    secrets.push("T0KEN");
    reporter.emit({ type: "message", level: "info", text: "token T0KEN" });
    await reporter.close();
    expect(inner.events.map((e) => (e.type === "message" ? e.text : ""))).toEqual(["token T0KEN", "token ***"]);
    expect(inner.closed).toBe(true);
  });

  it("keeps secrets out of build.log", async () => {
    const path = join(scratch("bootsmith-redact-"), "build.log");
    const reporter = redact([SECRET], createLogFileReporter(path));
    reporter.emit({ type: "step-start", step: "publish", title: "Publish", index: 1, total: 1 });
    reporter.emit({ type: "command", step: "publish", command: `skopeo copy --dest-creds u:${SECRET} a b` });
    reporter.emit({ type: "output", step: "publish", stream: "stdout", line: `using ${SECRET}` });
    await reporter.close();
    const log = readFileSync(path, "utf8");
    expect(log).toContain("skopeo copy --dest-creds u:*** a b");
    expect(log).toContain("using ***");
    expect(log).not.toContain(SECRET);
  });
});
