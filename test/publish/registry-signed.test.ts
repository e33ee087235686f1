// Signed registry images, checked the way a pull host checks them: publish to Debian's
// docker-registry on 127.0.0.1 with a GnuPG key (GPG simple signing into a lookaside directory),
// then `skopeo copy` under a policy.json that requires a signedBy signature with the public key
// and a registries.d that points at the lookaside store — written here as a site would write
// them. Accepted: every tag of the signed image. Refused: an unsigned image in the same
// repository and an image signed by another key; a two-architecture set's list tag, for either
// architecture and as the index alone. Also: no tag appears when signing fails, a
// missing or wrong key is exit 2 before anything is pushed, and the passphrase and secret key are
// in no output and no file.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import type { BuildEvent, Reporter } from "../../src/exec/events.js";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishError } from "../../src/publish/errors.js";
import { publishToRegistry } from "../../src/publish/registry.js";
import { publishManifestList } from "../../src/publish/manifest-list.js";
import { openSigner, type Signer } from "../../src/sign/gpg.js";
import { bootsmith } from "../support/cli.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { makeFakeImage } from "./support/artifacts.js";
import { refusedAnonymousPush, registryTags, startRegistry, writeAuthFile, type TestRegistry } from "./support/registry.js";

const PASSPHRASE = `Quokka-Passphrase-${randomBytes(4).toString("hex")}`;
const ctx = { step: "test", reporter: silentReporter };
let work: string;
let lookaside: string;
let buildah: string[];
let registry: TestRegistry;
let keyA: TestKey;
let keyB: TestKey;
const refs: Record<"signed" | "unsigned" | "other" | "failed", string> = { signed: "", unsigned: "", other: "", failed: "" };
const events: BuildEvent[] = [];
const recording: Reporter = { emit: (e) => void events.push(e), close: async () => {} };
const savedTmp = process.env.TMPDIR;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bootsmith-registry-signed-"));
  // Every temporary directory bootsmith makes (private GnuPG home, push work) lands here, so the
  // test can show that none is left.
  process.env.TMPDIR = join(work, "tmp");
  await mkdir(process.env.TMPDIR);
  lookaside = join(work, "lookaside");
  buildah = ["--root", join(work, "storage"), "--runroot", join(work, "run"), "--storage-driver", "vfs"];
  await mkdir(join(work, "keys"));
  keyA = await makeTestKey(join(work, "keys"), "site", PASSPHRASE);
  keyB = await makeTestKey(join(work, "keys"), "intruder");
  // Four images with different content, so each has its own digest and signatures.
  for (const name of Object.keys(refs) as (keyof typeof refs)[]) {
    refs[name] = `localhost/bootsmith-test/signed-${name}:build`;
    const container = (await run({ file: "buildah", args: [...buildah, "from", "scratch"] }, ctx)).stdout.trim();
    await writeFile(join(work, "content.txt"), `${name} ${randomBytes(8).toString("hex")}\n`);
    await run({ file: "buildah", args: [...buildah, "copy", container, join(work, "content.txt"), "/content.txt"] }, ctx);
    await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, refs[name]] }, ctx);
  }
  registry = await startRegistry(work);
}, 120_000);

afterAll(async () => {
  process.env.TMPDIR = savedTmp;
  await registry?.stop();
  if (work) {
    await run({ file: "buildah", args: [...buildah, "rmi", "--all", "--force"] }, ctx).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
});

/** An artifact directory whose manifest points at the local image `ref`. */
async function artifactDir(ref: string, tags: readonly string[]): Promise<string> {
  const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags, sizes: { kernel: 512 } });
  await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref } } satisfies Manifest));
  return image.dir;
}

async function signer(key: TestKey, passphrase?: string): Promise<{ signer: Signer; cleanup: CleanupStack }> {
  const cleanup = new CleanupStack();
  return { signer: await openSigner({ kind: "file", path: key.secretFile }, { cleanup, ...(passphrase ? { passphrase } : {}) }), cleanup };
}

/** A pull host's configuration: policy.json requiring `key`'s signature for the test registry, registries.d reading `lookaside`. */
async function pullHost(key: TestKey, scope = `${registry.address}/bootsmith`): Promise<string[]> {
  const dir = await mkdtemp(join(work, "pull-host-"));
  await writeFile(
    join(dir, "policy.json"),
    JSON.stringify({
      default: [{ type: "reject" }],
      transports: { docker: { [scope]: [{ type: "signedBy", keyType: "GPGKeys", keyPath: key.publicFile }] } },
    }),
  );
  await mkdir(join(dir, "registries.d"));
  await writeFile(join(dir, "registries.d", "site.yaml"), `docker:\n  ${registry.address}/bootsmith:\n    lookaside: file://${lookaside}\n`);
  return ["--policy", join(dir, "policy.json"), "--registries.d", join(dir, "registries.d")];
}

