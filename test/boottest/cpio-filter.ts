// Test helper: rewrite a real initramfs's cpio archive (drop entries, edit files), how the tests
// make a "broken" initramfs from a real one (e.g. without dracut's livenet module).
import { cpioArchive, cpioEntry } from "../../src/boottest/cpio-writer.js";

const pad4 = (n: number) => (4 - (n % 4)) % 4;

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
    if (keep(name)) out.push(cpioEntry(name, mode, edit(name, data), ino++));
  }
  return cpioArchive(out);
}
