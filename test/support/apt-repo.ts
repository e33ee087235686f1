// A signed apt repository for build tests: tiny architecture-independent .debs made with
// dpkg-deb, indexed with dpkg-scanpackages, a Release file with their SHA256 and an InRelease
// clear-signed with a throwaway gpg key (test/support/gpg-keys.ts). The caller serves `dir` (on
// 127.0.0.1) and names it in a recipe with the armored public key as gpgkey.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { makeTestKey } from "./gpg-keys.js";

export interface AptRepo {
  /** Root of the repository (dists/, pool/), to serve over HTTP. */
  readonly dir: string;
  /** The suite (dists/SUITE) with one component, main, for amd64. */
  readonly suite: string;
  /** The armored public key that signed InRelease. */
  readonly publicKey: string;
}

/** Build the repository under `dir` with one package per name (each installs /usr/share/NAME/marker). */
export async function buildAptRepo(dir: string, packages: readonly string[], suite = "fixture"): Promise<AptRepo> {
  const pool = path.join(dir, "pool");
  mkdirSync(pool, { recursive: true });
  for (const name of packages) await buildDeb(pool, name);
  const binary = path.join(dir, "dists", suite, "main", "binary-amd64");
  mkdirSync(binary, { recursive: true });
  // Run from the repository root so Filename: is pool/NAME.deb, relative to the archive URL.
  const { stdout } = await execa("dpkg-scanpackages", ["--multiversion", "pool", "/dev/null"], { cwd: dir });
  writeFileSync(path.join(binary, "Packages"), stdout.endsWith("\n") ? stdout : `${stdout}\n`);
  const release = path.join(dir, "dists", suite, "Release");
  writeFileSync(release, releaseFile(path.join(dir, "dists", suite), suite, ["main/binary-amd64/Packages"]));
  const key = await makeTestKey(dir, "apt-fixture");
  await clearSign(key.secretFile, release, path.join(dir, "dists", suite, "InRelease"));
  rmSync(key.secretFile);
  return { dir, suite, publicKey: key.publicArmoredFile };
}

async function buildDeb(pool: string, name: string): Promise<void> {
  const tree = mkdtempSync(path.join(tmpdir(), "bootsmith-deb-"));
  try {
    mkdirSync(path.join(tree, "DEBIAN"));
    writeFileSync(
      path.join(tree, "DEBIAN", "control"),
      `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: bootsmith fixture <fixture@bootsmith.invalid>\nDescription: bootsmith apt fixture ${name}\n`,
    );
    mkdirSync(path.join(tree, "usr", "share", name), { recursive: true });
    writeFileSync(path.join(tree, "usr", "share", name, "marker"), `${name}\n`);
    await execa("dpkg-deb", ["--root-owner-group", "--build", tree, path.join(pool, `${name}_1.0_all.deb`)]);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

function releaseFile(suiteDir: string, suite: string, files: readonly string[]): string {
  const sums = files.map((f) => {
    const body = readFileSync(path.join(suiteDir, f));
    return ` ${createHash("sha256").update(body).digest("hex")} ${statSync(path.join(suiteDir, f)).size} ${f}`;
  });
  return [
    "Origin: bootsmith-fixture",
    "Label: bootsmith-fixture",
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `Date: ${new Date().toUTCString()}`,
    "Architectures: amd64",
    "Components: main",
    "SHA256:",
    ...sums,
    "",
  ].join("\n");
}

async function clearSign(secretFile: string, input: string, output: string): Promise<void> {
  const home = mkdtempSync(path.join(tmpdir(), "bootsmith-aptsign-"));
  try {
    const gpg = (args: string[]) => execa("gpg", ["--batch", "--no-tty", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", "", ...args]);
    await gpg(["--import", secretFile]);
    await gpg(["--digest-algo", "SHA256", "--clearsign", "--output", output, input]);
  } finally {
    await execa("gpgconf", ["--homedir", home, "--kill", "all"]).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}
