// Check a detached signature over SHA256SUMS with `gpgv`, the verification-only GnuPG tool, and
// a public key given as a file (armored or binary): exactly what a site runs by hand.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BootsmithError, EXIT } from "../core/errors.js";
import { silentReporter } from "../exec/events.js";
import { run } from "../exec/run.js";

export type SignatureCheck = { readonly ok: true; readonly fingerprint: string } | { readonly ok: false; readonly reason: string };

/** A public key file gpgv cannot use (missing, unreadable, not a key): bad input, exit 2. */
export class PublicKeyError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
  }
}

/**
 * Verify `signature` (bytes of SHA256SUMS.sig) over `sums` (bytes of SHA256SUMS) with the public
 * key in `keyFile`. Runs in a throwaway directory; gpgv's status lines decide, not its exit code alone.
 */
export async function verifySignature(sums: Uint8Array, signature: Uint8Array, keyFile: string): Promise<SignatureCheck> {
  let key: Buffer;
  try {
    key = readFileSync(keyFile);
  } catch (error) {
    throw new PublicKeyError(
      `public key ${keyFile}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : (error as Error).message}; export it with \`gpg --export KEYID > key.gpg\``,
      { cause: error },
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-gpgv-"));
  try {
    const keyring = path.join(dir, "key.gpg");
    // gpgv 2.2 reads binary keyrings only: an armored export is converted first.
    if (key.subarray(0, 5).toString() === "-----") {
      await run(
        { file: "gpg", args: ["--batch", "--no-tty", "--homedir", dir, "--dearmor", "--output", keyring, keyFile] },
        { step: "verify", reporter: silentReporter },
        { quiet: true },
      ).catch((error: unknown) => {
        throw new PublicKeyError(`public key ${keyFile}: not an OpenPGP key (${error instanceof Error ? error.message : String(error)})`, { cause: error });
      });
    } else {
      writeFileSync(keyring, key);
    }
    await requirePublicKey(keyring, keyFile, dir);
    writeFileSync(path.join(dir, "SHA256SUMS"), sums);
    writeFileSync(path.join(dir, "SHA256SUMS.sig"), signature);
    const result = await run(
      { file: "gpgv", args: ["--homedir", dir, "--status-fd", "1", "--keyring", keyring, path.join(dir, "SHA256SUMS.sig"), path.join(dir, "SHA256SUMS")] },
      { step: "verify", reporter: silentReporter },
      { quiet: true },
    ).catch((error: unknown) => error);
    const stdout = result instanceof Error ? ((result as { outputTail?: string[] }).outputTail ?? []).join("\n") : (result as { stdout: string }).stdout;
    const valid = /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})/m.exec(stdout);
    if (!(result instanceof Error) && valid) return spoiledKey(stdout, valid[1]!) ?? { ok: true, fingerprint: valid[1]! };
    if (/^\[GNUPG:\] BADSIG/m.test(stdout)) return { ok: false, reason: "the signature does not match SHA256SUMS (the file was changed after signing)" };
    if (/^\[GNUPG:\] (ERRSIG|NO_PUBKEY)/m.test(stdout)) return { ok: false, reason: "the signature was not made by the given key" };
    if (/^\[GNUPG:\] NODATA/m.test(stdout)) return { ok: false, reason: "not an OpenPGP signature" };
    return { ok: false, reason: `gpgv did not accept it${result instanceof Error ? ` (${result.message.split("\n")[0]})` : ""}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The key file must hold a public key: gpgv given no key at all (an empty or text file) or a
 * secret key export says only NO_PUBKEY, which would read as "another key signed this".
 */
async function requirePublicKey(keyring: string, keyFile: string, home: string): Promise<void> {
  const listed = await run(
    { file: "gpg", args: ["--batch", "--no-tty", "--homedir", home, "--with-colons", "--show-keys", keyring] },
    { step: "verify", reporter: silentReporter },
    { quiet: true },
  ).catch(() => undefined);
  const records = listed?.stdout.split("\n").map((line) => line.split(":")[0]) ?? [];
  if (records.includes("pub")) return;
  if (records.includes("sec"))
    throw new PublicKeyError(`public key ${keyFile}: is a secret key; give the public key (gpg --export KEYID > key.gpg), which is all verifying needs`);
  throw new PublicKeyError(`public key ${keyFile}: holds no OpenPGP public key; export it with \`gpg --export KEYID > key.gpg\``);
}

/**
 * gpgv reports a good signature by a revoked or expired key as valid (exit 0, VALIDSIG) and says
 * the rest only in its status lines (REVKEYSIG, EXPKEYSIG, EXPSIG). apt refuses such signatures,
 * and so does bootsmith: a revoked key is one its owner no longer vouches for (lost or stolen),
 * and an expired one is past the date the site set for trusting it.
 */
function spoiledKey(status: string, fingerprint: string): SignatureCheck | undefined {
  if (/^\[GNUPG:\] REVKEYSIG /m.test(status))
    return {
      ok: false,
      reason: `made by key ${fingerprint}, which has been revoked: its owner no longer vouches for what it signed; sign the set again with a current key`,
    };
  if (/^\[GNUPG:\] EXPKEYSIG /m.test(status)) {
    const expired = /^\[GNUPG:\] KEYEXPIRED (\d+)/m.exec(status);
    const when = expired ? new Date(Number(expired[1]) * 1000).toISOString().slice(0, 10) : "an earlier date";
    return {
      ok: false,
      reason: `made by key ${fingerprint}, which expired on ${when}; sign the set again with a valid key, or extend the key's expiry (gpg --quick-set-expire) and export the public key again`,
    };
  }
  if (/^\[GNUPG:\] EXPSIG /m.test(status)) return { ok: false, reason: `made by key ${fingerprint}, but the signature itself has expired; sign the set again` };
  return undefined;
}
