// Write cpio "newc" archives, the format the kernel unpacks initramfs images from. boot-test
// appends one as a second initrd (the check harness); the tests build synthetic initramfs
// images with it. newc is a 110-byte ASCII header per entry: small enough to write here rather
// than pull in an archiver library.

export interface CpioFile {
  readonly name: string;
  readonly data?: string | Buffer;
  /** Octal mode incl. type bits; default: regular file 0644, or 040755 when name ends with "/". */
  readonly mode?: number;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** One newc entry (header, NUL-terminated name, data, each padded to 4 bytes). */
export function cpioEntry(name: string, mode: number, data: Buffer, ino: number): Buffer {
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
    return cpioEntry(dir ? f.name.slice(0, -1) : f.name, f.mode ?? (dir ? 0o40755 : 0o100644), data, i + 1);
  });
  return cpioArchive(parts);
}

/** Entries made with cpioEntry, closed with the TRAILER!!! entry and padded to 512 bytes like cpio(1). */
export function cpioArchive(entries: readonly Buffer[]): Buffer {
  const body = Buffer.concat([...entries, cpioEntry("TRAILER!!!", 0, Buffer.alloc(0), 0)]);
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
