// Signing and signature checks with the real gpg and gpgv: keys from a file and a variable, the
// private GNUPGHOME gone afterwards, bad keys refused before use, and gpgv's verdicts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { openSigner, SigningKeyError } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import { verifySignature } from "../../src/sign/verify-signature.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";

let dir: string;
let key: TestKey;
let other: TestKey;
let protectedKey: TestKey;
const gnupgHomes = () => readdirSync(tmpdir()).filter((n) => n.startsWith("bootsmith-gnupg-"));

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "bootsmith-sign-"));
  [key, other, protectedKey] = await Promise.all([makeTestKey(dir, "builder"), makeTestKey(dir, "intruder"), makeTestKey(dir, "guarded", "correct horse")]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("GnuPG signer", () => {
  it("signs with a key file; gpgv verifies with the public key; the private home is removed", async () => {
    const before = gnupgHomes();
    const cleanup = new CleanupStack();
    const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup });
    expect(signer.fingerprint).toBe(key.fingerprint);
    const sums = path.join(dir, "SHA256SUMS");
    writeFileSync(sums, `${"a".repeat(64)}  vmlinuz\n`);
    await signer.sign(sums, `${sums}.sig`, { step: "t", reporter: silentReporter });
    await signer.close();
    expect(cleanup.size).toBe(0);
    expect(gnupgHomes()).toEqual(before);
    // The standard tool, as a site runs it.
    await execa("gpgv", ["--homedir", dir, "--keyring", key.publicFile, `${sums}.sig`, sums]);
    expect(await verifySignature(readFileSync(sums), readFileSync(`${sums}.sig`), key.publicArmoredFile)).toEqual({ ok: true, fingerprint: key.fingerprint });
    expect(await verifySignature(readFileSync(sums), readFileSync(`${sums}.sig`), other.publicFile)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("not made by the given key"),
    });
    const changed = Buffer.from(readFileSync(sums));
    changed[0] = "b".charCodeAt(0);
    expect(await verifySignature(changed, readFileSync(`${sums}.sig`), key.publicFile)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("does not match"),
    });
    expect(await verifySignature(readFileSync(sums), Buffer.from("garbage"), key.publicFile)).toMatchObject({ ok: false });
  });

  it("takes the key from an environment variable and a protected key with its passphrase", async () => {
    const cleanup = new CleanupStack();
    const fromEnv = await openSigner(parseSigningKey("env:TEST_SIGN_KEY"), { cleanup, env: { TEST_SIGN_KEY: key.secretArmored } });
    expect(fromEnv.fingerprint).toBe(key.fingerprint);
    await fromEnv.close();
    const guarded = await openSigner(parseSigningKey(protectedKey.secretFile), { cleanup, passphrase: "correct horse" });
    expect(guarded.fingerprint).toBe(protectedKey.fingerprint);
    await guarded.close();
    expect(cleanup.size).toBe(0);
  });

  it("refuses a missing file, an empty variable, a public key and a wrong passphrase, leaving no home behind", async () => {
    const before = gnupgHomes();
    const cleanup = new CleanupStack();
    await expect(openSigner(parseSigningKey(path.join(dir, "nope.asc")), { cleanup })).rejects.toThrow(SigningKeyError);
    await expect(openSigner(parseSigningKey("env:UNSET_KEY"), { cleanup, env: {} })).rejects.toThrow(/not set or empty/);
    await expect(openSigner(parseSigningKey(key.publicArmoredFile), { cleanup })).rejects.toThrow(/no secret key/);
    await expect(openSigner(parseSigningKey(protectedKey.secretFile), { cleanup, passphrase: "wrong" })).rejects.toThrow(/cannot sign with it/);
    await expect(openSigner(parseSigningKey(protectedKey.secretFile), { cleanup })).rejects.toThrow(/cannot sign with it/);
    expect(cleanup.size).toBe(0);
    expect(gnupgHomes()).toEqual(before);
    expect(existsSync(path.join(dir, "nope.asc"))).toBe(false);
  });
});
