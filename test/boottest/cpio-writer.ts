// Test helper: write cpio "newc" archives (what dracut and the kernel use) so the initramfs reader
// and the preflight can be tested on small synthetic images.

export interface CpioFile {
  readonly name: string;
  readonly data?: string | Buffer;
  /** Octal mode incl. type bits; default: regular file 0644, or 040755 when name ends with "/". */
  readonly mode?: number;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function entry(name: string, mode: number, data: Buffer, ino: number): Buffer {
  const nameBuf = Buffer.from(name + "\0");
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBuf.length, 0];
  const header = "070701" + fields.map((f) => f.toString(16).padStart(8, "0")).join("");
  const headerAndName = Buffer.concat([Buffer.from(header, "latin1"), nameBuf]);
  return Buffer.concat([headerAndName, Buffer.alloc(pad4(headerAndName.length)), data, Buffer.alloc(pad4(data.length))]);
}

export function writeCpio(files: readonly CpioFile[]): Buffer {
  const parts = files.map((f, i) => {
    const dir = f.name.endsWith("/");
    const data = f.data === undefined ? Buffer.alloc(0) : Buffer.from(f.data);
    return entry(dir ? f.name.slice(0, -1) : f.name, f.mode ?? (dir ? 0o40755 : 0o100644), data, i + 1);
  });
  const body = Buffer.concat([...parts, entry("TRAILER!!!", 0, Buffer.alloc(0), 0)]);
  // like dracut/cpio: pad the archive to a 512-byte boundary
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/**
 * Rewrite one newc archive stream, dropping entries and editing files: how the tests make a
 * "broken" initramfs from a real one (e.g. without dracut's livenet module).
 */
export function filterCpio(archive: Buffer, keep: (name: string) => boolean, edit: (name: string, data: Buffer) => Buffer = (_n, d) => d): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  let ino = 1;
  for (;;) {
    const header = archive.toString("latin1", pos, pos + 110);
    if (!header.startsWith("07070")) throw new Error(`bad cpio header at ${pos}`);
    const field = (i: number) => parseInt(header.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = archive.toString("utf8", pos + 110, pos + 110 + nameSize - 1);
    const dataStart = pos + 110 + nameSize + pad4(110 + nameSize);
    const data = archive.subarray(dataStart, dataStart + size);
    pos = dataStart + size + pad4(size);
    if (name === "TRAILER!!!") break;
    if (keep(name)) out.push(entry(name, mode, edit(name, data), ino++));
  }
  const body = Buffer.concat([...out, entry("TRAILER!!!", 0, Buffer.alloc(0), 0)]);
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
