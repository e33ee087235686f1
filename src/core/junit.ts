// JUnit XML, the report format GitLab (and most CI systems) show per test case. One writer for
// every report bootsmith makes: `build --junit` (a case per plan step) and `boot-test --junit`
// (a case per boot phase and per check).

export interface JunitCase {
  readonly name: string;
  readonly seconds: number;
  /** "error": started but never finished (cut short). */
  readonly status: "passed" | "failed" | "error" | "skipped";
  /** One line: why it failed, errored or was skipped. */
  readonly message?: string;
  /** Details (output tail) for a failure or error; stdout for the others. */
  readonly body?: string;
}

export function junitXml(suite: string, cases: readonly JunitCase[]): string {
  const count = (status: JunitCase["status"]) => cases.filter((c) => c.status === status).length;
  const failures = count("failed");
  const errors = count("error");
  const total = cases.reduce((s, c) => s + c.seconds, 0);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="bootsmith" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds(total)}">`,
    `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${count("skipped")}" time="${seconds(total)}">`,
  ];
  for (const c of cases) {
    const head = `    <testcase classname="${esc(suite)}" name="${esc(c.name)}" time="${seconds(c.seconds)}"`;
    const body = esc(c.body ?? "");
    switch (c.status) {
      case "failed":
        lines.push(`${head}>`, `      <failure message="${esc(c.message ?? "failed")}">${body}</failure>`, `    </testcase>`);
        break;
      case "error":
        lines.push(`${head}>`, `      <error message="${esc(c.message ?? "did not finish")}">${body}</error>`, `    </testcase>`);
        break;
      case "skipped":
        lines.push(`${head}>`, c.message ? `      <skipped message="${esc(c.message)}"/>` : `      <skipped/>`, `    </testcase>`);
        break;
      case "passed":
        lines.push(body ? `${head}>\n      <system-out>${body}</system-out>\n    </testcase>` : `${head}/>`);
        break;
      default: {
        const never: never = c.status;
        throw new Error(`unhandled JUnit status ${String(never)}`);
      }
    }
  }
  lines.push(`  </testsuite>`, `</testsuites>`, "");
  return lines.join("\n");
}

function seconds(s: number): string {
  return s.toFixed(3);
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
