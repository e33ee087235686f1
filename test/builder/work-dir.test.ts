// The work root lives in a shared /var/tmp: it must be private, ours, and not a symbolic link,
// and files written in it are created new, never through a link.
import { afterEach, describe, expect, it } from "vitest";
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createWorkDir, writeNewFile } from "../../src/builder/work-dir.js";
import { UserError } from "../../src/core/errors.js";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(path.join(tmpdir(), "bootsmith-workdir-"));
  chmodSync(d, 0o755); // stands in for /var/tmp: others may look
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const mode = (p: string) => statSync(p).mode & 0o777;

describe("createWorkDir", () => {
  it("creates the work root and the build's directory 0700", () => {
    const root = path.join(scratch(), "bootsmith");
    const old = process.umask(0o022);
    try {
      createWorkDir(path.join(root, "t-1"));
    } finally {
      process.umask(old);
    }
    expect(mode(root)).toBe(0o700);
    expect(mode(path.join(root, "t-1"))).toBe(0o700);
  });

  it("tightens a work root of ours that others could read", () => {
    const root = path.join(scratch(), "bootsmith");
    mkdirSync(root, { mode: 0o755 });
    chmodSync(root, 0o755);
    createWorkDir(path.join(root, "t-1"));
    expect(mode(root)).toBe(0o700);
  });

  it("refuses a work root that is a symbolic link, and writes nothing where it points", () => {
    const parent = scratch();
    const elsewhere = path.join(parent, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(parent, "bootsmith"));
    const call = () => createWorkDir(path.join(parent, "bootsmith", "t-1"));
    expect(call).toThrow(UserError);
    expect(call).toThrow(
      `work root ${path.join(parent, "bootsmith")} is a symbolic link, which another user could point anywhere: remove it, or set BOOTSMITH_WORK_DIR to a directory of your own`,
    );
    expect(lstatSync(path.join(elsewhere)).nlink).toBe(2); // still empty
  });

  it("refuses a work root that another user owns", () => {
    const root = path.join(scratch(), "bootsmith");
    mkdirSync(root, { mode: 0o700 });
    chownSync(root, 65534, 65534); // nobody (the tests run as root, as CI does)
    expect(() => createWorkDir(path.join(root, "t-1"))).toThrow(
      `work root ${root} belongs to uid 65534, not to uid ${process.getuid!()} who runs this build, so that user could read or change what the build writes there: remove it, or set BOOTSMITH_WORK_DIR to a directory of your own`,
    );
  });

  it("refuses a build directory that already exists (someone prepared it)", () => {
    const root = path.join(scratch(), "bootsmith");
    mkdirSync(path.join(root, "t-1"), { recursive: true });
    expect(() => createWorkDir(path.join(root, "t-1"))).toThrow(/work directory .*t-1 already exists/);
  });
});

describe("writeNewFile", () => {
  it("creates the file with exactly the mode asked, whatever the umask", () => {
    const file = path.join(scratch(), "files", "0", "motd");
    const old = process.umask(0o077);
    try {
      writeNewFile(file, "inline secret\n", 0o600);
      writeNewFile(`${file}.repo`, "[r]\n", 0o644);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(file, "utf8")).toBe("inline secret\n");
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}.repo`)).toBe(0o644);
  });

  it("never writes through a symbolic link or over an existing file", () => {
    const dir = scratch();
    const host = path.join(dir, "host-file");
    writeFileSync(host, "host bytes\n");
    symlinkSync(host, path.join(dir, "planted"));
    expect(() => writeNewFile(path.join(dir, "planted"), "x", 0o600)).toThrow(/EEXIST|ELOOP/);
    expect(() => writeNewFile(host, "x", 0o600)).toThrow(/EEXIST/);
    expect(readFileSync(host, "utf8")).toBe("host bytes\n");
  });
});
