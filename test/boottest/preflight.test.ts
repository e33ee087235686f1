import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { kernelFormat, preflight, preflightArtifactDir, sizeChecks, type PreflightResult } from "../../src/boottest/preflight.js";
import { readSquashfsSuperblock } from "../../src/boottest/squashfs.js";
import { writeCpio, type CpioFile } from "../../src/boottest/cpio-writer.js";
import { mainJobArtifacts, missingPrerequisites } from "../support/prerequisites.js";

const LIVE_PARAMS = "console=ttyS0 root=live:http://10.0.2.2:8080/rootfs.squashfs rd.live.overlay.overlayfs=1";

// What a dracut live initramfs holds (paths checked in a real Debian 12 dracut 059 image).
const LIVE_FILES: CpioFile[] = [
  { name: "usr/" },
  { name: "usr/sbin/" },
  { name: "usr/sbin/livenetroot", data: "#!/bin/sh\n", mode: 0o100755 },
  { name: "usr/sbin/dmsquash-live-root", data: "#!/bin/sh\n", mode: 0o100755 },
  { name: "usr/bin/curl", data: "ELF", mode: 0o100755 },
  { name: "usr/lib/modules/6.1.0-56-amd64/kernel/fs/squashfs/squashfs.ko", data: "ko" },
  { name: "usr/lib/dracut/modules.txt", data: "bash\nsystemd\nnetwork\nlivenet\ndmsquash-live\nbase\n" },
];
const PLAIN_FILES: CpioFile[] = [
  { name: "usr/lib/dracut/modules.txt", data: "bash\nsystemd\nbase\n" },
  { name: "usr/bin/bash", data: "ELF", mode: 0o100755 },
];
const MICROCODE: CpioFile[] = [{ name: "kernel/x86/microcode/GenuineIntel.bin", data: Buffer.alloc(1000, 7) }];

const byId = (r: PreflightResult, id: string) => r.checks.filter((c) => c.id === id);

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-preflight-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("listInitramfs", () => {
  it("lists an early uncompressed archive followed by a gzip one, and captures modules.txt", async () => {
    await writeFile(file("early+gzip.img"), Buffer.concat([writeCpio(MICROCODE), gzipSync(writeCpio(LIVE_FILES))]));
    const l = await listInitramfs(file("early+gzip.img"), { wantContents: ["usr/lib/dracut/modules.txt"] });
    expect(l.segments).toEqual(["cpio", "gzip"]);
    expect(l.entries.map((e) => e.name)).toEqual([MICROCODE[0]!.name, "usr", "usr/sbin", ...LIVE_FILES.slice(2).map((f) => f.name)]);
    expect(l.entries.find((e) => e.name === "usr/sbin")?.mode).toBe(0o40755);
    expect(l.contents.get("usr/lib/dracut/modules.txt")).toContain("livenet\n");
  });

  it.each([
    ["zstd", ["zstd", "-q", "-c"]],
    ["xz", ["xz", "-q", "-c", "--check=crc32"]],
  ])("decompresses a %s segment with the host tool", async (kind, argv) => {
    const packed = execFileSync(argv[0]!, argv.slice(1), { input: writeCpio(LIVE_FILES) });
    await writeFile(file(`${kind}.img`), Buffer.concat([writeCpio(MICROCODE), packed]));
    const l = await listInitramfs(file(`${kind}.img`));
    expect(l.segments).toEqual(["cpio", kind]);
    expect(l.entries.map((e) => e.name)).toContain("usr/sbin/livenetroot");
  });

  it("reads two concatenated uncompressed archives", async () => {
    await writeFile(file("two.cpio"), Buffer.concat([writeCpio(MICROCODE), writeCpio(PLAIN_FILES)]));
    const l = await listInitramfs(file("two.cpio"));
    expect(l.segments).toEqual(["cpio", "cpio"]);
    expect(l.entries).toHaveLength(3);
  });

  it("rejects data that is neither cpio nor a known compression", async () => {
    await writeFile(file("junk.img"), Buffer.from("this is not an initramfs at all"));
    await expect(listInitramfs(file("junk.img"))).rejects.toThrow(/unknown data at byte 0/);
  });

  it("rejects a truncated gzip segment", async () => {
    const gz = gzipSync(writeCpio(LIVE_FILES));
    await writeFile(file("trunc.img"), gz.subarray(0, gz.length - 40));
    await expect(listInitramfs(file("trunc.img"))).rejects.toThrow(/gzip segment at byte 0 is corrupt|truncated|past the end/);
  });
});

