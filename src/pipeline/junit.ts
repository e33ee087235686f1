// `bootsmith build --junit FILE`: one JUnit testcase per plan step, so GitLab's merge request
// and pipeline pages show which step of which image failed, and how long each took. It is a
// reporter like the others: it listens to the same events and writes the file on close.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
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
        default:
          break;
      }
    },
    async close(): Promise<void> {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, junitXml(suite, cases, messages));
    },
  };
}

function junitXml(suite: string, cases: readonly Case[], messages: readonly string[]): string {
  const failures = cases.filter((c) => c.status === "failed").length;
  // A step that started but never ended was cut short (interrupt, or a failure outside a step).
  const errors = cases.filter((c) => c.status === undefined).length;
  const skipped = cases.filter((c) => c.status === "skipped").length;
  const total = cases.reduce((s, c) => s + c.durationMs, 0);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="bootsmith" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds(total)}">`,
    `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(total)}">`,
  ];
  for (const c of cases) {
    const head = `    <testcase classname="${esc(suite)}" name="${esc(`${c.step}: ${c.title}`)}" time="${seconds(c.durationMs)}"`;
    const body = [...c.tail, ...(c.status === "failed" ? messages : [])].join("\n");
    if (c.status === "failed") lines.push(`${head}>`, `      <failure message="${esc(c.error ?? "failed")}">${esc(body)}</failure>`, `    </testcase>`);
    else if (c.status === undefined) lines.push(`${head}>`, `      <error message="did not finish">${esc(body)}</error>`, `    </testcase>`);
    else if (c.status === "skipped") lines.push(`${head}>`, `      <skipped/>`, `    </testcase>`);
    else lines.push(`${head}/>`);
  }
  lines.push(`  </testsuite>`, `</testsuites>`, "");
  return lines.join("\n");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** XML text and attribute escaping; control characters other than tab/newline are not legal XML 1.0. */
function esc(text: string): string {
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
