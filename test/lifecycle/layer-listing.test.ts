// Layers applied in order to one listing, as a container runtime would unpack them: whiteouts
// delete, an opaque directory hides what lower layers had in it (not what its own layer adds), a
// file replaces a directory's tree, hard links list as their target's file, and only wanted
// files are kept or extracted. The layers are real gzip'd tars in a real OCI layout directory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { pack as tarPack, type Header } from "tar-stream";

type HeaderArgument = Partial<Header> & Pick<Header, "name">;
import { layerPath, walkLayers } from "../../src/lifecycle/layer-listing.js";
import type { OciDescriptor } from "../../src/lifecycle/oci-layout.js";

let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-layers-"));
  mkdirSync(path.join(work, "blobs", "sha256"), { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A gzip'd tar layer written into the layout as a blob. */
async function layer(entries: [HeaderArgument, string?][]): Promise<OciDescriptor> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const [header, body] of entries) p.entry(header, body ?? "");
  p.finalize();
  await read;
  const bytes = gzipSync(Buffer.concat(chunks));
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(path.join(work, "blobs", "sha256", hex), bytes);
  return { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${hex}`, size: bytes.length };
}

describe("walkLayers", () => {
  it("normalises tar names", () => {
    expect(layerPath("./usr/bin/x/")).toBe("/usr/bin/x");
    expect(layerPath("./")).toBe("");
  });

  it("applies layers in order with whiteouts, opaque directories, replacements and hard links", async () => {
    const lower = await layer([
      [{ name: "./etc/", type: "directory", mode: 0o755 }],
      [{ name: "./etc/motd", mode: 0o644, uid: 0, gid: 0 }, "lower\n"],
      [{ name: "./etc/gone", mode: 0o644 }, "x"],
      [{ name: "./opt/", type: "directory", mode: 0o755 }],
      [{ name: "./opt/old", mode: 0o600 }, "old"],
      [{ name: "./var/tree/", type: "directory", mode: 0o755 }],
      [{ name: "./var/tree/leaf", mode: 0o644 }, "leaf"],
      [{ name: "./bin/tool", mode: 0o4755, uid: 0, gid: 5 }, "#!tool"],
      [{ name: "./bin/tool-link", type: "link", linkname: "./bin/tool" }],
      [{ name: "./bin/sh", type: "symlink", linkname: "busybox" }],
      [{ name: "./usr/lib/bootsmith/manifest.json", mode: 0o644 }, '{"v":1}'],
    ]);
    const upper = await layer([
      [{ name: "./etc/.wh.gone", mode: 0o600 }, ""],
      [{ name: "./opt/.wh..wh..opq", mode: 0o600 }, ""],
      [{ name: "./opt/new", mode: 0o644 }, "new"],
      [{ name: "./var/tree", mode: 0o644 }, "now a file"],
      [{ name: "./etc/motd", mode: 0o600, uid: 1, gid: 2 }, "upper motd\n"],
      [{ name: "./usr/lib/bootsmith/manifest.json", mode: 0o644 }, '{"v":2}'],
      [{ name: "./boot/initramfs-live-1.img", mode: 0o644 }, "cpio bytes"],
    ]);
    const walk = await walkLayers(work, [lower, upper], {
      smallFiles: ["/usr/lib/bootsmith/manifest.json"],
      extract: /^\/boot\/initramfs-live-/,
      extractDir: work,
    });
    expect([...walk.listing.keys()].sort()).toEqual([
      "/bin/sh",
      "/bin/tool",
      "/bin/tool-link",
      "/boot/initramfs-live-1.img",
      "/etc",
      "/etc/motd",
      "/opt",
      "/opt/new",
      "/usr/lib/bootsmith/manifest.json",
      "/var/tree",
    ]);
    expect(walk.listing.has("/etc/gone")).toBe(false);
    expect(walk.listing.has("/opt/old")).toBe(false);
    expect(walk.listing.has("/var/tree/leaf")).toBe(false);
    expect(walk.listing.get("/var/tree")).toMatchObject({ type: "file", size: 10 });
    expect(walk.listing.get("/etc/motd")).toEqual({ type: "file", mode: 0o600, uid: 1, gid: 2, size: 11 });
    expect(walk.listing.get("/bin/tool-link")).toEqual(walk.listing.get("/bin/tool"));
    expect(walk.listing.get("/bin/tool")).toEqual({ type: "file", mode: 0o4755, uid: 0, gid: 5, size: 6 });
    expect(walk.listing.get("/bin/sh")).toEqual({ type: "symlink", mode: expect.any(Number), uid: 0, gid: 0, size: 7, target: "busybox" });
    expect(walk.smallFiles.get("/usr/lib/bootsmith/manifest.json")?.toString()).toBe('{"v":2}');
    const initrd = walk.extracted.get("/boot/initramfs-live-1.img")!;
    expect(readFileSync(initrd.file, "utf8")).toBe("cpio bytes");
    expect(initrd.sha256).toBe(createHash("sha256").update("cpio bytes").digest("hex"));
  });

  it("refuses a compression it cannot read, naming the layer", async () => {
    const zstd = { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", digest: `sha256:${"0".repeat(64)}`, size: 1 };
    await expect(walkLayers(work, [zstd])).rejects.toThrow(/layer sha256:0+ is application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/);
  });
});
