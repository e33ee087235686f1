// Read the squashfs superblock (the first 96 bytes): enough to know the compression the kernel
// will need to mount the live root, without unsquashfs.
import { open } from "node:fs/promises";
import { BootsmithError, EXIT } from "../core/errors.js";

/** Squashfs compression ids (superblock offset 20) and the kernel's names for them. */
export const SQUASHFS_COMPRESSIONS = {
  1: "gzip",
  2: "lzma",
  3: "lzo",
  4: "xz",
  5: "lz4",
  6: "zstd",
} as const;

export type SquashfsCompression = (typeof SQUASHFS_COMPRESSIONS)[keyof typeof SQUASHFS_COMPRESSIONS];

export interface SquashfsSuperblock {
  readonly compression: SquashfsCompression;
  readonly blockSize: number;
  readonly versionMajor: number;
  readonly bytesUsed: number;
}

export class SquashfsError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failed, options);
    this.name = "SquashfsError";
  }
}

const MAGIC = "hsqs";

export async function readSquashfsSuperblock(file: string): Promise<SquashfsSuperblock> {
  const fh = await open(file, "r");
  const buf = Buffer.alloc(96);
  let bytesRead: number;
  try {
    ({ bytesRead } = await fh.read(buf, 0, buf.length, 0));
  } finally {
    await fh.close();
  }
  if (bytesRead < 96 || buf.toString("latin1", 0, 4) !== MAGIC) {
    throw new SquashfsError(`${file}: not a squashfs image (no "${MAGIC}" magic in the first bytes)`);
  }
  const id = buf.readUInt16LE(20);
  const compression = (SQUASHFS_COMPRESSIONS as Readonly<Record<number, SquashfsCompression>>)[id];
  if (!compression) throw new SquashfsError(`${file}: unknown squashfs compression id ${id}`);
  return {
    compression,
    blockSize: buf.readUInt32LE(12),
    versionMajor: buf.readUInt16LE(28),
    bytesUsed: Number(buf.readBigUInt64LE(40)),
  };
}

/**
 * The kernel config calls gzip "zlib" (CONFIG_SQUASHFS_ZLIB) while mksquashfs calls it "gzip";
 * accept both spellings in a kernel's compressor list.
 */
export function kernelSupports(kernelList: readonly string[], compression: SquashfsCompression): boolean {
  const names = new Set(kernelList.map((c) => c.toLowerCase()));
  return compression === "gzip" ? names.has("gzip") || names.has("zlib") : names.has(compression);
}

/** What Debian's (and most distributions') kernels enable: CONFIG_SQUASHFS_{ZLIB,LZ4,LZO,XZ,ZSTD}. */
export const DEFAULT_KERNEL_SQUASHFS_COMPRESSORS: readonly string[] = ["zlib", "lz4", "lzo", "xz", "zstd"];
