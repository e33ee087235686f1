// What a rootfs.squashfs holds, from its directory table, without unpacking it: `unsquashfs
// -lln` prints one `ls -l`-style line per inode, which is parsed as it streams (a large image
// has hundreds of thousands of entries; only the parsed map is kept, never the text).
import { BootsmithError, EXIT } from "../core/errors.js";
import type { BuildEvent, Reporter } from "../exec/events.js";
import { isCommandError, run, type RunContext } from "../exec/run.js";

export type EntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

export interface RootfsEntry {
  readonly type: EntryType;
  /** Permission bits including setuid/setgid/sticky, e.g. 0o4755. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes for files and symlinks; directories' sizes are the squashfs directory table's. */
  readonly size: number;
  readonly target?: string;
  /** "major,minor" for device nodes. */
  readonly device?: string;
}

/** Absolute path in the image ("/etc/motd") → entry; the root directory itself is left out. */
export type RootfsListing = ReadonlyMap<string, RootfsEntry>;

export class RootfsListingError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failed, options);
  }
}

const TYPES: Readonly<Record<string, EntryType>> = { "-": "file", d: "dir", l: "symlink", c: "char", b: "block", p: "fifo", s: "socket" };

// `-rwsr-xr-x 0/0      1234 2026-12-01 14:48 /usr/bin/x` ; devices print `1,  3` as the size.
const LINE = /^([-dlcbps])([-rwxsStT]{9})\s+(\d+)\/(\d+)\s+(\d+|\d+,\s*\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d (.*)$/;

/** Parse one line of `unsquashfs -lln -d ""`; undefined for the root ("") and non-entry lines. */
export function parseListingLine(line: string): [string, RootfsEntry] | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const [, typeChar, perms, uid, gid, size, rest] = m as unknown as [string, string, string, string, string, string, string];
  const type = TYPES[typeChar]!;
  let name = rest;
  let target: string | undefined;
  if (type === "symlink") {
    const arrow = rest.indexOf(" -> ");
    if (arrow >= 0) {
      name = rest.slice(0, arrow);
      target = rest.slice(arrow + 4);
    }
  }
  if (name === "" || name === "/") return undefined;
  const device = size.includes(",") ? size.replace(/\s+/g, "") : undefined;
  return [
    name.startsWith("/") ? name : `/${name}`,
    {
      type,
      mode: permissionBits(perms),
      uid: Number(uid),
      gid: Number(gid),
      size: device ? 0 : Number(size),
      ...(target !== undefined ? { target } : {}),
      ...(device ? { device } : {}),
    },
  ];
}

/** `rwsr-xr-x` → 0o4755. */
export function permissionBits(perms: string): number {
  let mode = 0;
  const bit = (i: number, on: number) => {
    if (perms[i] !== "-" && perms[i] !== "S" && perms[i] !== "T") mode |= on;
  };
  bit(0, 0o400);
  bit(1, 0o200);
  bit(2, 0o100);
  bit(3, 0o040);
  bit(4, 0o020);
  bit(5, 0o010);
  bit(6, 0o004);
  bit(7, 0o002);
  bit(8, 0o001);
  if (perms[2] === "s" || perms[2] === "S") mode |= 0o4000;
  if (perms[5] === "s" || perms[5] === "S") mode |= 0o2000;
  if (perms[8] === "t" || perms[8] === "T") mode |= 0o1000;
  return mode;
}

export async function listRootfs(file: string, ctx: Pick<RunContext, "signal"> = {}): Promise<RootfsListing> {
  const entries = new Map<string, RootfsEntry>();
  // run() streams each output line to its reporter; the listing is built from those events and
  // the text is not kept (capture: false).
  const collector: Reporter = {
    emit(event: BuildEvent) {
      if (event.type !== "output" || event.stream !== "stdout") return;
      const parsed = parseListingLine(event.line);
      if (parsed) entries.set(parsed[0], parsed[1]);
    },
    close: async () => {},
  };
  try {
    await run(
      { file: "unsquashfs", args: ["-lln", "-d", "", file] },
      { step: "list-rootfs", reporter: collector, ...(ctx.signal ? { signal: ctx.signal } : {}) },
      { capture: false, quiet: true },
    );
  } catch (error) {
    throw new RootfsListingError(`${file}: cannot list the squashfs image: ${isCommandError(error) ? error.report : (error as Error).message}`, {
      cause: error,
    });
  }
  return entries;
}