/** `skopeo copy` of `ref` into a directory under the pull host's policy: exit code and stderr. */
async function pull(host: string[], ref: string, options: { global?: string[]; copy?: string[] } = {}): Promise<{ exitCode: number; stderr: string }> {
  const out = await mkdtemp(join(work, "pulled-"));
  const args = [...host, ...(options.global ?? []), "copy", "--src-tls-verify=false", ...(options.copy ?? []), `docker://${ref}`, `dir:${out}`];
  const result = await run({ file: "skopeo", args }, ctx).then(
    () => ({ exitCode: 0, stderr: "" }),
    (e: unknown) => ({ exitCode: 1, stderr: String((e as { outputTail?: string[] }).outputTail?.join("\n") ?? e) }),
  );
  await rm(out, { recursive: true, force: true });
  return result;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("signed registry publishing (docker-registry, skopeo policy.json signedBy)", () => {
  const repository = () => `${registry.address}/bootsmith/compute`;

  it("signs every tag before pushing it; skopeo accepts each tag under a signedBy policy", async () => {
    const dir = await artifactDir(refs.signed, ["1.0", "latest"]);
    const { signer: site, cleanup } = await signer(keyA, PASSPHRASE);
    let outcome;
    try {
      outcome = await publishToRegistry(
        await loadArtifactSet(dir),
        { type: "registry", repository: repository(), tlsVerify: false, lookaside },
        { buildahGlobalArgs: buildah, signer: site, reporter: recording },
      );
    } finally {
      await site.close();
      await cleanup.unwind();
    }
    const digest = outcome.images[0]!.image!.digest;
    expect(outcome.images.map((i) => i.image)).toEqual([
      { ref: `${repository()}:1.0`, digest },
      { ref: `${repository()}:latest`, digest },
    ]);
    // One signature per tag identity, in the lookaside layout containers/image defines.
    const store = join(lookaside, "bootsmith", `compute@${digest.replace(":", "=")}`);
    expect((await readdir(store)).sort()).toEqual(["signature-1", "signature-2"]);
    expect(((JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest).image.pushed ?? []).map((p) => p.digest)).toEqual([digest, digest]);

    const host = await pullHost(keyA);
    for (const tag of ["1.0", "latest"]) {
      const pulled = await pull(host, `${repository()}:${tag}`);
      expect(pulled.exitCode, pulled.stderr).toBe(0);
    }
    expect((await pull(host, `${repository()}@${digest}`)).exitCode).toBe(0);
  });

  it("refuses an unsigned image pushed to the same repository", async () => {
    const dir = await artifactDir(refs.unsigned, ["unsigned"]);
    await publishToRegistry(await loadArtifactSet(dir), { type: "registry", repository: repository(), tlsVerify: false }, { buildahGlobalArgs: buildah });
    const pulled = await pull(await pullHost(keyA), `${repository()}:unsigned`);
    expect(pulled.exitCode).toBe(1);
    expect(pulled.stderr).toMatch(/Source image rejected: A signature was required, but no signature exists/);
  });

  it("bootsmith publish --sign-key signs with another key: refused under the site key, accepted under that key", async () => {
    const dir = await artifactDir(refs.other, ["other"]);
    const published = await bootsmith([
      "publish",
      dir,
      "--to",
      `registry:${repository()}`,
      "--tls-verify=false",
      "--lookaside",
      lookaside,
      "--sign-key",
      keyB.secretFile,
      ...buildah,
    ]);
    expect(published.exitCode, published.stderr).toBe(0);
    const refused = await pull(await pullHost(keyA), `${repository()}:other`);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/Source image rejected: (Invalid GPG signature|None of the signatures were accepted)/);
    expect((await pull(await pullHost(keyB), `${repository()}:other`)).exitCode).toBe(0);
  });

  it("signs each manifest list too: a pull host accepts the list tag of a multi-architecture set, for every architecture", async () => {
    const listed = `${registry.address}/bootsmith/multi`;
    const sets = [];
    for (const [arch, oci] of [
      ["x86_64", "amd64"],
      ["aarch64", "arm64"],
    ] as const) {
      const ref = `localhost/bootsmith-test/signed-multi:${oci}`;
      const container = (await run({ file: "buildah", args: [...buildah, "from", "--arch", oci, "scratch"] }, ctx)).stdout.trim();
      await writeFile(join(work, "content.txt"), `${oci}\n`);
      await run({ file: "buildah", args: [...buildah, "copy", container, join(work, "content.txt"), "/arch.txt"] }, ctx);
      await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, ref] }, ctx);
      const image = await makeFakeImage({ dir: await mkdtemp(join(work, `art-${oci}-`)), name: "multi", tags: ["2.0"], sizes: {} });
      await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, arch, image: { ref } } satisfies Manifest));
      sets.push(await loadArtifactSet(image.dir));
    }
    const { signer: site, cleanup } = await signer(keyA, PASSPHRASE);
    let outcome;
    try {
      outcome = await publishManifestList(
        sets,
        { type: "registry", repository: listed, tlsVerify: false, lookaside },
        { buildahGlobalArgs: buildah, signer: site },
      );
    } finally {
      await site.close();
      await cleanup.unwind();
    }
    expect(outcome.lists.map((l) => l.ref)).toEqual([`${listed}:2.0`]);
    const host = await pullHost(keyA, `${registry.address}/bootsmith/multi`);
    for (const arch of ["amd64", "arm64"]) {
      const pulled = await pull(host, `${listed}:2.0`, { global: ["--override-arch", arch] });
      expect(pulled.exitCode, `${arch}: ${pulled.stderr}`).toBe(0);
    }
    const index = await pull(host, `${listed}:2.0`, { copy: ["--multi-arch", "index-only"] });
    expect(index.exitCode, index.stderr).toBe(0);
    expect((await pull(await pullHost(keyB, `${registry.address}/bootsmith/multi`), `${listed}:2.0`)).exitCode).toBe(1);
  });

  it("a registry behind htpasswd: a signed push's refused credentials are explained as an unsigned push's, never the password", async () => {
    const password = "s3cret-PW-77";
    const authDir = await mkdtemp(join(work, "auth-registry-"));
    const guarded = await startRegistry(authDir, { htpasswd: { user: "site", password } });
    const { signer: site, cleanup } = await signer(keyA, PASSPHRASE);
    try {
      const repository = `${guarded.address}/site/compute`;
      const authFile = join(authDir, "auth.json");
      const push = async (file?: string) =>
        publishToRegistry(
          await loadArtifactSet(await artifactDir(refs.signed, ["1.0"])),
          { type: "registry", repository, tlsVerify: false, lookaside, ...(file ? { authFile: file } : {}) },
          { buildahGlobalArgs: buildah, signer: site },
        ).catch((e: unknown) => e);

      const anonymous = await push();
      expect(anonymous).toBeInstanceOf(PublishError);
      expect((anonymous as PublishError).kind).toBe("credentials");
      for (const part of refusedAnonymousPush(repository, "skopeo")) expect((anonymous as Error).message).toContain(part);
      await writeAuthFile(authFile, guarded.address, "site", "wrong-PW");
      const wrong = await push(authFile);
      expect((wrong as Error).message).toContain(
        `the credentials in ${authFile} were not accepted: log in again with \`buildah login --authfile ${authFile} ${guarded.address}\``,
      );
      for (const error of [anonymous, wrong]) expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toMatch(/s3cret|wrong-PW/);
    } finally {
      await site.close();
      await cleanup.unwind();
      await guarded.stop();
    }
  });

  it("a signature that fails leaves no tag in the registry", async () => {
    const failed = `${registry.address}/bootsmith/failed`;
    const dir = await artifactDir(refs.failed, ["1", "2"]);
    const { signer: site, cleanup } = await signer(keyB);
    // The key was proven, then its private GnuPG home went away: gpg cannot sign any more.
    await site.close();
    await cleanup.unwind();
    const error = await publishToRegistry(
      await loadArtifactSet(dir),
      { type: "registry", repository: failed, tlsVerify: false, lookaside },
      { buildahGlobalArgs: buildah, signer: site },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/skopeo/);
    expect(await registryTags(failed)).toEqual([]);
    expect((JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest).image.pushed).toBeUndefined();
  });

  it("a missing key or a wrong passphrase is exit 2 before anything is pushed", async () => {
    const nothing = `${registry.address}/bootsmith/never`;
    const dir = await artifactDir(refs.failed, ["1"]);
    const common = ["publish", dir, "--to", `registry:${nothing}`, "--tls-verify=false", "--lookaside", lookaside, ...buildah];
    const missing = await bootsmith([...common, "--sign-key", join(work, "keys", "absent.asc")]);
    expect(missing.exitCode, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/--sign-key: key file .*absent\.asc: does not exist/);
    const wrong = await bootsmith([...common, "--sign-key", keyA.secretFile], { env: { BOOTSMITH_SIGN_PASSPHRASE: "not-the-passphrase" } });
    expect(wrong.exitCode, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/gpg cannot sign with it/);
    expect(await registryTags(nothing)).toEqual([]);
  });

  it("leaves the passphrase and the secret key in no output and no file, and no temporary directory behind", async () => {
    // A line from the middle of the armored secret key: material, not the armor header.
    const lines = keyA.secretArmored.split("\n").filter((l) => /^[A-Za-z0-9+/]{40,}$/.test(l));
    const secretLine = lines[Math.floor(lines.length / 2)]!;
    expect(secretLine).toBeTruthy();
    const said = JSON.stringify(events);
    expect(said).toContain("skopeo"); // the recorded commands are there…
    expect(said).not.toContain(PASSPHRASE); // …without the passphrase or the key
    expect(said).not.toContain(secretLine);
    for (const file of await filesUnder(work)) {
      if (file.startsWith(join(work, "keys"))) continue; // the test's own key files
      const bytes = await readFile(file);
      expect(bytes.includes(PASSPHRASE), file).toBe(false);
      expect(bytes.includes(secretLine), file).toBe(false);
    }
    expect(await readdir(process.env.TMPDIR!)).toEqual([]);
  });
});
