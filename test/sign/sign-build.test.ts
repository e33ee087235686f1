// A signed build and publish through the CLI, with real buildah/dnf/gpg: the recipe's
// signing.key, SHA256SUMS that `sha256sum -c` and `gpgv` accept on the command line, no key
// material in build.log or left on disk, a key that cannot sign refused (exit 2) before anything
// is built, and `publish --sign-key` for a set built unsigned. The build also pushes the image to
// Debian's docker-registry, signed with the same key: skopeo accepts it under a policy.json that
// requires that key, and its labels carry the SBOMs' sha256s, which the image holds as files.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { sha256Bytes } from "../../src/core/hash.js";

const RECIPE = path.join(REPO_ROOT, "test/fixtures/build/fixture-signed.yaml");
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let key: TestKey;
let other: TestKey;
let registry: TestRegistry;
const out = () => path.join(work, "out-signed");
/** The recipe's variables: the fixture repository, the test registry and its lookaside store. */
const vars = () => ["--var", `REPO_URL=${repo.baseurl}`, "--var", `REGISTRY=${registry.address}`, "--var", `LOOKASIDE=${path.join(work, "lookaside")}`];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-signbuild-"));
  [repo, key, other] = await Promise.all([buildFixtureRepo(path.join(work, "repo")), makeTestKey(work, "builder"), makeTestKey(work, "intruder")]);
  registry = await startRegistry(work);
  env = { ...buildEnv(work), TMPDIR: path.join(work, "tmp") };
  await execa("mkdir", ["-p", env.TMPDIR!]);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await removeImages(["fixture-signed:1"]);
  rmSync(work, { recursive: true, force: true });
});

