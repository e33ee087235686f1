// os-release: parsing, and IMAGE_ID/IMAGE_VERSION written through the distribution's symlink
// while staying inside the image root.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseOsRelease, readOsRelease, writeImageIdentity } from "../../src/builder/os-release.js";

let root: string;
let outside: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "bootsmith-osr-"));
  outside = mkdtempSync(path.join(tmpdir(), "bootsmith-osr-host-"));
  mkdirSync(path.join(root, "etc"));
  mkdirSync(path.join(root, "usr/lib"), { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("os-release", () => {
  it("parses quoted and unquoted values, ignoring comments", () => {
    expect(parseOsRelease('# c\nID=rocky\nNAME="Rocky \\"Linux\\""\nVERSION_ID=\'9.4\'\n\nbad line\n')).toEqual({
      ID: "rocky",
      NAME: 'Rocky "Linux"',
      VERSION_ID: "9.4",
    });
  });

  it("writes through /etc/os-release -> ../usr/lib/os-release, keeping the symlink and replacing earlier values", () => {
    writeFileSync(path.join(root, "usr/lib/os-release"), 'ID=debian\nVERSION_ID="12"\nIMAGE_ID=parent\nIMAGE_VERSION=0\n');
    symlinkSync("../usr/lib/os-release", path.join(root, "etc/os-release"));
    expect(writeImageIdentity(root, { id: "compute", version: '9.5 "x"' })).toBe("/usr/lib/os-release");
    expect(lstatSync(path.join(root, "etc/os-release")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(root, "etc/os-release"))).toBe("../usr/lib/os-release");
    expect(readOsRelease(root)).toEqual({ ID: "debian", VERSION_ID: "12", IMAGE_ID: "compute", IMAGE_VERSION: '9.5 "x"' });
    expect(readFileSync(path.join(root, "usr/lib/os-release"), "utf8").match(/IMAGE_ID=/g)).toHaveLength(1);
  });

  it("an absolute symlink to a host path resolves inside the image, never on the host", () => {
    const hostFile = path.join(outside, "os-release");
    writeFileSync(hostFile, "ID=host\n");
    symlinkSync(hostFile, path.join(root, "etc/os-release"));
    writeImageIdentity(root, { id: "img", version: "1" });
    expect(readFileSync(hostFile, "utf8")).toBe("ID=host\n");
    expect(readFileSync(path.join(root, hostFile), "utf8")).toContain('IMAGE_ID="img"');
  });

  it("an image without os-release gets /usr/lib/os-release", () => {
    expect(readOsRelease(root)).toEqual({});
    expect(writeImageIdentity(root, { id: "bare", version: "2" })).toBe("/usr/lib/os-release");
    expect(readOsRelease(root)).toEqual({ IMAGE_ID: "bare", IMAGE_VERSION: "2" });
  });
});
