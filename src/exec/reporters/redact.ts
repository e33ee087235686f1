// Secrets (registry passwords, S3 keys, BSS tokens) can reach events through a command line or
// a tool echoing its configuration. redact() sits in front of every reporter and replaces them
// before anything is printed or written to build.log. It walks every string in the event rather
// than a list of known fields, so a BuildEvent variant added later is covered without a change.
import type { BuildEvent, Reporter } from "../events.js";

export const REDACTED = "***";

/**
 * The forms a secret takes in output: as is, and URL-encoded (a password inside a registry or S3
 * URL). Derived encodings of several values (a basic-auth header) must be passed as secrets
 * themselves by whoever builds them.
 */
function variants(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret)])];
}

export function makeRedactor(secrets: readonly string[]): (text: string) => string {
  // Longest first, so a secret that contains another is replaced whole. Empty strings would
  // match everywhere; they are not secrets.
  const needles = [...new Set(secrets.filter((s) => s.length > 0).flatMap(variants))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
}

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
