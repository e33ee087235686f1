// Why ansible-playbook failed, from its output. The reason (which task, and the module's message)
// is one `fatal: [image]: FAILED! => {json}` line under a `TASK [name]` header, usually far above
// the PLAY RECAP that ends the output; the failure report shows it first, as one sentence.
import type { OutputDiagnosis } from "../exec/run.js";

const TASK = /^TASK \[(.*)\] \**$/;
// `fatal: [image]: FAILED! => {…}`, or in a loop `failed: [image] (item=x) => {…}`.
const FAILED = /^(?:fatal|failed): \[([^\]]+)\](?: \(item=(.*?)\))?(?:: (FAILED|UNREACHABLE)!)? => (.*)$/;
/** ansible-playbook's own errors (a missing playbook or role, a syntax error): no task ran. */
const ERROR = /^ERROR! /;
/** ignore_errors: true prints this right after the failure it ignores. */
const IGNORED = /^\.\.\.ignoring$/;

/** Longest piece of a module's output quoted in a cause line. */
const MAX_DETAIL = 300;

/** A fresh diagnosis per ansible-playbook run: it remembers the task whose output it is reading. */
export function ansibleDiagnosis(): OutputDiagnosis {
  let task: string | undefined;
  return {
    isCause(line) {
      const header = TASK.exec(line);
      if (header) task = header[1];
      return FAILED.test(line) || ERROR.test(line);
    },
    describe(line) {
      const m = FAILED.exec(line);
      if (!m) return line.trim();
      const [, , item, kind, payload] = m;
      const where = `${task ? `task "${task}"` : "a task"} ${kind === "UNREACHABLE" ? "could not reach the image" : "failed"}${item ? ` for item ${item}` : ""}`;
      return `${where}: ${reason(payload!)}`;
    },
    isRetraction: (line) => IGNORED.test(line),
    hint(causes) {
      if (causes.some((c) => c.startsWith("ERROR! ")))
        return "ansible-playbook could not start the play: check the playbook, roles and variables named in the recipe (ansible-playbook --syntax-check)";
      if (causes.some((c) => c.includes("could not reach the image")))
        return "the chroot connection needs python3 in the image (packages.install) and the community.general collection on the host (Debian: ansible)";
      return "the failed task's message is above; the whole play is in build.log";
    },
  };
}

/** The module's own words: msg, with stderr (or stdout) when msg only says the command failed. */
function reason(payload: string): string {
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return clip(payload);
  }
  const text = (key: string) => (typeof result[key] === "string" && result[key].trim() ? result[key].trim() : undefined);
  const msg = text("msg") ?? "failed";
  const rc = typeof result.rc === "number" ? ` (rc ${result.rc})` : "";
  const detail = text("stderr") ?? text("module_stderr") ?? text("stdout") ?? text("module_stdout");
  return clip(`${msg}${rc}${detail && !msg.includes(detail) ? `: ${detail}` : ""}`);
}

function clip(text: string): string {
  const one = text.replace(/\s*\n\s*/g, " | ");
  return one.length > MAX_DETAIL ? `${one.slice(0, MAX_DETAIL - 1)}…` : one;
}
