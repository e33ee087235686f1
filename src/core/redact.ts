// The one rule for hiding secrets (registry passwords, S3 keys, BSS tokens, a recipe's secrets:)
// in text that is printed, logged or thrown.
//
// A secret long enough to be told apart from other text is replaced wherever it occurs, as
// written or URL-encoded: a server or a tool may echo it anywhere. A shorter one cannot be
// replaced that way: with the secret "a", every "a" of a message would become ***. It is replaced
// where a credential sits instead (a URL's user:password, an Authorization header, a credential
// option or key=value): the places a program puts the secret it was given.

export const REDACTED = "***";

/** Values at least this long are replaced anywhere; shorter ones only where a credential sits. */
export const MIN_SECRET_LENGTH = 4;

/**
 * Where a credential sits in text. Each pattern's first group is what leads to the value, the
 * second the value itself.
 */
const CREDENTIAL_SLOTS: readonly RegExp[] = [
  // scheme://user:PASSWORD@host
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)([^\s/@]+)(?=@)/gi,
  // Authorization: Bearer TOKEN / Basic B64 (a header as logged, or curl -H)
  /(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)?\s*)([^\s"',;]+)/gi,
  // --creds user:PASSWORD, --dest-creds=user:PASSWORD (buildah, skopeo)
  /(--[a-z-]*creds[= ][^\s:]*:)(\S+)/gi,
  // --password PASSWORD, --token=TOKEN, --secret-key …
  /(--[a-z-]*(?:password|passwd|passphrase|secret|token)[a-z-]*[= ])(\S+)/gi,
  // password=…, S3_SECRET=…, "token": "…", X-Amz-Security-Token: …
  /(\b[\w.-]*(?:password|passwd|passphrase|secret|token|credential)s?["']?\s*[=:]\s*["']?)([^\s"',;&]+)/gi,
];

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A function that hides `secrets` in a text (see the rule above). Empty strings are not secrets.
 * The list is read once: build a new redactor when it grows.
 */
export function makeRedactor(secrets: readonly string[]): (text: string) => string {
  const known = [...new Set(secrets.filter((s) => s.length > 0))];
  // The forms a long secret takes in output: as is, and URL-encoded (a password inside a URL).
  // Longest first, so a secret that contains another is replaced whole.
  const anywhere = [...new Set(known.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, encodeURIComponent(s)]))].sort(
    (a, b) => b.length - a.length,
  );
  const short = new Set(known.filter((s) => s.length < MIN_SECRET_LENGTH));
  if (anywhere.length === 0 && short.size === 0) return (text) => text;
  const isShortSecret = (value: string) => short.has(value) || short.has(safeDecode(value));
  return (text) => {
    let out = text;
    for (const needle of anywhere) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    if (short.size > 0) {
      for (const slot of CREDENTIAL_SLOTS)
        out = out.replace(slot, (whole, lead: string, value: string) => (isShortSecret(value) ? `${lead}${REDACTED}` : whole));
    }
    return out;
  };
}
