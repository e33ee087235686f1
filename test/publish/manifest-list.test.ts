// Two architectures of one image as one manifest list per tag, against Debian's docker-registry:
// tiny amd64 and arm64 images (buildah from --arch … scratch, private vfs storage) are pushed as
// <tag>-amd64 / <tag>-arm64 and listed by platform under <tag>; skopeo reads the list back.
// Then the same in two parts, as CI runners without shared storage do it: each architecture
// pushed from one storage, the lists made from the recorded digests in another, empty one.
// test/e2e/aarch64.test.ts does the same with a real arm64 build.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { silentReporter, type Reporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishInputError } from "../../src/publish/errors.js";
import { publishManifestList, publishManifestListOfPushed, pushArchitecture } from "../../src/publish/manifest-list.js";
import { makeFakeImage } from "./support/artifacts.js";
import { makeSignedSet } from "../support/signed-set.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import { signArtifactDir } from "../../src/sign/sign-dir.js";
import { directorySource } from "../../src/verify/sources.js";
import { verifySet } from "../../src/verify/verify.js";
import { registryTags, startRegistry, type TestRegistry } from "./support/registry.js";

const ctx = { step: "test", reporter: silentReporter };
let work: string;
let buildah: string[];
let registry: TestRegistry;
const refs: Record<string, string> = {};

/** A one-file image committed for this OCI architecture. */
async function tinyImage(arch: string): Promise<string> {
  const ref = `localhost/bootsmith-test/multi-${randomBytes(3).toString("hex")}:${arch}`;
  const container = (await run({ file: "buildah", args: [...buildah, "from", "--arch", arch, "scratch"] }, ctx)).stdout.trim();
  await writeFile(join(work, `${arch}.txt`), `${arch}\n`);
  await run({ file: "buildah", args: [...buildah, "copy", container, join(work, `${arch}.txt`), "/arch.txt"] }, ctx);
  await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, ref] }, ctx);
  return ref;
}

/** An artifact directory whose manifest names that image and architecture. */
async function artifactDir(arch: "x86_64" | "aarch64", ref: string, tags: string[]): Promise<string> {
  const image = await makeFakeImage({ dir: await mkdtemp(join(work, `art-${arch}-`)), name: `img-${arch}`, tags, sizes: {} });
  const manifest: Manifest = { ...image.manifest, arch, image: { ref } };
  await writeFile(join(image.dir, "manifest.json"), JSON.stringify(manifest));
  return image.dir;
}

