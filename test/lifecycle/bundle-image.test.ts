// export --with-image / import --to registry: with real buildah storage, skopeo, gpg and Debian's
// docker-registry on 127.0.0.1. One small committed image (labels as a build sets them) and a
// fake artifact set naming it; the bundle carries the image as an OCI layout, import pushes it
// by digest, signs each tag with --sign-key before tagging (a pull under a signedBy policy
// accepts it), and a truncated bundle, an extra file or a flipped byte in an image blob pushes
// nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { tarEntries, writeTar } from "../support/tar-entries.js";
import type { Manifest } from "../../src/core/manifest.js";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { pullHostArgs } from "../support/pull-host.js";
import { bootsmith } from "../support/cli.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { makeFakeImage, type FakeImage } from "../publish/support/artifacts.js";
import { registryTags, startRegistry, type TestRegistry } from "../publish/support/registry.js";

const ctx = { step: "test", reporter: silentReporter };
const LOCAL_REF = "localhost/bootsmith-test/air-img:1";
let work: string;
let storage: string[];
let registry: TestRegistry;
let key: TestKey;
let image: FakeImage;
let bundle: string;

const repo = (name: string) => `${registry.address}/bootsmith/${name}`;

/** An empty image committed as `ref` with bootsmith's recipe and tags labels, as a build of `recipe` would label it; resolves its id. */
async function commitEmptyImage(recipe: string, tags: string, ref: string, commitArgs: readonly string[] = []): Promise<string> {
  const container = (await run({ file: "buildah", args: [...storage, "from", "scratch"] }, ctx)).stdout.trim();
  await run(
    { file: "buildah", args: [...storage, "config", "--label", `io.bootsmith.recipe=${recipe}`, "--label", `io.bootsmith.tags=${tags}`, container] },
    ctx,
  );
  return (await run({ file: "buildah", args: [...storage, "commit", "-q", "--format", "oci", ...commitArgs, "--rm", container, ref] }, ctx)).stdout.trim();
}
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-bundle-image-"));
  storage = ["--root", path.join(work, "storage"), "--runroot", path.join(work, "run"), "--storage-driver", "vfs"];
  [registry, key] = await Promise.all([startRegistry(work), makeTestKey(work, "site")]);
  const container = (await run({ file: "buildah", args: [...storage, "from", "scratch"] }, ctx)).stdout.trim();
  await writeFile(path.join(work, "payload.bin"), randomBytes(256 << 10));
  await run({ file: "buildah", args: [...storage, "copy", container, path.join(work, "payload.bin"), "/payload.bin"] }, ctx);
  await run(
    { file: "buildah", args: [...storage, "config", "--label", "io.bootsmith.recipe=air-img", "--label", "io.bootsmith.tags=1,latest", container] },
    ctx,
  );
  const id = (await run({ file: "buildah", args: [...storage, "commit", "-q", "--format", "oci", "--rm", container, LOCAL_REF] }, ctx)).stdout.trim();
  image = await makeFakeImage({ name: "air-img", tags: ["1", "latest"], sizes: { kernel: 4096, initrd: 8192, rootfs: 65536 } });
  const manifest: Manifest = { ...image.manifest, image: { ref: LOCAL_REF, id } };
  writeFileSync(path.join(image.dir, "manifest.json"), JSON.stringify(manifest));
  bundle = path.join(work, "air.tar");
  const result = await bootsmith(["export", image.dir, "-o", bundle, "--with-image", ...storage], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });
  expect(result.exitCode, result.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await run({ file: "buildah", args: [...storage, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (image) rmSync(image.dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

const importTo = (file: string, name: string, ...extra: string[]) =>
  bootsmith(["import", file, "--to", `registry:${repo(name)}`, "--tls-verify=false", ...extra], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });

async function digestOf(ref: string): Promise<string | undefined> {
  const r = await run({ file: "skopeo", args: ["inspect", "--no-tags", "--tls-verify=false", `docker://${ref}`] }, ctx).catch(() => undefined);
  return r ? (JSON.parse(r.stdout) as { Digest: string }).Digest : undefined;
}

interface Index {
  files: { name: string; sha256: string; size: number }[];
  image?: { digest: string; source: string };
}

describe("export --with-image", () => {
  it("carries the build's image as an OCI layout under image/, every blob listed with its sha256 (its name)", async () => {
    const list = await tarEntries(bundle);
    const index = JSON.parse(list[0]![1].toString()) as Index;
    const names = list.map(([n]) => n);
    expect(names.slice(0, 5)).toEqual(["bundle.json", "manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs"]);
    expect(names.slice(5, 6)).toEqual(["image/oci-layout"]);
    expect(names.at(-1)).toBe("image/index.json");
    const blobs = list.filter(([n]) => n.startsWith("image/blobs/sha256/"));
    expect(blobs.length).toBeGreaterThanOrEqual(3); // manifest, config, one layer
    for (const [name, bytes] of list.slice(1))
      expect(
        index.files.find((f) => f.name === name),
        name,
      ).toEqual({ name, size: bytes.length, sha256: sha256(bytes) });
    for (const [name, bytes] of blobs) expect(sha256(bytes)).toBe(path.basename(name));
    const layoutIndex = JSON.parse(list.find(([n]) => n === "image/index.json")![1].toString()) as { manifests: { digest: string }[] };
    expect(index.image).toEqual({ digest: layoutIndex.manifests[0]!.digest, source: `containers-storage:${LOCAL_REF}` });
  });

  it("refuses a local image that is not the one the build committed (exit 1) or none (exit 2), and takes a pushed one with --image", async () => {
    const copy = await mkdtemp(path.join(work, "rebuilt-"));
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) writeFileSync(path.join(copy, f), readFileSync(path.join(image.dir, f)));
    const manifest = JSON.parse(readFileSync(path.join(image.dir, "manifest.json"), "utf8")) as Manifest;
    writeFileSync(path.join(copy, "manifest.json"), JSON.stringify({ ...manifest, image: { ...manifest.image, id: "f".repeat(64) } }));
    const env = { BOOTSMITH_WORK_DIR: path.join(work, "w") };
    const stale = await bootsmith(["export", copy, "-o", path.join(work, "stale.tar"), "--with-image", ...storage], { env });
    expect(stale.exitCode, stale.stderr).toBe(1);
    expect(stale.stderr).toContain(`${LOCAL_REF} is image`);
    expect(stale.stderr).toContain("but the build committed ffffffffffff");
    expect(existsSync(path.join(work, "stale.tar"))).toBe(false);
    // A graph leaf's build commits no image: nothing to carry.
    writeFileSync(path.join(copy, "manifest.json"), JSON.stringify({ ...manifest, image: { ref: manifest.image.ref, committed: false } }));
    const leaf = await bootsmith(["export", copy, "-o", path.join(work, "leaf.tar"), "--with-image", ...storage], { env });
    expect(leaf.exitCode, leaf.stderr).toBe(2);
    expect(leaf.stderr).toContain("committed no image (a graph leaf, or --no-commit)");

    await run(
      {
        file: "skopeo",
        args: [
          "copy",
          "--quiet",
          `containers-storage:[vfs@${storage[1]}+${storage[3]}]${LOCAL_REF}`,
          `docker://${repo("air-src")}:1`,
          "--dest-tls-verify=false",
        ],
      },
      ctx,
    );
    const pushed = await digestOf(`${repo("air-src")}:1`);
    const fromRegistry = path.join(work, "from-registry.tar");
    const result = await bootsmith(
      ["export", image.dir, "-o", fromRegistry, "--with-image", "--image", `registry:${repo("air-src")}:1`, "--tls-verify=false"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`image ${pushed}`);
    expect((JSON.parse((await tarEntries(fromRegistry))[0]![1].toString()) as Index).image).toEqual({
      digest: pushed,
      source: `docker://${repo("air-src")}:1`,
    });
    await rm(fromRegistry);
  });
});

describe("import --to registry:", () => {
  it("pushes the exported digest under every tag, signed per tag with --sign-key: a signedBy pull accepts it", async () => {
    const index = JSON.parse((await tarEntries(bundle))[0]![1].toString()) as Index;
    const lookaside = path.join(work, "lookaside");
    const result = await importTo(bundle, "air", "--sign-key", key.secretFile, "--lookaside", lookaside);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `air-img:1: verified ${index.files.length} files, pushed ${repo("air")}:1, ${repo("air")}:latest (${index.image!.digest}, signed)`,
    );
    expect((await registryTags(repo("air"))).sort()).toEqual(["1", "latest"]);
    expect(await digestOf(`${repo("air")}:1`)).toBe(index.image!.digest);
    expect(await digestOf(`${repo("air")}:latest`)).toBe(index.image!.digest);
    // A pull host that requires the site key's signature for the repository.
    const host = await pullHostArgs(await mkdtemp(path.join(work, "pull-host-")), repo("air"), key.publicFile, lookaside);
    for (const tag of ["1", "latest"]) {
      const out = await mkdtemp(path.join(work, "pulled-"));
      const pull = await run(
        {
          file: "skopeo",
          args: [...host, "copy", "--quiet", "--src-tls-verify=false", `docker://${repo("air")}:${tag}`, `dir:${out}`],
        },
        ctx,
      );
      expect(pull.exitCode).toBe(0);
    }
  });

  it("a tag holding a newer image is kept (the bundle's own tags pushed), unless --replace-newer", async () => {
    const index = JSON.parse((await tarEntries(bundle))[0]![1].toString()) as Index;
    // A later build of the image, already at the target as `latest`.
    await commitEmptyImage("air-img", "2,latest", "localhost/bootsmith-test/air-img:2");
    await run(
      { file: "buildah", args: [...storage, "push", "--tls-verify=false", "localhost/bootsmith-test/air-img:2", `docker://${repo("air-rollback")}:latest`] },
      ctx,
    );
    const newer = await digestOf(`${repo("air-rollback")}:latest`);
    expect(newer).not.toBe(index.image!.digest);

    const result = await importTo(bundle, "air-rollback");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/note: kept latest \(built [^)]+\): the target's tag holds a newer build than this bundle's/);
    expect(result.stdout).toContain(`pushed ${repo("air-rollback")}:1 (${index.image!.digest})`);
    expect(await digestOf(`${repo("air-rollback")}:1`)).toBe(index.image!.digest);
    expect(await digestOf(`${repo("air-rollback")}:latest`)).toBe(newer);

    const rollback = await importTo(bundle, "air-rollback", "--replace-newer");
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(await digestOf(`${repo("air-rollback")}:latest`)).toBe(index.image!.digest);
  });

  it("a tag holding another build committed in the same second (SOURCE_DATE_EPOCH) is kept: which is newer is unknown", async () => {
    // Two real commits with buildah commit --timestamp, as a build with SOURCE_DATE_EPOCH makes
    // them: both configs say the same created second, whenever they were committed.
    const epoch = "1764000000";
    const commit = (tags: string, ref: string) => commitEmptyImage("epoch-img", tags, ref, ["--timestamp", epoch]);
    const ref = "localhost/bootsmith-test/epoch-img:1";
    const id = await commit("1,latest", ref);
    const built = await makeFakeImage({ name: "epoch-img", tags: ["1", "latest"], sizes: { kernel: 4096, initrd: 4096, rootfs: 8192 } });
    try {
      writeFileSync(path.join(built.dir, "manifest.json"), JSON.stringify({ ...built.manifest, image: { ref, id } }));
      const epochBundle = path.join(work, "epoch.tar");
      const env = { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } };
      const exported = await bootsmith(["export", built.dir, "-o", epochBundle, "--with-image", ...storage], env);
      expect(exported.exitCode, exported.stderr).toBe(0);
      const index = JSON.parse((await tarEntries(epochBundle))[0]![1].toString()) as Index;
      await commit("2,latest", "localhost/bootsmith-test/epoch-img:2");
      await run(
        { file: "buildah", args: [...storage, "push", "--tls-verify=false", "localhost/bootsmith-test/epoch-img:2", `docker://${repo("air-epoch")}:latest`] },
        ctx,
      );
      const other = await digestOf(`${repo("air-epoch")}:latest`);
      expect(other).not.toBe(index.image!.digest);

      const result = await importTo(epochBundle, "air-epoch");
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toContain(
        "note: kept latest (built 2025-11-24T16:00:00Z, the same time as this bundle's build): the target's tag holds another build",
      );
      expect(await digestOf(`${repo("air-epoch")}:1`)).toBe(index.image!.digest);
      expect(await digestOf(`${repo("air-epoch")}:latest`)).toBe(other);
    } finally {
      rmSync(built.dir, { recursive: true, force: true });
    }
  });

  it("a truncated bundle, an extra file, a flipped byte in an image blob: exit 2, nothing pushed; an unreachable registry: exit 1", async () => {
    const list = await tarEntries(bundle);
    const env = (file: string) => importTo(file, "air-bad");

    const truncated = path.join(work, "truncated.tar");
    writeFileSync(truncated, readFileSync(bundle));
    truncateSync(truncated, Math.floor(readFileSync(bundle).length * 0.7));
    const cut = await env(truncated);
    expect(cut.exitCode, cut.stderr).toBe(2);
    expect(cut.stderr).toMatch(/truncated/);

    const extra = path.join(work, "extra.tar");
    const stray = Buffer.from("not listed");
    await writeTar(extra, [...list, [`image/blobs/sha256/${sha256(stray)}`, stray]]);
    const more = await env(extra);
    expect(more.exitCode, more.stderr).toBe(2);
    expect(more.stderr).toContain(`holds "image/blobs/sha256/${sha256(stray)}", which bundle.json does not list`);

    // The largest blob is the layer: one byte flipped in its middle.
    const flipped = path.join(work, "flipped.tar");
    const [layerName] = list.filter(([n]) => n.startsWith("image/blobs/")).sort((a, b) => b[1].length - a[1].length)[0]!;
    await writeTar(
      flipped,
      list.map(([n, b]) => {
        if (n !== layerName) return [n, b];
        const copy = Buffer.from(b);
        copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0xff;
        return [n, copy];
      }),
    );
    const bad = await env(flipped);
    expect(bad.exitCode, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(`${layerName} has sha256`);
    expect(bad.stderr).toContain("nothing was published");

    expect(await registryTags(repo("air-bad"))).toEqual([]);

    // A good bundle and a registry that does not answer: exit 1, naming it.
    const down = await bootsmith(["import", bundle, "--to", "registry:127.0.0.1:9/bootsmith/air", "--tls-verify=false"], {
      env: { BOOTSMITH_WORK_DIR: path.join(work, "w") },
    });
    expect(down.exitCode, down.stderr).toBe(1);
    expect(down.stderr).toContain("127.0.0.1:9");
  });

  it("a bundle without the image: exit 2, nothing pushed; a --with-image bundle to dir: publishes the artifacts and says the image was not", async () => {
    const plain = path.join(work, "plain.tar");
    expect((await bootsmith(["export", image.dir, "-o", plain])).exitCode).toBe(0);
    const refused = await importTo(plain, "air-plain");
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("carries no OCI image, so there is nothing to push to a registry; export it with --with-image");
    expect(await registryTags(repo("air-plain"))).toEqual([]);

    const target = path.join(work, "site");
    const toDir = await bootsmith(["import", bundle, "--to", `dir:${target}`], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });
    expect(toDir.exitCode, toDir.stderr).toBe(0);
    expect(toDir.stderr).toContain("was verified but not published: a dir: target holds the boot artifacts");
    expect(existsSync(path.join(target, "air-img", "1", "manifest.json"))).toBe(true);
    const unpacked = path.join(work, "unpacked");
    const toNew = await bootsmith(["import", bundle, "--to", unpacked]);
    expect(toNew.exitCode, toNew.stderr).toBe(0);
    expect(existsSync(path.join(unpacked, "image", "index.json"))).toBe(true);
    expect(toNew.stderr).toContain(`is in ${path.join(unpacked, "image")} as an OCI layout`);
  });
});