describe("signed builds", () => {
  it("signing.key: SHA256SUMS over every artifact, the SBOMs and manifest.json, verified by gpgv and sha256sum -c", { timeout: 300_000 }, async () => {
    const result = await bootsmith(["build", RECIPE, ...vars(), "--out", out(), "--progress", "plain"], {
      env: { ...env, BOOTSMITH_TEST_SIGN_KEY: key.secretArmored },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const sums = readFileSync(path.join(out(), "SHA256SUMS"), "utf8");
    expect(
      sums
        .split("\n")
        .filter(Boolean)
        .map((l) => l.slice(66)),
    ).toEqual(["initramfs.img", "manifest.json", "rootfs.squashfs", "sbom.cdx.json", "sbom.spdx.json", "vmlinuz"]);
    // The standard tools, as a site runs them.
    const gpgv = await execa("gpgv", ["--homedir", work, "--keyring", key.publicFile, "SHA256SUMS.sig", "SHA256SUMS"], { cwd: out(), reject: false });
    expect(gpgv.exitCode, gpgv.stderr).toBe(0);
    expect(gpgv.stderr).toContain("Good signature");
    const check = await execa("sha256sum", ["-c", "SHA256SUMS"], { cwd: out() });
    expect(check.stdout.split("\n")).toHaveLength(6);
    expect(
      (await execa("gpgv", ["--homedir", work, "--keyring", other.publicFile, "SHA256SUMS.sig", "SHA256SUMS"], { cwd: out(), reject: false })).exitCode,
    ).not.toBe(0);
    // The key never reaches the log or the output, and its private GNUPGHOME is gone.
    const log = readFileSync(path.join(out(), "build.log"), "utf8");
    const keyLines = key.secretArmored.split("\n").filter((l) => l.length > 40);
    for (const line of keyLines) expect(log + result.stdout + result.stderr).not.toContain(line);
    expect(log).toContain(`signed SHA256SUMS with key ${key.fingerprint}`);
    expect(readdirSync(env.TMPDIR!).filter((n) => n.startsWith("bootsmith-"))).toEqual([]);
  });

  it("the pushed image: signed with the same key (skopeo policy signedBy), its SBOMs inside and their sha256s as labels", { timeout: 120_000 }, async () => {
    const repository = `${registry.address}/bootsmith/fixture-signed`;
    const manifest = JSON.parse(readFileSync(path.join(out(), "manifest.json"), "utf8")) as { image: { pushed?: { ref: string; digest: string }[] } };
    expect(manifest.image.pushed?.map((p) => p.ref)).toEqual([`${repository}:1`]);
    // Recording the digest changed manifest.json: the build signed the set again over it.
    expect(
      (await execa("gpgv", ["--homedir", work, "--keyring", key.publicFile, "SHA256SUMS.sig", "SHA256SUMS"], { cwd: out(), reject: false })).exitCode,
    ).toBe(0);
    expect((await execa("sha256sum", ["-c", "SHA256SUMS"], { cwd: out(), reject: false })).exitCode).toBe(0);

    const sbom = {
      cdx: sha256Bytes(readFileSync(path.join(out(), "sbom.cdx.json"))),
      spdx: sha256Bytes(readFileSync(path.join(out(), "sbom.spdx.json"))),
    };
    const inspected = JSON.parse((await execa("skopeo", ["inspect", "--tls-verify=false", `docker://${repository}:1`])).stdout) as {
      Digest: string;
      Labels: Record<string, string>;
    };
    expect(inspected.Digest).toBe(manifest.image.pushed?.[0]?.digest);
    expect(inspected.Labels).toMatchObject({ "io.bootsmith.sbom.cyclonedx.sha256": sbom.cdx, "io.bootsmith.sbom.spdx.sha256": sbom.spdx });

    // A pull host that requires the builder's key accepts it; one that requires another key does not.
    const host = (pub: string) => {
      const dir = mkdtempSync(path.join(work, "host-"));
      writeFileSync(
        path.join(dir, "policy.json"),
        JSON.stringify({ default: [{ type: "reject" }], transports: { docker: { [repository]: [{ type: "signedBy", keyType: "GPGKeys", keyPath: pub }] } } }),
      );
      mkdirSync(path.join(dir, "registries.d"));
      writeFileSync(path.join(dir, "registries.d", "site.yaml"), `docker:\n  ${repository}:\n    lookaside: file://${path.join(work, "lookaside")}\n`);
      return ["--policy", path.join(dir, "policy.json"), "--registries.d", path.join(dir, "registries.d")];
    };
    const pulled = path.join(work, "pulled");
    const accepted = await execa("skopeo", [...host(key.publicFile), "copy", "--src-tls-verify=false", `docker://${repository}:1`, `dir:${pulled}`], {
      reject: false,
    });
    expect(accepted.exitCode, accepted.stderr).toBe(0);
    const refused = await execa("skopeo", [...host(other.publicFile), "copy", "--src-tls-verify=false", `docker://${repository}:1`, `dir:${pulled}-2`], {
      reject: false,
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("Source image rejected");

    // The SBOMs are files in the image, byte for byte the ones beside the artifacts: the topmost
    // layer that holds the path is what the image contains.
    const layers = (JSON.parse(readFileSync(path.join(pulled, "manifest.json"), "utf8")) as { layers: { digest: string }[] }).layers;
    const inImage = async (file: string) => {
      for (const layer of [...layers].reverse()) {
        const tar = await execa("tar", ["-xzOf", path.join(pulled, layer.digest.replace("sha256:", "")), `usr/lib/bootsmith/${file}`], {
          encoding: "buffer",
          stripFinalNewline: false, // the file's bytes, as they are
          reject: false,
        });
        if (tar.exitCode === 0) return sha256Bytes(tar.stdout);
      }
      return undefined;
    };
    expect(await inImage("sbom.cdx.json")).toBe(sbom.cdx);
    expect(await inImage("sbom.spdx.json")).toBe(sbom.spdx);
  });

  it("a missing or unusable key: exit 2 before anything is built, nothing left behind", { timeout: 120_000 }, async () => {
    const before = await snapshotHost("bootsmith-fixture-signed-");
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{}, [], /signing\.key: key in \$BOOTSMITH_TEST_SIGN_KEY: the variable is not set or empty/],
      [{ BOOTSMITH_TEST_SIGN_KEY: readFileSync(key.publicArmoredFile, "utf8") }, [], /holds no secret key/],
      [{}, ["--sign-key", path.join(work, "missing.asc")], /--sign-key: key file .*missing\.asc: does not exist/],
      [{}, ["--sign-key", "env:1BAD"], /--sign-key: env:1BAD: env: must name an environment variable/],
    ];
    for (const [extraEnv, args, message] of cases) {
      const dir = path.join(work, "out-badkey");
      const result = await bootsmith(["build", RECIPE, ...vars(), "--out", dir, "--no-publish", "--progress", "plain", ...args], {
        env: { ...env, ...extraEnv },
      });
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(existsSync(path.join(dir, "build.log"))).toBe(false); // nothing started
    }
    expect(await snapshotHost("bootsmith-fixture-signed-")).toEqual(before);
    expect(readdirSync(env.TMPDIR!).filter((n) => n.startsWith("bootsmith-"))).toEqual([]);
  });

  it("publish --sign-key signs an unsigned set; publishing copies SHA256SUMS and the signature", { timeout: 120_000 }, async () => {
    const unsigned = path.join(work, "out-unsigned");
    await execa("cp", ["-a", out(), unsigned]);
    rmSync(path.join(unsigned, "SHA256SUMS"));
    rmSync(path.join(unsigned, "SHA256SUMS.sig"));
    const site = path.join(work, "site");
    const result = await bootsmith(
      ["publish", unsigned, "--to", `dir:${site}`, "--sign-key", "env:SIGNING_KEY", "--public-base", "http://head.example/images"],
      { env: { ...env, SIGNING_KEY: other.secretArmored } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("signature http://head.example/images/fixture-signed/1/SHA256SUMS.sig");
    const published = path.join(site, "fixture-signed/1");
    expect(readdirSync(published).sort()).toEqual([
      "SHA256SUMS",
      "SHA256SUMS.sig",
      "initramfs.img",
      "manifest.json",
      "rootfs.squashfs",
      "sbom.cdx.json",
      "sbom.spdx.json",
      "vmlinuz",
    ]);
    expect(
      (await execa("gpgv", ["--homedir", work, "--keyring", other.publicFile, "SHA256SUMS.sig", "SHA256SUMS"], { cwd: published, reject: false })).exitCode,
    ).toBe(0);
    // A stale SHA256SUMS (another build's) is refused rather than published.
    const stale = path.join(work, "out-stale");
    await execa("cp", ["-a", out(), stale]);
    await execa("sh", ["-c", `echo '{}' >> "${path.join(stale, "SHA256SUMS")}"`]);
    const refused = await bootsmith(["publish", stale, "--to", `dir:${path.join(work, "site2")}`], { env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("SHA256SUMS: does not match manifest.json");
  });
});
