// List what an initramfs contains, without cpio/lsinitrd on the host. The kernel accepts a
// concatenation of cpio "newc" archives, each optionally compressed (dracut writes an
// uncompressed early-microcode archive first, then the main one compressed with gzip, zstd,
// xz…), so the file is walked segment by segment, detecting each by its magic bytes.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { run, type RunContext } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";
import { BootsmithError, EXIT } from "../core/errors.js";

/** dracut lists the modules it installed here, one per line. */
export const DRACUT_MODULES_TXT = "usr/lib/dracut/modules.txt";

export type Compression = "gzip" | "zstd" | "xz" | "lzma" | "bzip2" | "lz4" | "lzo";

export interface CpioEntry {
  /** Path without a leading "./" or "/". */
  readonly name: string;
  readonly mode: number;
  readonly size: number;
}

export interface InitramfsListing {
  readonly entries: readonly CpioEntry[];
  /** One per archive segment, in file order: "cpio" for uncompressed, else the compression. */
  readonly segments: readonly ("cpio" | Compression)[];
  /** Contents of the small files asked for in `wantContents`, by name. */
  readonly contents: ReadonlyMap<string, string>;
}

export class InitramfsError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failed, options);
    this.name = "InitramfsError";
  }
}

const MAGICS: readonly { kind: Compression; bytes: readonly number[] }[] = [
  { kind: "gzip", bytes: [0x1f, 0x8b] },
  { kind: "zstd", bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { kind: "xz", bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { kind: "bzip2", bytes: [0x42, 0x5a, 0x68] },
  // lz4 "legacy" frames are what the kernel (and dracut --lz4) use; the modern frame format too.
  { kind: "lz4", bytes: [0x02, 0x21, 0x4c, 0x18] },
  { kind: "lz4", bytes: [0x04, 0x22, 0x4d, 0x18] },
  { kind: "lzo", bytes: [0x89, 0x4c, 0x5a, 0x4f] },
  { kind: "lzma", bytes: [0x5d, 0x00, 0x00] },
];

/**
 * How each compressed segment is turned back into cpio by a host tool. run() carries text, not
 * binary streams, so the tool reads `<base><ext>` and writes `<base>` itself.
 */
export function decompressor(kind: Exclude<Compression, "gzip">): { tool: string; ext: string; args: (input: string, output: string) => string[] } {
  switch (kind) {
    case "zstd":
      return { tool: "zstd", ext: ".zst", args: (i, o) => ["-d", "-q", "-f", "-o", o, i] };
    case "xz":
      return { tool: "xz", ext: ".xz", args: (i) => ["-d", "-q", "-f", i] };
    case "lzma":
      return { tool: "xz", ext: ".lzma", args: (i) => ["--format=lzma", "-d", "-q", "-f", i] };
    case "bzip2":
      return { tool: "bzip2", ext: ".bz2", args: (i) => ["-d", "-q", "-f", i] };
    case "lz4":
      return { tool: "lz4", ext: ".lz4", args: (i, o) => ["-d", "-q", "-f", i, o] };
    case "lzo":
      return { tool: "lzop", ext: ".lzo", args: (i, o) => ["-d", "-q", "-f", "-o", o, i] };
    default: {
      const never: never = kind;
      throw new Error(`unhandled compression ${String(never)}`);
    }
  }
}

export function detectCompression(head: Buffer): Compression | "cpio" | undefined {
  if (head.subarray(0, 5).toString("latin1") === "07070") return "cpio";
  const m = MAGICS.find((x) => x.bytes.every((b, i) => head[i] === b));
  return m?.kind;
}

export interface ListOptions {
  /** File names whose contents (up to 64 KiB) should be captured, e.g. dracut's modules.txt. */
  readonly wantContents?: readonly string[];
  /** For decompressors other than gzip (run through run()). */
  readonly ctx?: RunContext;
}

export async function listInitramfs(file: string, options: ListOptions = {}): Promise<InitramfsListing> {
  const entries: CpioEntry[] = [];
  const segments: ("cpio" | Compression)[] = [];
  const contents = new Map<string, string>();
  const want = new Set(options.wantContents ?? []);
  const fh = await open(file, "r");
  let tmp: string | undefined;
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    while (pos < size) {
      pos = await skipZeros(fh, pos, size);
      if (pos >= size) break;
      const head = await readAt(fh, pos, 8);
      const kind = detectCompression(head);
      if (kind === undefined)
        throw new InitramfsError(`${file}: unknown data at byte ${pos} (magic ${head.toString("hex")}): not a cpio archive or a known compression`);
      segments.push(kind);
      if (kind === "cpio") {
        pos = await parseCpio(fh, pos, size, entries, want, contents, file);
        continue;
      }
      // The compressed part runs to the end of the file (further archives inside it are
      // concatenated before compression or as extra frames, which the decompressors handle).
      tmp ??= await mkdtemp(path.join(os.tmpdir(), "bootsmith-initramfs-"));
      const plain = path.join(tmp, `segment-${segments.length}.cpio`);
      await decompress(file, pos, kind, plain, options.ctx);
      const inner = await open(plain, "r");
      try {
        const innerSize = (await inner.stat()).size;
        let ipos = 0;
        while (ipos < innerSize) {
          ipos = await skipZeros(inner, ipos, innerSize);
          if (ipos >= innerSize) break;
          const ihead = await readAt(inner, ipos, 6);
          if (detectCompression(ihead) !== "cpio") throw new InitramfsError(`${file}: the ${kind} segment does not contain a cpio archive at byte ${ipos}`);
          ipos = await parseCpio(inner, ipos, innerSize, entries, want, contents, file);
        }
      } finally {
        await inner.close();
      }
      break;
    }
  } finally {
    await fh.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
  return { entries, segments, contents };
}

async function decompress(file: string, start: number, kind: Compression, out: string, ctx: RunContext | undefined): Promise<void> {
  if (kind === "gzip") {
    try {
      await pipeline(createReadStream(file, { start }), createGunzip(), createWriteStream(out));
    } catch (error) {
      throw new InitramfsError(`${file}: the gzip segment at byte ${start} is corrupt: ${(error as Error).message}`, { cause: error });
    }
    return;
  }
  const d = decompressor(kind);
  const packed = out + d.ext;
  await pipeline(createReadStream(file, { start }), createWriteStream(packed));
  await run({ file: d.tool, args: d.args(packed, out) }, ctx ?? { step: "preflight", reporter: silentReporter }, { capture: false, quiet: true });
  await rm(packed, { force: true });
}

async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, pos);
  return buf.subarray(0, bytesRead);
}

