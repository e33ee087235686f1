// Local-directory publishing: layout, hashes, hard links for extra tags, skip-unchanged,
// replacement of a tag and a tampered artifact, with no staging directories left behind.
import { createHash } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishError } from "../../src/publish/errors.js";
import { publishToLocal } from "../../src/publish/local.js";
import { makeFakeImage } from "./support/artifacts.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bootsmith-local-"));
  dirs.push(dir);
  return dir;
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

describe("publishToLocal", () => {
  it("publishes every tag, hard-links extra tags and skips an unchanged republish", async () => {
    const out = await tempDir();
    const image = await makeFakeImage({ dir: await tempDir(), tags: ["1.0", "latest"], sizes: { kernel: 4096, initrd: 8192, rootfs: 3 << 20 } });
    const set = await loadArtifactSet(image.dir);

    const first = await publishToLocal(set, { type: "local", dir: out, publicBase: "http://10.0.2.2:8080/" });
    expect(first.transfers.map((t) => `${t.tag} ${t.action} ${t.file}`)).toEqual([
      "1.0 uploaded vmlinuz",
      "1.0 uploaded initramfs.img",
      "1.0 uploaded rootfs.squashfs",
      "1.0 uploaded manifest.json",
      "latest copied vmlinuz",
      "latest copied initramfs.img",
      "latest copied rootfs.squashfs",
      "latest uploaded manifest.json",
    ]);
    for (const tag of ["1.0", "latest"]) {
      // As readable as the image's directory, which mkdir made: a web server serving the target runs as another user.
      expect((await stat(join(out, "test-image", tag))).mode & 0o777, tag).toBe((await stat(join(out, "test-image"))).mode & 0o777);
      for (const file of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json"]) {
        expect(await sha256(join(out, "test-image", tag, file))).toBe(image.sha256[file]);
      }
    }
    const a = await stat(join(out, "test-image/1.0/rootfs.squashfs"));
    const b = await stat(join(out, "test-image/latest/rootfs.squashfs"));
    expect(b.ino).toBe(a.ino);
    expect(first.images[1]).toEqual({
      name: "test-image",
      tag: "latest",
      target: "local",
      urls: {
        kernel: "http://10.0.2.2:8080/test-image/latest/vmlinuz",
        initrd: "http://10.0.2.2:8080/test-image/latest/initramfs.img",
        rootfs: "http://10.0.2.2:8080/test-image/latest/rootfs.squashfs",
      },
      manifestUrl: "http://10.0.2.2:8080/test-image/latest/manifest.json",
    });

    const dirBefore = await stat(join(out, "test-image/1.0"));
    const second = await publishToLocal(set, { type: "local", dir: out });
    expect(second.transfers.every((t) => t.action === "skipped")).toBe(true);
    expect((await stat(join(out, "test-image/1.0"))).ino).toBe(dirBefore.ino);
    expect(second.images[0]?.urls.rootfs).toBe(pathToFileURL(join(out, "test-image/1.0/rootfs.squashfs")).href);
    expect((await readdir(join(out, "test-image"))).sort()).toEqual(["1.0", "latest"]);
  });

  it("replaces a tag whose content changed, keeping unchanged files by hard link", async () => {
    const out = await tempDir();
    const src = await tempDir();
    await makeFakeImage({ dir: src, tags: ["dev"], sizes: { kernel: 4096, rootfs: 1 << 20 } });
    await publishToLocal(await loadArtifactSet(src), { type: "local", dir: out });
    const kernelBefore = await stat(join(out, "test-image/dev/vmlinuz"));

    // A rebuild: same kernel, new rootfs.
    const rebuilt = await makeFakeImage({ dir: await tempDir(), tags: ["dev"], sizes: { rootfs: 1 << 20 } });
    const set = await loadArtifactSet(rebuilt.dir);
    const kernelRecord = (await loadArtifactSet(src)).manifest.artifacts.kernel!;
    const merged = {
      ...set,
      manifest: { ...set.manifest, artifacts: { ...set.manifest.artifacts, kernel: kernelRecord } },
      artifacts: [
        { role: "kernel" as const, name: "vmlinuz", path: join(src, "vmlinuz"), size: kernelRecord.size, sha256: kernelRecord.sha256 },
        ...set.artifacts,
      ],
    };
    const outcome = await publishToLocal(merged, { type: "local", dir: out });
    expect(outcome.transfers.map((t) => `${t.action} ${t.file}`)).toEqual(["skipped vmlinuz", "uploaded rootfs.squashfs", "uploaded manifest.json"]);
    expect((await stat(join(out, "test-image/dev/vmlinuz"))).ino).toBe(kernelBefore.ino);
    expect(await sha256(join(out, "test-image/dev/rootfs.squashfs"))).toBe(rebuilt.sha256["rootfs.squashfs"]);
    expect(await readdir(join(out, "test-image"))).toEqual(["dev"]);
  });

  it("refuses an artifact whose bytes no longer match the manifest and leaves nothing behind", async () => {
    const out = await tempDir();
    const image = await makeFakeImage({ dir: await tempDir(), tags: ["1"], sizes: { kernel: 4096, rootfs: 1 << 20 } });
    const set = await loadArtifactSet(image.dir);
    const file = await open(join(image.dir, "rootfs.squashfs"), "r+");
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, 1000);
    await file.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 1000);
    await file.close();
    const error = await publishToLocal(set, { type: "local", dir: out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).kind).toBe("checksum-mismatch");
    expect(await readdir(join(out, "test-image"))).toEqual([]);
  });
});