/** Sign an artifact directory as a build with --sign-key does. */
async function signWith(dir: string, key: TestKey): Promise<void> {
  const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup: new CleanupStack() });
  try {
    await signArtifactDir(dir, signer, ctx);
  } finally {
    await signer.close();
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bootsmith-manifest-list-"));
  buildah = ["--root", join(work, "storage"), "--runroot", join(work, "run"), "--storage-driver", "vfs"];
  refs.amd64 = await tinyImage("amd64");
  refs.arm64 = await tinyImage("arm64");
  registry = await startRegistry(work);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await run({ file: "buildah", args: [...buildah, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

async function expectArm64RecordsItsImageAndTheLists(dir: string, repository: string): Promise<void> {
  const recorded = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
  expect(recorded.image.pushed?.map((p) => p.ref)).toEqual([
    `${repository}:1.0-arm64`,
    `${repository}:latest-arm64`,
    `${repository}:1.0`,
    `${repository}:latest`,
  ]);
}

interface Index {
  mediaType: string;
  manifests: { digest: string; platform: { architecture: string; os: string } }[];
}

describe("publishManifestList (docker-registry)", () => {
  it("pushes each architecture as <tag>-<arch> and one list per tag that skopeo shows with both platforms", async () => {
    const x86 = await artifactDir("x86_64", refs.amd64!, ["1.0", "latest"]);
    const arm = await artifactDir("aarch64", refs.arm64!, ["1.0", "latest"]);
    const repository = `${registry.address}/bootsmith/multi`;
    const { lists } = await publishManifestList(
      [await loadArtifactSet(x86), await loadArtifactSet(arm)],
      { type: "registry", repository, tlsVerify: false },
      {
        buildahGlobalArgs: buildah,
      },
    );

    expect(lists.map((l) => l.ref)).toEqual([`${repository}:1.0`, `${repository}:latest`]);
    for (const list of lists) {
      const raw = JSON.parse((await run({ file: "skopeo", args: ["inspect", "--raw", "--tls-verify=false", `docker://${list.ref}`] }, ctx)).stdout) as Index;
      expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      expect(raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
      // The list names exactly the per-architecture images pushed under <tag>-<arch>.
      for (const p of list.platforms) {
        const tagged = JSON.parse(
          (
            await run(
              {
                file: "skopeo",
                args: ["inspect", "--tls-verify=false", `docker://${repository}:${list.ref.split(":").pop()}-${p.arch === "x86_64" ? "amd64" : "arm64"}`],
              },
              ctx,
            )
          ).stdout,
        ) as { Digest: string; Architecture: string };
        expect(tagged.Digest).toBe(p.digest);
        expect(raw.manifests.find((m) => m.digest === p.digest)?.platform.architecture).toBe(tagged.Architecture);
      }
      // skopeo resolves the list to the platform asked for.
      const arm64 = JSON.parse(
        (await run({ file: "skopeo", args: ["inspect", "--override-arch", "arm64", "--tls-verify=false", `docker://${list.ref}`] }, ctx)).stdout,
      ) as { Architecture: string };
      expect(arm64.Architecture).toBe("arm64");
    }
    // Each set's manifest.json records its own image and the lists.
    await expectArm64RecordsItsImageAndTheLists(arm, repository);
  });

  it("signed sets: without a key their manifests are left as signed; with one the pushes are recorded and signed again", async () => {
    const key = await makeTestKey(work, "lists");
    const signedDir = async (arch: "x86_64" | "aarch64", ref: string, sign: boolean): Promise<string> => {
      const dir = await mkdtemp(join(work, `signed-${arch}-`));
      await makeSignedSet(dir, undefined, `signed-${arch}`, "3.0");
      const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
      await writeFile(join(dir, "manifest.json"), JSON.stringify({ ...manifest, arch, image: { ref } }));
      if (sign) await signWith(dir, key);
      return dir;
    };
    const repository = `${registry.address}/bootsmith/signed-multi`;
    const target = { type: "registry", repository, tlsVerify: false } as const;
    const sets = async (dirs: string[]) => Promise.all(dirs.map((d) => loadArtifactSet(d)));
    const verified = async (dir: string) => (await verifySet(directorySource(dir), { keyFile: key.publicFile })).ok;

    const unkeyed = [await signedDir("x86_64", refs.amd64!, true), await signedDir("aarch64", refs.arm64!, true)];
    const before = await Promise.all(unkeyed.map((d) => readFile(join(d, "manifest.json"), "utf8")));
    const warnings: string[] = [];
    const reporter: Reporter = {
      emit: (e) => {
        if (e.type === "message") warnings.push(e.text);
      },
      close: async () => {},
    };
    await publishManifestList(await sets(unkeyed), target, { buildahGlobalArgs: buildah, reporter });
    expect(await Promise.all(unkeyed.map((d) => readFile(join(d, "manifest.json"), "utf8")))).toEqual(before);
    expect(await Promise.all(unkeyed.map(verified))).toEqual([true, true]);
    expect(warnings.filter((w) => w.includes("the pushed digests are not recorded"))).toHaveLength(2);

    const keyed = [await signedDir("x86_64", refs.amd64!, true), await signedDir("aarch64", refs.arm64!, true)];
    const cleanup = new CleanupStack();
    const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup });
    try {
      await publishManifestList(await sets(keyed), target, { buildahGlobalArgs: buildah, signer });
    } finally {
      await signer.close();
    }
    const recorded = JSON.parse(await readFile(join(keyed[1]!, "manifest.json"), "utf8")) as Manifest;
    expect(recorded.image.pushed?.map((p) => p.ref)).toEqual([`${repository}:3.0-arm64`, `${repository}:3.0`]);
    expect(await Promise.all(keyed.map(verified))).toEqual([true, true]);
  });

  it("refuses two sets of one architecture, or tags that differ, before pushing anything", async () => {
    const a = await loadArtifactSet(await artifactDir("x86_64", refs.amd64!, ["1.0"]));
    const b = await loadArtifactSet(await artifactDir("x86_64", refs.amd64!, ["1.0"]));
    const c = await loadArtifactSet(await artifactDir("aarch64", refs.arm64!, ["2.0"]));
    const target = { type: "registry", repository: `${registry.address}/bootsmith/refused`, tlsVerify: false } as const;
    await expect(publishManifestList([a, b], target, { buildahGlobalArgs: buildah })).rejects.toThrow(
      /are both x86_64: give one artifact directory per architecture/,
    );
    await expect(publishManifestList([a, c], target, { buildahGlobalArgs: buildah })).rejects.toThrow(PublishInputError);
    await expect(publishManifestList([a], target, { buildahGlobalArgs: buildah })).rejects.toThrow(/at least two architectures/);
    const tags = await fetch(`http://${registry.address}/v2/bootsmith/refused/tags/list`);
    expect(tags.status).toBe(404);
  });

  it("in two parts: each architecture pushes its own image and records it; a join with empty storage lists the recorded digests", async () => {
    const x86 = await artifactDir("x86_64", refs.amd64!, ["1.0", "latest"]);
    const arm = await artifactDir("aarch64", refs.arm64!, ["1.0", "latest"]);
    const repository = `${registry.address}/bootsmith/parts`;
    const target = { type: "registry", repository, tlsVerify: false } as const;
    const recorded = new Map<string, string>();
    for (const dir of [x86, arm]) {
      const pushed = await pushArchitecture(await loadArtifactSet(dir), target, { buildahGlobalArgs: buildah });
      for (const image of pushed.values()) recorded.set(image.ref, image.digest);
    }
    // Only the per-architecture tags: the recipe's own tags are the join's.
    expect((await registryTags(repository)).sort()).toEqual(["1.0-amd64", "1.0-arm64", "latest-amd64", "latest-arm64"]);
    const own = JSON.parse(await readFile(join(arm, "manifest.json"), "utf8")) as Manifest;
    expect(own.image.pushed).toEqual([
      { ref: `${repository}:1.0-arm64`, digest: recorded.get(`${repository}:1.0-arm64`) },
      { ref: `${repository}:latest-arm64`, digest: recorded.get(`${repository}:latest-arm64`) },
    ]);

    // The join's runner: another storage, holding none of the images.
    const joinStorage = ["--root", join(work, "join-storage"), "--runroot", join(work, "join-run"), "--storage-driver", "vfs"];
    const { lists } = await publishManifestListOfPushed([await loadArtifactSet(x86), await loadArtifactSet(arm)], target, { buildahGlobalArgs: joinStorage });
    for (const list of lists) {
      const raw = JSON.parse((await run({ file: "skopeo", args: ["inspect", "--raw", "--tls-verify=false", `docker://${list.ref}`] }, ctx)).stdout) as Index;
      const tag = list.ref.split(":").pop()!;
      expect(raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture} ${m.digest}`).sort()).toEqual([
        `linux/amd64 ${recorded.get(`${repository}:${tag}-amd64`)}`,
        `linux/arm64 ${recorded.get(`${repository}:${tag}-arm64`)}`,
      ]);
      expect(list.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    // The lists were made in the join's storage and removed; no image was pulled there.
    const { stdout } = await run({ file: "buildah", args: [...joinStorage, "images", "--all", "--json"] }, ctx);
    expect(JSON.parse(stdout.trim() || "[]")).toEqual([]);
    await expectArm64RecordsItsImageAndTheLists(arm, repository);
  });

  it("in two parts: an architecture with no recorded push, or a recorded digest the registry lacks, fails the join before any tag changes", async () => {
    const repository = `${registry.address}/bootsmith/unjoined`;
    const target = { type: "registry", repository, tlsVerify: false } as const;
    const x86 = await artifactDir("x86_64", refs.amd64!, ["2.0"]);
    const arm = await artifactDir("aarch64", refs.arm64!, ["2.0"]);
    await pushArchitecture(await loadArtifactSet(x86), target, { buildahGlobalArgs: buildah });
    const joinStorage = ["--root", join(work, "join-storage-2"), "--runroot", join(work, "join-run-2"), "--storage-driver", "vfs"];
    const joinBoth = async () =>
      publishManifestListOfPushed([await loadArtifactSet(x86), await loadArtifactSet(arm)], target, { buildahGlobalArgs: joinStorage });
    await expect(joinBoth()).rejects.toThrow(/aarch64.*manifest\.json records no push of .*unjoined:2\.0-arm64/s);
    // A digest recorded but never pushed (a job that lied, or a registry that lost it).
    const manifest = JSON.parse(await readFile(join(arm, "manifest.json"), "utf8")) as Manifest;
    const missing = { ref: `${repository}:2.0-arm64`, digest: `sha256:${"0".repeat(64)}` };
    await writeFile(join(arm, "manifest.json"), JSON.stringify({ ...manifest, image: { ...manifest.image, pushed: [missing] } }));
    await expect(joinBoth()).rejects.toThrow(
      /cannot list aarch64's image .*unjoined@sha256:0{64} \(.*unjoined:2\.0-arm64, from .*manifest\.json\).*; no tag was changed/,
    );
    expect(await registryTags(repository)).toEqual(["2.0-amd64"]);
  });
});
