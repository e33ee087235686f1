// Registry publishing against Debian's docker-registry on 127.0.0.1: push every tag of a tiny
// image made here with buildah (private vfs storage in a temp dir, so the host's containers
// storage is untouched), check the digests with skopeo, and the manifest's record of them.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { silentReporter } from "../../src/exec/events.js";
import { CommandError, run } from "../../src/exec/run.js";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishInputError } from "../../src/publish/errors.js";
import { publishToRegistry } from "../../src/publish/registry.js";
import { publishAll } from "../../src/publish/index.js";
import { makeFakeImage } from "./support/artifacts.js";
import { refusedAnonymousPush, startRegistry, writeAuthFile } from "./support/registry.js";
import { PublishError } from "../../src/publish/errors.js";
import { freePort } from "./support/ceph.js";

const ctx = { step: "test", reporter: silentReporter };
let work: string;
let buildah: string[];
let registry: string;
let localRef: string;
const stopRegistry = new AbortController();
let registryExit: Promise<unknown>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bootsmith-registry-"));
  buildah = ["--root", join(work, "storage"), "--runroot", join(work, "run"), "--storage-driver", "vfs"];
  localRef = `localhost/bootsmith-test/img-${randomBytes(3).toString("hex")}:build`;
  const container = (await run({ file: "buildah", args: [...buildah, "from", "scratch"] }, ctx)).stdout.trim();
  await writeFile(join(work, "hello.txt"), `hello ${localRef}\n`);
  await run({ file: "buildah", args: [...buildah, "copy", container, join(work, "hello.txt"), "/hello.txt"] }, ctx);
  await run({ file: "buildah", args: [...buildah, "config", "--label", "org.opencontainers.image.title=bootsmith-test", container] }, ctx);
  await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, localRef] }, ctx);

  const port = await freePort();
  registry = `127.0.0.1:${port}`;
  const config = join(work, "registry.yml");
  await writeFile(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, "registry")}\nhttp:\n  addr: ${registry}\nlog:\n  level: warn\n`,
  );
  registryExit = run({ file: "docker-registry", args: ["serve", config] }, { ...ctx, signal: stopRegistry.signal }).catch((e: unknown) => e);
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${registry}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i >= 100) throw new Error(`docker-registry did not answer on ${registry} within 10 s`);
    await delay(100);
  }
}, 120_000);

afterAll(async () => {
  stopRegistry.abort();
  await registryExit;
  if (localRef) await run({ file: "buildah", args: [...buildah, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

async function inspect(ref: string): Promise<{ Digest: string; Labels: Record<string, string> | null }> {
  const { stdout } = await run({ file: "skopeo", args: ["inspect", "--tls-verify=false", `docker://${ref}`] }, ctx);
  return JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> | null };
}

async function remoteDigest(ref: string): Promise<string> {
  return (await inspect(ref)).Digest;
}

