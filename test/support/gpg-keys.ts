// Throwaway OpenPGP keys for the signing tests, made with the real gpg (ed25519, signing only):
// the secret key exported armored (as a site would put it in a file or CI variable), the public
// key binary for gpgv and armored for `--key`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";

export interface TestKey {
  readonly fingerprint: string;
  readonly secretFile: string;
  readonly secretArmored: string;
  readonly publicFile: string;
  readonly publicArmoredFile: string;
}

/** Make a key under `dir` (a passphrase makes a protected key). */
export async function makeTestKey(dir: string, name: string, passphrase = ""): Promise<TestKey> {
  const home = mkdtempSync(path.join(tmpdir(), "bootsmith-testkey-"));
  try {
    const gpg = (args: string[]) =>
      execa("gpg", ["--batch", "--no-tty", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", passphrase, ...args]);
    await gpg(["--quick-gen-key", `${name} <${name}@bootsmith.invalid>`, "ed25519", "sign", "never"]);
    const { stdout } = await gpg(["--with-colons", "--list-secret-keys"]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)![1]!;
    const secretArmored = (await gpg(["--armor", "--export-secret-keys", fingerprint])).stdout;
    const secretFile = path.join(dir, `${name}.secret.asc`);
    writeFileSync(secretFile, `${secretArmored}\n`, { mode: 0o600 });
    const publicFile = path.join(dir, `${name}.pub.gpg`);
    const publicArmoredFile = path.join(dir, `${name}.pub.asc`);
    await gpg(["--output", publicFile, "--export", fingerprint]);
    await gpg(["--armor", "--output", publicArmoredFile, "--export", fingerprint]);
    return { fingerprint, secretFile, secretArmored, publicFile, publicArmoredFile };
  } finally {
    await execa("gpgconf", ["--homedir", home, "--kill", "all"]).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}
