// Values that must never reach a log, an error or a manifest: credentials from the
// environment. Reporters are wrapped with redact() over this list; a value too short to be told
// apart from other text is hidden only where a credential sits (core/redact.ts).

const SECRET_ENV = /(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|SIGN_KEY)($|_)|^S3_SECRET$|^AWS_SECRET_ACCESS_KEY$|^AWS_SESSION_TOKEN$|_ACCESS_TOKEN$/;

export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_ENV.test(k) && v !== undefined && v.length > 0)
    .map(([, v]) => v as string);
}
