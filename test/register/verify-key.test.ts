// register --verify-key against the BSS contract server, with the set served over HTTP exactly
// as nodes would fetch it and real gpg/gpgv: a good set registers; every tampering is refused
// with exit 1 naming the file, and BSS receives nothing at all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { flipByte, makeSignedSet } from "../support/signed-set.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { parseSums, renderSums } from "../../src/core/sums.js";
import { sha256Bytes } from "../../src/core/hash.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import type { PublishedImage } from "../../src/core/published-image.js";
import { ARTIFACT_FILES, type ArtifactRole } from "../../src/core/manifest.js";

const MAC = "52:54:00:5e:c0:01";
let work: string;
let site: string;
let key: TestKey;
let other: TestKey;
let files: StaticServer;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-regverify-"));
  site = path.join(work, "site");
  [key, other] = await Promise.all([makeTestKey(work, "builder"), makeTestKey(work, "intruder")]);
  await makeSignedSet(path.join(site, "compute/good"), key, "compute", "good");
  files = await startStaticServer({ root: site });
}, 60_000);
afterAll(async () => {
  await files?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A published copy of the good set under tag `tag`, changed by `tamper`, and its published.json. */
async function publishCopy(tag: string, tamper: (dir: string) => void | Promise<void>): Promise<string> {
  const dir = path.join(site, "compute", tag);
  cpSync(path.join(site, "compute/good"), dir, { recursive: true });
  await tamper(dir);
  const url = (file: string) => `${files.url}/compute/${tag}/${file}`;
  const urls = Object.fromEntries((Object.entries(ARTIFACT_FILES) as [ArtifactRole, string][]).map(([role, file]) => [role, url(file)]));
  const image: PublishedImage = {
    name: "compute",
    tag,
    target: "local",
    urls,
    manifestUrl: url("manifest.json"),
    sumsUrl: url("SHA256SUMS"),
    signatureUrl: url("SHA256SUMS.sig"),
  };
  const record = path.join(work, `published-${tag}.json`);
  writeFileSync(record, JSON.stringify(image));
  return record;
}

async function register(record: string, bss: BssServer, verifyKey: string) {
  return bootsmith([
    "register",
    record,
    "--bss",
    bss.url,
    "--mac",
    MAC,
    "--params-template",
    "console=ttyS0 root=live:{{ rootfs.url }}",
    "--state-dir",
    path.join(work, "state"),
    "--verify-key",
    verifyKey,
  ]);
}

describe("register --verify-key", () => {
  it("registers a set that verifies as served", async () => {
    const bss = await startBssServer();
    try {
      const result = await register(await publishCopy("ok", () => {}), bss, key.publicFile);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toContain(`signed by ${key.fingerprint}`);
      expect(bss.entries.get(`mac:${MAC}`)?.kernel).toBe(`${files.url}/compute/ok/vmlinuz`);
      expect(bss.violations).toEqual([]);
    } finally {
      await bss.stop();
    }
  });

  const cases: [string, string, (dir: string) => void | Promise<void>][] = [
    ["a flipped byte in the kernel", "vmlinuz", (d) => flipByte(path.join(d, "vmlinuz"), 100)],
    ["a flipped byte in the initramfs", "initramfs.img", (d) => flipByte(path.join(d, "initramfs.img"), 0)],
    ["a flipped byte in the rootfs", "rootfs.squashfs", (d) => flipByte(path.join(d, "rootfs.squashfs"), 2_999_999)],
    ["a flipped byte in the SBOM", "sbom.cdx.json", (d) => flipByte(path.join(d, "sbom.cdx.json"), 1)],
    ["a flipped byte in manifest.json", "manifest.json", (d) => flipByte(path.join(d, "manifest.json"), 3)],
    [
      "a replaced SHA256SUMS",
      "SHA256SUMS.sig",
      (d) => {
        writeFileSync(path.join(d, "rootfs.squashfs"), Buffer.alloc(3_000_000, 1));
        const entries = parseSums(readFileSync(path.join(d, "SHA256SUMS"), "utf8")).map((e) =>
          e.file === "rootfs.squashfs" ? { ...e, sha256: sha256Bytes(readFileSync(path.join(d, e.file))) } : e,
        );
        writeFileSync(path.join(d, "SHA256SUMS"), renderSums(entries));
      },
    ],
    [
      "a signature by another key",
      "SHA256SUMS.sig",
      async (d) => {
        const signer = await openSigner(parseSigningKey(other.secretFile), { cleanup: new CleanupStack() });
        await signer.sign(path.join(d, "SHA256SUMS"), path.join(d, "SHA256SUMS.sig"), { step: "t", reporter: silentReporter });
        await signer.close();
      },
    ],
    ["a missing signature", "SHA256SUMS.sig", (d) => rmSync(path.join(d, "SHA256SUMS.sig"))],
    [
      "an artifact served with the right size but other bytes",
      "rootfs.squashfs",
      (d) => {
        const size = readFileSync(path.join(d, "rootfs.squashfs")).length;
        writeFileSync(path.join(d, "rootfs.squashfs"), Buffer.alloc(size, 0x5a));
      },
    ],
  ];
  for (const [title, file, tamper] of cases) {
    it(`refuses ${title}: exit 1 naming ${file}, nothing sent to BSS`, async () => {
      const bss = await startBssServer();
      try {
        const result = await register(await publishCopy(title.replace(/\W+/g, "-"), tamper), bss, key.publicFile);
        expect(result.exitCode, result.stderr).toBe(1);
        expect(result.stderr).toContain("does not verify (nothing was written)");
        expect(result.stderr).toMatch(new RegExp(`^  ${file.replace(/\./g, "\\.")}: `, "m"));
        expect(bss.requests).toEqual([]);
        expect(bss.entries.size).toBe(0);
      } finally {
        await bss.stop();
      }
    });
  }
});
