// Package sizes from a dpkg database inside a real squashfs (the host's own status file, so the
// expected sizes come from dpkg-query, not from the parser under test). The rpm database path
// is covered by inspect.test.ts on a real build.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parseDpkgStatus, readPackageSizes } from "../../src/lifecycle/package-sizes.js";
import { listRootfs } from "../../src/lifecycle/rootfs-listing.js";

let work: string;
let squashfs: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-pkgsizes-"));
  const root = path.join(work, "root");
  mkdirSync(path.join(root, "var/lib/dpkg"), { recursive: true });
  copyFileSync("/var/lib/dpkg/status", path.join(root, "var/lib/dpkg/status"));
  squashfs = path.join(work, "rootfs.squashfs");
  await execa("mksquashfs", [root, squashfs, "-quiet", "-no-progress", "-comp", "gzip"]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("readPackageSizes", () => {
  it("reads dpkg's status out of the squashfs: every installed package with Installed-Size × 1024, largest first", async () => {
    const sizes = await readPackageSizes(squashfs, await listRootfs(squashfs));
    expect(sizes?.database).toBe("dpkg");
    const { stdout } = await execa("dpkg-query", ["-W", "-f=${db:Status-Status}\t${Package}\t${Architecture}\t${Installed-Size}\n"]);
    const installed = stdout
      .split("\n")
      .filter((l) => l.startsWith("installed\t"))
      .map((l) => l.split("\t"));
    expect(sizes!.packages).toHaveLength(installed.length);
    const bash = installed.find((f) => f[1] === "bash")!;
    expect(sizes!.packages.find((p) => p.name === "bash")).toMatchObject({ arch: bash[2], bytes: Number(bash[3]) * 1024 });
    const bytes = sizes!.packages.map((p) => p.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
  });

  it("is undefined for an image with no package database", async () => {
    const root = path.join(work, "empty");
    mkdirSync(path.join(root, "etc"), { recursive: true });
    const file = path.join(work, "empty.squashfs");
    await execa("mksquashfs", [root, file, "-quiet", "-no-progress"]);
    expect(await readPackageSizes(file, await listRootfs(file))).toBeUndefined();
  });
});

describe("parseDpkgStatus", () => {
  it("keeps installed packages only (removed ones leave config-files stanzas)", () => {
    const status = [
      "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:2.0-1\nInstalled-Size: 10\nDescription: x\n continued line",
      "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\nInstalled-Size: 99",
      "Package: b\nStatus: install ok installed\nArchitecture: all\nVersion: 3",
    ].join("\n\n");
    expect(parseDpkgStatus(status)).toEqual([
      { name: "a", arch: "amd64", version: "1:2.0-1", bytes: 10240 },
      { name: "b", arch: "all", version: "3", bytes: 0 },
    ]);
  });
});
