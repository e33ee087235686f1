// Kernel module files made in tests: ELF64 objects with a .modinfo section, which is all the
// vermagic check and the SBOMs read (and, for vermagic, the kernel's loader).

/** A minimal ELF64 little-endian relocatable: section headers null, .modinfo, .shstrtab. */
export function moduleElf(modinfo: string): Buffer {
  const info = Buffer.from(modinfo, "latin1");
  const names = Buffer.from("\0.modinfo\0.shstrtab\0", "latin1");
  const infoOff = 64;
  const namesOff = infoOff + info.length;
  const shoff = Math.ceil((namesOff + names.length) / 8) * 8;
  const elf = Buffer.alloc(shoff + 3 * 64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // ELFCLASS64
  elf[5] = 1; // little-endian
  elf[6] = 1;
  elf.writeUInt16LE(1, 16); // ET_REL
  elf.writeUInt16LE(62, 18); // x86_64
  elf.writeBigUInt64LE(BigInt(shoff), 0x28);
  elf.writeUInt16LE(64, 0x34);
  elf.writeUInt16LE(64, 0x3a);
  elf.writeUInt16LE(3, 0x3c);
  elf.writeUInt16LE(2, 0x3e);
  info.copy(elf, infoOff);
  names.copy(elf, namesOff);
  const section = (i: number, name: number, type: number, offset: number, size: number) => {
    const at = shoff + i * 64;
    elf.writeUInt32LE(name, at);
    elf.writeUInt32LE(type, at + 4);
    elf.writeBigUInt64LE(BigInt(offset), at + 24);
    elf.writeBigUInt64LE(BigInt(size), at + 32);
  };
  section(1, 1, 1, infoOff, info.length);
  section(2, 10, 3, namesOff, names.length);
  return elf;
}
