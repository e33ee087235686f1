// Where a signing key comes from, as written in `signing.key` or `--sign-key`:
//   PATH             an exported secret key file (armored or binary)
//   env:NAME         the armored secret key in environment variable NAME (CI secrets)
//   keyring:KEYID    a key in the user's own GnuPG keyring, used through its gpg-agent
// The passphrase, when the key has one, comes from the environment variable named by
// `signing.passphraseEnv` / `--sign-passphrase-env` (default BOOTSMITH_SIGN_PASSPHRASE).
import path from "node:path";

export type SigningKeySpec =
  { readonly kind: "file"; readonly path: string } | { readonly kind: "env"; readonly name: string } | { readonly kind: "keyring"; readonly id: string };

export const DEFAULT_PASSPHRASE_ENV = "BOOTSMITH_SIGN_PASSPHRASE";

/** The GitLab CI/CD file variable the jobs `bootsmith ci gitlab` generates pass as --sign-key. */
export const GITLAB_SIGN_KEY_VARIABLE = "BOOTSMITH_SIGN_KEY_FILE";

/** What to do when a signed set's manifest.json must change and no key was given to sign it again. */
export const SIGN_KEY_FIX = `give the key that signed it: --sign-key KEY (ci push, ci join and build also read the recipe's signing.key; the jobs \`bootsmith ci gitlab\` generates pass the GitLab file variable ${GITLAB_SIGN_KEY_VARIABLE}; a passphrase comes from ${DEFAULT_PASSPHRASE_ENV})`;

/** Read a key as written; a relative file is relative to `baseDir` (the recipe's directory for signing.key). */
export function parseSigningKey(value: string, baseDir: string = process.cwd()): SigningKeySpec {
  if (value.startsWith("env:")) {
    const name = value.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${value}: env: must name an environment variable, e.g. env:BOOTSMITH_SIGN_KEY`);
    return { kind: "env", name };
  }
  if (value.startsWith("keyring:")) {
    const id = value.slice(8);
    if (!/^(0x)?[0-9A-Fa-f]{8,40}$|^[^\s]+@[^\s]+$/.test(id)) throw new Error(`${value}: keyring: takes a key id, fingerprint or e-mail address`);
    return { kind: "keyring", id };
  }
  if (value === "") throw new Error("the signing key is empty: give a file, env:NAME or keyring:KEYID");
  return { kind: "file", path: path.resolve(baseDir, value) };
}

/** The key written back as `--sign-key` takes it (a file as an absolute path), e.g. for the plan. */
export function formatSigningKey(spec: SigningKeySpec): string {
  switch (spec.kind) {
    case "file":
      return spec.path;
    case "env":
      return `env:${spec.name}`;
    case "keyring":
      return `keyring:${spec.id}`;
  }
}

export function describeKey(spec: SigningKeySpec): string {
  switch (spec.kind) {
    case "file":
      return `key file ${spec.path}`;
    case "env":
      return `key in $${spec.name}`;
    case "keyring":
      return `keyring key ${spec.id}`;
  }
}