/** Archives are padded with zeros (dracut aligns to 512 bytes); skip them in 64 KiB reads. */
async function skipZeros(fh: FileHandle, pos: number, size: number): Promise<number> {
  while (pos < size) {
    const chunk = await readAt(fh, pos, 65536);
    const i = chunk.findIndex((b) => b !== 0);
    if (i >= 0) return pos + i;
    pos += chunk.length;
  }
  return pos;
}

const HEADER = 110;
const align4 = (n: number) => (n + 3) & ~3;

/** Walk one newc archive from `pos` to its TRAILER!!!; returns the offset after it. */
async function parseCpio(
  fh: FileHandle,
  start: number,
  size: number,
  entries: CpioEntry[],
  want: ReadonlySet<string>,
  contents: Map<string, string>,
  file: string,
): Promise<number> {
  let pos = start;
  for (;;) {
    const header = await readAt(fh, pos, HEADER);
    if (header.length < HEADER) throw new InitramfsError(`${file}: cpio archive truncated at byte ${pos}`);
    const magic = header.toString("latin1", 0, 6);
    if (magic !== "070701" && magic !== "070702")
      throw new InitramfsError(`${file}: bad cpio header magic ${JSON.stringify(magic)} at byte ${pos} (only newc archives are supported)`);
    const field = (i: number) => parseInt(header.toString("latin1", 6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const fileSize = field(6);
    const nameSize = field(11);
    const nameBuf = await readAt(fh, pos + HEADER, nameSize);
    const name = nameBuf.toString("utf8", 0, Math.max(0, nameSize - 1)).replace(/^\.?\//, "");
    const dataStart = align4(pos + HEADER + nameSize);
    if (name === "TRAILER!!!") return dataStart + align4(fileSize);
    entries.push({ name, mode, size: fileSize });
    if (want.has(name) && fileSize <= 65536) contents.set(name, (await readAt(fh, dataStart, fileSize)).toString("utf8"));
    pos = dataStart + align4(fileSize);
    if (pos > size) throw new InitramfsError(`${file}: cpio entry ${name} runs past the end of the data`);
  }
}

export class InitramfsKernelMismatchError extends BootsmithError {
  constructor(message: string) {
    super(message, EXIT.failed);
    this.name = "InitramfsKernelMismatchError";
  }
}

/** Check that an initramfs holds lib/modules/KVER: one made for another kernel cannot load its modules. */
export async function verifyInitramfsKernel(file: string, kver: string, options: ListOptions = {}): Promise<void> {
  const { entries } = await listInitramfs(file, options);
  const versions = new Set(entries.map((e) => /^(?:usr\/)?lib\/modules\/([^/]+)/.exec(e.name)?.[1]).filter((v): v is string => v !== undefined));
  if (!versions.has(kver)) {
    const found = versions.size > 0 ? `it has modules for ${[...versions].join(", ")}` : "it has no kernel modules at all";
    throw new InitramfsKernelMismatchError(
      `${file} does not match kernel ${kver}: ${found}; check boot.initramfs.args and any --kver the recipe passes to dracut`,
    );
  }
}
