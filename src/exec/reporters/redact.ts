// Secrets (registry passwords, S3 keys, BSS tokens) can reach events through a command line or
// a tool echoing its configuration. redact() sits in front of every reporter and replaces them
// (core/redact.ts's rule) before anything is printed or written to build.log. It walks every
// string in the event rather than a list of known fields, so a BuildEvent variant added later is
// covered without a change.
import { makeRedactor } from "../../core/redact.js";
import type { BuildEvent, Reporter } from "../events.js";

export { makeRedactor, REDACTED } from "../../core/redact.js";

function redactValue(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === "string") return scrub(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, scrub));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, scrub)]));
  }
  return value;
}

export function redactEvent(event: BuildEvent, secrets: readonly string[]): BuildEvent {
  return redactValue(event, makeRedactor(secrets)) as BuildEvent;
}

/**
 * A reporter that forwards every event to `inner` with the secrets replaced by `***`.
 * `secrets` may grow after creation (a token fetched mid-build): pass an array and push to it.
 */
export function redact(secrets: readonly string[], inner: Reporter): Reporter {
  let seen = -1;
  let scrub: (text: string) => string = (text) => text;
  return {
    emit(event: BuildEvent): void {
      if (secrets.length !== seen) {
        seen = secrets.length;
        scrub = makeRedactor(secrets);
      }
      inner.emit(redactValue(event, scrub) as BuildEvent);
    },
    close: () => inner.close(),
  };
}
