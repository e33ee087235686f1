// `bootsmith verify` on a signed set read from a directory and over HTTP (the static server
// nodes fetch from), with real gpg/gpgv: a good set passes; each kind of tampering fails with
// exit 1 and names the file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { execa } from "execa";
import path from "node:path";
import { closedPort } from "../support/closed-port.js";
import { bootsmith } from "../support/cli.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { flipByte, makeSignedSet } from "../support/signed-set.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { renderSums, parseSums } from "../../src/core/sums.js";
import { sha256Bytes } from "../../src/core/hash.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";

let work: string;
let good: string;
let key: TestKey;
let other: TestKey;
let server: StaticServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-verify-"));
  [key, other] = await Promise.all([makeTestKey(work, "builder"), makeTestKey(work, "intruder")]);
  good = path.join(work, "good");
  await makeSignedSet(good, key);
  server = await startStaticServer({ root: work });
}, 60_000);
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A copy of the good set, changed by `tamper`. */
function tampered(name: string, tamper: (dir: string) => void | Promise<void>): Promise<string> {
  const dir = path.join(work, name);
  cpSync(good, dir, { recursive: true });
  return Promise.resolve(tamper(dir)).then(() => dir);
}

describe("bootsmith verify", () => {
  it("accepts the signed set from a directory and over HTTP, naming the signing key", async () => {
    for (const where of [good, `${server.url}/good/`]) {
      const result = await bootsmith(["verify", where, "--key", key.publicArmoredFile]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain(`signed by ${key.fingerprint}`);
      for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.cdx.json", "sbom.spdx.json", "manifest.json"])
        expect(result.stdout).toMatch(new RegExp(`^ok +${f.replace(".", "\\.")} `, "m"));
    }
    const unchecked = await bootsmith(["verify", good]);
    expect(unchecked.exitCode).toBe(0);
    expect(unchecked.stdout).toContain("signature NOT checked");
  });

  const cases: [string, string, (dir: string) => void | Promise<void>, RegExp][] = [
    [
      "a flipped byte in the rootfs",
      "rootfs.squashfs",
      (d) => flipByte(path.join(d, "rootfs.squashfs"), 1_234_567),
      /rootfs\.squashfs: sha256 [0-9a-f]{64} does not match SHA256SUMS/,
    ],
    ["a flipped byte in the kernel", "vmlinuz", (d) => flipByte(path.join(d, "vmlinuz"), 0), /vmlinuz: sha256 .* does not match/],
    ["a flipped byte in an SBOM", "sbom.spdx.json", (d) => flipByte(path.join(d, "sbom.spdx.json"), 10), /sbom\.spdx\.json: sha256/],
    [
      "a replaced SHA256SUMS (consistent with changed files, not re-signed)",
      "SHA256SUMS.sig",
      (d) => {
        flipByte(path.join(d, "initramfs.img"), 5);
        const entries = parseSums(readFileSync(path.join(d, "SHA256SUMS"), "utf8")).map((e) =>
          e.file === "initramfs.img" ? { ...e, sha256: sha256Bytes(readFileSync(path.join(d, e.file))) } : e,
        );
        writeFileSync(path.join(d, "SHA256SUMS"), renderSums(entries));
      },
      /SHA256SUMS\.sig: the signature does not match SHA256SUMS/,
    ],
    [
      "a set re-signed by another key",
      "SHA256SUMS.sig",
      async (d) => {
        const signer = await openSigner(parseSigningKey(other.secretFile), { cleanup: new CleanupStack() });
        await signer.sign(path.join(d, "SHA256SUMS"), path.join(d, "SHA256SUMS.sig"), { step: "t", reporter: silentReporter });
        await signer.close();
      },
      /SHA256SUMS\.sig: the signature was not made by the given key/,
    ],
    ["a missing signature", "SHA256SUMS.sig", (d) => rmSync(path.join(d, "SHA256SUMS.sig")), /SHA256SUMS\.sig: missing/],
    ["a missing SHA256SUMS", "SHA256SUMS", (d) => rmSync(path.join(d, "SHA256SUMS")), /SHA256SUMS: missing: the set is not signed/],
    [
      "the right size but other bytes",
      "initramfs.img",
      (d) => {
        const size = readFileSync(path.join(d, "initramfs.img")).length;
        writeFileSync(path.join(d, "initramfs.img"), Buffer.alloc(size, 7));
      },
      /initramfs\.img: sha256 .* does not match/,
    ],
    ["a missing artifact", "vmlinuz", (d) => rmSync(path.join(d, "vmlinuz")), /vmlinuz: missing \(listed in SHA256SUMS\)/],
  ];
  for (const [title, file, tamper, message] of cases) {
    it(`refuses ${title}: exit 1 naming ${file}`, async () => {
      const dir = await tampered(title.replace(/\W+/g, "-"), tamper);
      for (const where of [dir, `${server.url}/${path.basename(dir)}/`]) {
        const result = await bootsmith(["verify", where, "--key", key.publicFile]);
        expect(result.exitCode, `${where}\n${result.stdout}\n${result.stderr}`).toBe(1);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toContain(`bootsmith verify: ${file}:`);
      }
    });
  }

  it("an unsigned set: checked against manifest.json and reported UNSIGNED; refused with --require-signature", async () => {
    const unsigned = await tampered("unsigned", (d) => {
      rmSync(path.join(d, "SHA256SUMS"));
      rmSync(path.join(d, "SHA256SUMS.sig"));
    });
    for (const where of [unsigned, `${server.url}/unsigned/`]) {
      const result = await bootsmith(["verify", where]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain("checksums match manifest.json");
      expect(result.stdout).toContain("UNSIGNED set: no SHA256SUMS");
      for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json"])
        expect(result.stdout).toMatch(new RegExp(`^ok +${f.replace(".", "\\.")} `, "m"));
    }
    const required = await bootsmith(["verify", unsigned, "--require-signature"]);
    expect(required.exitCode).toBe(1);
    expect(required.stderr).toContain("bootsmith verify: SHA256SUMS: missing: the set is not signed");
    const unsignedSig = await tampered("sums-without-sig", (d) => rmSync(path.join(d, "SHA256SUMS.sig")));
    expect((await bootsmith(["verify", unsignedSig, "--require-signature"])).stderr).toContain("SHA256SUMS.sig: missing");
    flipByte(path.join(unsigned, "rootfs.squashfs"), 1_234_567);
    const damaged = await bootsmith(["verify", unsigned]);
    expect(damaged.exitCode).toBe(1);
    expect(damaged.stderr).toMatch(/bootsmith verify: rootfs\.squashfs: sha256 [0-9a-f]{64} does not match manifest\.json/);
    // The failure is said once: the listing on stdout marks the file, stderr says why.
    expect(damaged.stdout).toMatch(/^FAILED rootfs\.squashfs  [\d.]+ MiB$/m);
    expect(`${damaged.stdout}${damaged.stderr}`.match(/does not match manifest\.json/g)).toHaveLength(1);
    expect(`${required.stdout}${required.stderr}`.match(/the set is not signed/g)).toHaveLength(1);
  });

  it("refuses a good signature by a revoked or an expired key, saying which (gpgv itself exits 0 for both)", async () => {
    for (const state of ["expired", "revoked"] as const) {
      const dir = await tampered(`signed-by-${state}-key`, () => {});
      const publicKey = await signWithSpoiledKey(dir, state);
      const result = await bootsmith(["verify", dir, "--key", publicKey]);
      expect(result.exitCode, `${state}\n${result.stdout}\n${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(
        state === "revoked"
          ? /SHA256SUMS\.sig: made by key [0-9A-F]{40}, which has been revoked/
          : /SHA256SUMS\.sig: made by key [0-9A-F]{40}, which expired on 2020-12-31;/,
      );
      expect(result.stdout).not.toContain("verified:");
    }
  });

  it("a key file that holds no public key (empty, text, a secret key export) is bad input (exit 2), not 'not made by the given key'", async () => {
    const empty = path.join(work, "empty.pub");
    const text = path.join(work, "text.pub");
    writeFileSync(empty, "");
    writeFileSync(text, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG not an OpenPGP key\n");
    for (const [file, message] of [
      [empty, /--key: public key .*empty\.pub: holds no OpenPGP public key/],
      [text, /--key: public key .*text\.pub: holds no OpenPGP public key/],
      [key.secretFile, /--key: public key .*builder\.secret\.asc: is a secret key; give the public key \(gpg --export KEYID > key\.gpg\)/],
    ] as const) {
      const result = await bootsmith(["verify", good, "--key", file]);
      expect(result.exitCode, `${file}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain("not made by the given key");
    }
  });

  it("a key file that does not exist is bad input (exit 2)", async () => {
    const result = await bootsmith(["verify", good, "--key", path.join(work, "nope.gpg")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("nope.gpg: no such file");
  });

  it("a server that does not answer: exit 1 naming why, not only 'fetch failed'", async () => {
    const port = await closedPort(); // the connection is refused
    const result = await bootsmith(["verify", `http://127.0.0.1:${port}/c/1/`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`);
  });
});

/**
 * Sign `dir`'s SHA256SUMS again with a throwaway key that is then revoked (its revocation
 * certificate imported, as a site publishes it) or that has expired (made and used in 2020 with
 * gpg's faked clock, valid for a year); returns the public key file as exported afterwards.
 */
async function signWithSpoiledKey(dir: string, state: "revoked" | "expired"): Promise<string> {
  const home = mkdtempSync(path.join(tmpdir(), "bootsmith-spoiled-key-"));
  try {
    const clock = state === "expired" ? ["--faked-system-time", "20200101T000000!"] : [];
    const gpg = (args: string[]) =>
      execa("gpg", ["--batch", "--no-tty", "--homedir", home, "--passphrase", "", "--pinentry-mode", "loopback", ...clock, ...args]);
    await gpg(["--quick-gen-key", `${state} <${state}@bootsmith.invalid>`, "ed25519", "sign", state === "expired" ? "1y" : "never"]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec((await gpg(["--with-colons", "--list-secret-keys"])).stdout)![1]!;
    await gpg(["--yes", "--local-user", fingerprint, "--output", path.join(dir, "SHA256SUMS.sig"), "--detach-sign", path.join(dir, "SHA256SUMS")]);
    if (state === "revoked") {
      // gpg writes a revocation certificate for every new key, its armor line escaped with ':'.
      const certificate = readFileSync(path.join(home, "openpgp-revocs.d", `${fingerprint}.rev`), "utf8").replace(/^:-----/m, "-----");
      await execa("gpg", ["--batch", "--no-tty", "--homedir", home, "--import"], { input: certificate });
    }
    const publicKey = path.join(dir, "..", `${state}.pub.gpg`);
    await gpg(["--yes", "--output", publicKey, "--export", fingerprint]);
    return publicKey;
  } finally {
    await execa("gpgconf", ["--homedir", home, "--kill", "all"]).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}
