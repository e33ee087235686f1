// `bootsmith build --junit FILE`: one JUnit testcase per plan step, so GitLab's merge request
// and pipeline pages show which step of which image failed, and how long each took. It is a
// reporter like the others: it listens to the same events and writes the file on close.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { junitXml } from "../core/junit.js";
import type { BuildEvent, Reporter } from "../exec/events.js";

interface Case {
  readonly step: string;
  readonly title: string;
  status?: "ok" | "failed" | "skipped";
  durationMs: number;
  error?: string;
  /** The last output lines, as the failure's body. */
  readonly tail: string[];
}

const TAIL = 40;

export function createJunitReporter(file: string, suite: string): Reporter {
  const cases: Case[] = [];
  const byStep = new Map<string, Case>();
  const messages: string[] = [];
  return {
    emit(event: BuildEvent): void {
      switch (event.type) {
        case "step-start": {
          const c: Case = { step: event.step, title: event.title, durationMs: 0, tail: [] };
          cases.push(c);
          byStep.set(event.step, c);
          break;
        }
        case "step-end": {
          const c = byStep.get(event.step);
          if (!c) break;
          c.status = event.status;
          c.durationMs = event.durationMs;
          c.error = event.error;
          break;
        }
        case "output": {
          const tail = byStep.get(event.step)?.tail;
          if (!tail) break;
          tail.push(event.line);
          if (tail.length > TAIL) tail.shift();
          break;
        }
        case "message":
          if (event.level === "error") messages.push(event.text);
          break;
        case "summary":
          // A failed build's summary is its failure text (build-session.ts): the failure's body.
          if (!event.ok) messages.push(event.lines.join("\n"));
          break;
        default:
          break;
      }
    },
    async close(): Promise<void> {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, toJunitCases(suite, cases, messages));
    },
  };
}

function toJunitCases(suite: string, cases: readonly Case[], messages: readonly string[]): string {
  return junitXml(
    suite,
    cases.map((c) => {
      const name = `${c.step}: ${c.title}`;
      const seconds = c.durationMs / 1000;
      const body = [...c.tail, ...(c.status === "failed" ? messages : [])].join("\n");
      // A step that started but never ended was cut short (interrupt, or a failure outside a step).
      if (c.status === undefined) return { name, seconds, status: "error", message: "did not finish", body };
      if (c.status === "failed") return { name, seconds, status: "failed", message: c.error ?? "failed", body };
      return { name, seconds, status: c.status === "skipped" ? "skipped" : "passed" };
    }),
  );
}
