// Is this file a statically linked ELF executable? The host probe copies busybox into an empty
// container to try `buildah run`; a dynamically linked one would fail for lack of libc, not
// because isolation is broken, and the probe would blame the wrong thing.
import { open } from "node:fs/promises";

const PT_INTERP = 3;

export async function isStaticElf(path: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, "r");
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(64);
    await file.read(header, 0, 64, 0);
    // \x7fELF, 64-bit (class 2), little-endian (data 1): what amd64 binaries are.
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    await file.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      // A program interpreter (ld.so) means dynamic linking.
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return phnum > 0;
  } finally {
    await file.close();
  }
}

/**
 * The bytes of a named section of a 64-bit little-endian ELF file (x86_64 and aarch64 objects),
 * e.g. a kernel module's .modinfo; undefined when the file is no such ELF or has no such section.
 */
export function elfSection(elf: Buffer, name: string): Buffer | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > elf.length) return undefined;
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: elf.readUInt32LE(at), offset: Number(elf.readBigUInt64LE(at + 24)), size: Number(elf.readBigUInt64LE(at + 32)) };
  };
  const names = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = names.offset + h.name;
    const end = elf.indexOf(0, start);
    if (end < 0 || elf.toString("latin1", start, end) !== name) continue;
    return h.offset + h.size <= elf.length ? elf.subarray(h.offset, h.offset + h.size) : undefined;
  }
  return undefined;
}