describe("preflight", () => {
  let xzRootfs: string;
  let gzipRootfs: string;

  beforeAll(async () => {
    const tree = file("tree");
    await mkdir(path.join(tree, "etc"), { recursive: true });
    await writeFile(path.join(tree, "etc", "hostname"), "node\n");
    xzRootfs = file("xz.squashfs");
    gzipRootfs = file("gzip.squashfs");
    execFileSync("mksquashfs", [tree, xzRootfs, "-comp", "xz", "-noappend", "-quiet", "-no-progress"]);
    execFileSync("mksquashfs", [tree, gzipRootfs, "-comp", "gzip", "-noappend", "-quiet", "-no-progress"]);
    await writeFile(file("live.img"), Buffer.concat([writeCpio(MICROCODE), gzipSync(writeCpio(LIVE_FILES))]));
    await writeFile(file("plain.img"), gzipSync(writeCpio(PLAIN_FILES)));
  });

  it("reads the squashfs compression from the superblock", async () => {
    expect((await readSquashfsSuperblock(xzRootfs)).compression).toBe("xz");
    expect((await readSquashfsSuperblock(gzipRootfs)).compression).toBe("gzip");
    await expect(readSquashfsSuperblock(file("live.img"))).rejects.toThrow(/not a squashfs image/);
  });

  it("passes a live initramfs with a supported squashfs, saying the kernel list was assumed", async () => {
    const r = await preflight({ initramfs: file("live.img"), rootfs: xzRootfs, params: LIVE_PARAMS });
    expect(r.ok).toBe(true);
    expect(byId(r, "initramfs-live-modules")).toEqual([
      expect.objectContaining({ status: "ok", message: expect.stringContaining("livenet and dmsquash-live") }),
    ]);
    expect(byId(r, "initramfs-squashfs-driver")[0]?.status).toBe("ok");
    expect(byId(r, "squashfs-compression")[0]).toMatchObject({ status: "ok", message: expect.stringContaining("assumed") });
  });

  it("fails when params use root=live: and the initramfs lacks livenet and dmsquash-live", async () => {
    const r = await preflight({ initramfs: file("plain.img"), rootfs: xzRootfs, params: LIVE_PARAMS });
    expect(r.ok).toBe(false);
    expect(byId(r, "initramfs-live-modules")[0]).toMatchObject({ status: "fail", message: expect.stringMatching(/lacks dracut's livenet and dmsquash-live/) });
  });

  it("does not require the live modules when params do not use root=live:", async () => {
    const r = await preflight({ initramfs: file("plain.img"), params: "root=/dev/nfs nfsroot=10.0.0.1:/srv" });
    expect(r.ok).toBe(true);
    expect(byId(r, "initramfs-live-modules")[0]?.message).toMatch(/not required/);
  });

  it("fails on livenet without curl", async () => {
    await writeFile(file("nocurl.img"), gzipSync(writeCpio(LIVE_FILES.filter((f) => f.name !== "usr/bin/curl"))));
    const r = await preflight({ initramfs: file("nocurl.img"), params: LIVE_PARAMS });
    expect(r.ok).toBe(false);
    expect(r.checks.some((c) => c.status === "fail" && /curl/.test(c.message))).toBe(true);
  });

  it("fails a squashfs compression the kernel does not support, and accepts zlib for gzip", async () => {
    const bad = await preflight({ initramfs: file("live.img"), rootfs: xzRootfs, params: LIVE_PARAMS, squashfsCompressors: ["zlib", "zstd"] });
    expect(bad.ok).toBe(false);
    expect(byId(bad, "squashfs-compression")[0]?.message).toMatch(/compressed with xz but the kernel's squashfs supports only zlib, zstd/);
    const good = await preflight({ initramfs: file("live.img"), rootfs: gzipRootfs, params: LIVE_PARAMS, squashfsCompressors: ["zlib", "zstd"] });
    expect(byId(good, "squashfs-compression")[0]).toMatchObject({ status: "ok", message: expect.stringContaining("kernel config recorded in manifest.json") });
  });

  it("fails an unreadable initramfs and a rootfs that is not squashfs", async () => {
    const r = await preflight({ initramfs: file("missing.img"), rootfs: file("live.img"), params: LIVE_PARAMS });
    expect(r.ok).toBe(false);
    expect(byId(r, "initramfs-live-modules")[0]?.message).toMatch(/cannot read the initramfs/);
    expect(byId(r, "squashfs-compression")[0]?.message).toMatch(/not a squashfs image/);
  });

  it("flags a kernel without the x86 boot header", async () => {
    await writeFile(file("vmlinuz"), Buffer.alloc(1024));
    const r = await preflight({ kernel: file("vmlinuz"), initramfs: file("live.img") });
    expect(byId(r, "kernel-format")[0]?.status).toBe("warn");
  });

  it("judges the kernel by the image's architecture: an arm64 Image boots aarch64, not x86_64, and the reverse", async () => {
    await writeFile(file("Image"), kernelHead({ 0x38: "ARM\x64", 0: "MZ" }));
    await writeFile(file("bzImage"), kernelHead({ 0x202: "HdrS" }));
    const check = async (kernel: string, arch: "x86_64" | "aarch64") =>
      byId(await preflight({ kernel: file(kernel), initramfs: file("live.img"), arch }), "kernel-format")[0];
    expect(await check("Image", "aarch64")).toMatchObject({ status: "ok", message: "Image is an arm64 Image with the EFI stub" });
    expect(await check("bzImage", "x86_64")).toMatchObject({ status: "ok", message: "bzImage is an x86 bzImage" });
    expect(await check("Image", "x86_64")).toMatchObject({
      status: "fail",
      message: expect.stringContaining("is an aarch64 kernel (arm64-efi-image) but the image is x86_64"),
    });
    expect(await check("bzImage", "aarch64")).toMatchObject({
      status: "fail",
      message: expect.stringContaining("is an x86_64 kernel (bzImage) but the image is aarch64"),
    });
  });
});

/** The first KiB of a kernel file with these strings at these offsets. */
function kernelHead(at: Record<number, string>): Buffer {
  const b = Buffer.alloc(1024);
  for (const [offset, text] of Object.entries(at)) b.write(text, Number(offset), "latin1");
  return b;
}

describe("kernelFormat", () => {
  it.each([
    [{ 0x202: "HdrS" }, "bzImage"],
    [{ 0x38: "ARM\x64" }, "arm64-image"],
    [{ 0: "MZ", 0x38: "ARM\x64" }, "arm64-efi-image"],
    [{ 0: "MZ\0\0zimg" }, "efi-zboot"],
    [{}, "unknown"],
  ] as const)("%j is %s", (at, format) => {
    expect(kernelFormat(kernelHead(at))).toBe(format);
  });
  it("a gzip stream (Debian's arm64 vmlinuz) is gzip", () => {
    expect(kernelFormat(gzipSync(Buffer.alloc(100)))).toBe("gzip");
  });
});

describe("sizeChecks", () => {
  const GiB = 1024 ** 3;
  it.each([
    [{ initramfsBytes: 60e6 }, "initramfs-size", "ok"],
    [{ initramfsBytes: 1.5 * GiB }, "initramfs-size", "warn"],
    [{ initramfsBytes: 4 * GiB }, "initramfs-size", "fail"],
    [{ rootfsBytes: 165e6 }, "rootfs-size", "ok"],
    [{ rootfsBytes: 165e6, nodeMemoryMiB: 2048 }, "rootfs-size", "ok"],
    [{ rootfsBytes: 1.2 * GiB, nodeMemoryMiB: 2048 }, "rootfs-size", "warn"],
    [{ rootfsBytes: 2 * GiB, nodeMemoryMiB: 2048 }, "rootfs-size", "fail"],
  ] as const)("%j -> %s %s", (sizes, id, status) => {
    expect(sizeChecks(sizes).find((c) => c.id === id)?.status).toBe(status);
  });
});

// The real dracut initramfs, when an artifact directory is provided (the e2e suite sets it).
const main = mainJobArtifacts(["initramfs.img"]);
const artifacts = main.dir;
describe.skipIf(missingPrerequisites("preflight.test (real initramfs)", [main]))("preflight on real artifacts", () => {
  it("passes the built image", async () => {
    const r = await preflightArtifactDir(artifacts!, { params: LIVE_PARAMS, nodeMemoryMiB: 2048 });
    expect(r.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(byId(r, "initramfs-live-modules")[0]?.message).toContain("modules.txt");
  });
});