describe("publishToRegistry (docker-registry)", () => {
  it("pushes every tag, records the digests and matches what the registry serves", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1.0", "latest"], sizes: {} });
    const manifestPath = join(image.dir, "manifest.json");
    const withRef: Manifest = { ...image.manifest, image: { ref: localRef } };
    await writeFile(manifestPath, JSON.stringify(withRef));
    const repository = `${registry}/bootsmith/test-image`;

    const outcome = await publishToRegistry(
      await loadArtifactSet(image.dir),
      { type: "registry", repository, tlsVerify: false },
      { buildahGlobalArgs: buildah },
    );

    expect(outcome.images.map((i) => i.image?.ref)).toEqual([`${repository}:1.0`, `${repository}:latest`]);
    const digest = outcome.images[0]!.image!.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(outcome.images[1]!.image!.digest).toBe(digest);
    expect(await remoteDigest(`${repository}:1.0`)).toBe(digest);
    expect(await remoteDigest(`${repository}:latest`)).toBe(digest);
    // Labels set at commit time travel with the image.
    expect((await inspect(`${repository}:1.0`)).Labels).toMatchObject({ "org.opencontainers.image.title": "bootsmith-test" });

    const recorded = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
    expect(recorded.image.pushed).toEqual([
      { ref: `${repository}:1.0`, digest },
      { ref: `${repository}:latest`, digest },
    ]);
    // Pushing again replaces, not duplicates, the record.
    await publishToRegistry(await loadArtifactSet(image.dir), { type: "registry", repository, tlsVerify: false }, { buildahGlobalArgs: buildah });
    expect((JSON.parse(await readFile(manifestPath, "utf8")) as Manifest).image.pushed).toHaveLength(2);
  });

  it("fails with buildah's own error when TLS is required but the registry speaks http", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1"], sizes: {} });
    await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: localRef } }));
    const error = await publishToRegistry(
      await loadArtifactSet(image.dir),
      { type: "registry", repository: `${registry}/bootsmith/tls` },
      { buildahGlobalArgs: buildah },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).report).toMatch(/--tls-verify=true/);
    expect((error as CommandError).outputTail.join("\n")).toMatch(/https|http response|HTTP/i);
  });

  it("rejects a repository with a tag or uppercase path before running anything", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1"], sizes: {} });
    for (const repository of [`${registry}/bootsmith/x:1`, `${registry}/Bootsmith/x`, "no-path"]) {
      await expect(publishToRegistry(await loadArtifactSet(image.dir), { type: "registry", repository })).rejects.toBeInstanceOf(PublishInputError);
    }
  });

  it("a registry behind htpasswd: refused credentials name --authfile and buildah login, never the password; the auth file pushes to a nested path", async () => {
    const password = "s3cret-PW-42";
    const authDir = await mkdtemp(join(work, "auth-registry-"));
    const guarded = await startRegistry(authDir, { htpasswd: { user: "site", password } });
    try {
      const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1", "latest"], sizes: {} });
      await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: localRef } }));
      const repository = `${guarded.address}/site/hpc/compute`;
      const authFile = join(authDir, "auth.json");
      const login = (user: string, pw: string) => writeAuthFile(authFile, guarded.address, user, pw);
      const push = async (file?: string) =>
        publishToRegistry(
          await loadArtifactSet(image.dir),
          { type: "registry", repository, tlsVerify: false, ...(file ? { authFile: file } : {}) },
          { buildahGlobalArgs: buildah },
        ).catch((e: unknown) => e);

      const anonymous = await push();
      expect(anonymous).toBeInstanceOf(PublishError);
      expect((anonymous as PublishError).kind).toBe("credentials");
      for (const part of refusedAnonymousPush(repository, "buildah")) expect((anonymous as Error).message).toContain(part);
      await login("site", "wrong-PW");
      const wrong = await push(authFile);
      expect((wrong as Error).message).toContain(`the credentials in ${authFile} were not accepted`);
      for (const error of [anonymous, wrong]) expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toMatch(/s3cret|wrong-PW/);

      await login("site", password);
      const pushed = await push(authFile);
      expect((pushed as { images: unknown[] }).images).toHaveLength(2);
    } finally {
      await guarded.stop();
    }
  });

  it("refuses an auth file that does not exist before running anything, naming it and how to make one", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1"], sizes: {} });
    await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: localRef } }));
    const authFile = join(work, "no-such-auth.json");
    const attempt = publishToRegistry(
      await loadArtifactSet(image.dir),
      { type: "registry", repository: `${registry}/bootsmith/authfile`, tlsVerify: false, authFile },
      { buildahGlobalArgs: buildah },
    );
    await expect(attempt).rejects.toBeInstanceOf(PublishInputError);
    await expect(attempt).rejects.toThrow(
      `registry auth file ${authFile} (--authfile or authFile:) does not exist; write it with \`buildah login --authfile ${authFile} ${registry}\``,
    );
  });

  it("refuses a set whose build committed no image, saying how to get one, before running anything", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["1"], sizes: {} });
    const file = join(image.dir, "manifest.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as Manifest;
    await writeFile(file, JSON.stringify({ ...manifest, image: { ref: manifest.image.ref, committed: false } }));
    const attempt = publishToRegistry(await loadArtifactSet(image.dir), { type: "registry", repository: `${registry}/bootsmith/x` });
    await expect(attempt).rejects.toBeInstanceOf(PublishInputError);
    await expect(attempt).rejects.toThrow(/committed no image .* without --no-commit/);
  });

  it("publishAll pushes to registries first, so other targets publish a manifest with the digests", async () => {
    const image = await makeFakeImage({ dir: await mkdtemp(join(work, "art-")), tags: ["2"], sizes: { kernel: 1024 } });
    await writeFile(join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: localRef } }));
    const out = await mkdtemp(join(work, "out-"));
    const repository = `${registry}/bootsmith/all`;
    const [local, pushed] = await publishAll(
      image.dir,
      [
        { type: "local", dir: out },
        { type: "registry", repository, tlsVerify: false },
      ],
      { registry: { buildahGlobalArgs: buildah } },
    );
    expect(local?.images[0]?.target).toBe("local");
    expect(pushed?.images[0]?.target).toBe("registry");
    const published = JSON.parse(await readFile(join(out, "test-image/2/manifest.json"), "utf8")) as Manifest;
    expect(published.image.pushed).toEqual([{ ref: `${repository}:2`, digest: pushed?.images[0]?.image?.digest }]);
  });
});
