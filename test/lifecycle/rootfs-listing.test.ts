// The rootfs listing (unsquashfs -lln, streamed) and the file diff, on two small squashfs images
// made with the real mksquashfs: a file whose size, mode and owner change, a symlink whose target
// changes, a file added and one removed, a device node, a setuid file and a name with " -> ".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { listRootfs, parseListingLine, permissionBits } from "../../src/lifecycle/rootfs-listing.js";
import { diffRootfs } from "../../src/lifecycle/image-diff.js";

let work: string;

async function squash(name: string, populate: (root: string) => void): Promise<string> {
  const root = path.join(work, name);
  mkdirSync(root);
  populate(root);
  const image = path.join(work, `${name}.squashfs`);
  await execa("mksquashfs", [root, image, "-quiet", "-noappend", "-no-progress"]);
  return image;
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-listing-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("rootfs listing", () => {
  it("parses modes, owners, sizes, link targets and device nodes", () => {
    expect(permissionBits("rwsr-xr-x")).toBe(0o4755);
    expect(permissionBits("rwxrwxrwt")).toBe(0o1777);
    expect(permissionBits("rw-r-Sr--")).toBe(0o2644);
    expect(parseListingLine("lrwxrwxrwx 0/0                       7 2026-12-01 14:48 /bin -> usr/bin")).toEqual([
      "/bin",
      { type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 7, target: "usr/bin" },
    ]);
    expect(parseListingLine("crw-r--r-- 0/0                   1,  3 2026-12-01 14:48 /dev/null")).toEqual([
      "/dev/null",
      { type: "char", mode: 0o644, uid: 0, gid: 0, size: 0, device: "1,3" },
    ]);
    expect(parseListingLine("drwxr-xr-x 0/0                      62 2026-12-01 14:48 ")).toBeUndefined();
    expect(parseListingLine("Parallel unsquashfs: Using 2 processors")).toBeUndefined();
  });

  it("two real images: added, removed, and changed in size, mode, owner, link target", async () => {
    const a = await squash("a", (r) => {
      mkdirSync(path.join(r, "etc"));
      writeFileSync(path.join(r, "etc/motd"), "hello\n");
      writeFileSync(path.join(r, "etc/gone"), "x");
      writeFileSync(path.join(r, "etc/same"), "same");
      symlinkSync("motd", path.join(r, "etc/link"));
      writeFileSync(path.join(r, "a -> b"), "tricky name");
    });
    const b = await squash("b", (r) => {
      mkdirSync(path.join(r, "etc"));
      writeFileSync(path.join(r, "etc/motd"), "hello, world\n");
      chmodSync(path.join(r, "etc/motd"), 0o600);
      chownSync(path.join(r, "etc/motd"), 1000, 100);
      writeFileSync(path.join(r, "etc/same"), "same");
      symlinkSync("same", path.join(r, "etc/link"));
      writeFileSync(path.join(r, "etc/new"), "new");
      chmodSync(path.join(r, "etc/new"), 0o4755);
      writeFileSync(path.join(r, "a -> b"), "tricky name");
    });
    const [la, lb] = await Promise.all([listRootfs(a), listRootfs(b)]);
    expect(la.get("/a -> b")).toMatchObject({ type: "file", size: 11 });
    expect(lb.get("/etc/new")).toMatchObject({ type: "file", mode: 0o4755 });
    const diff = diffRootfs(la, lb);
    expect(diff.added).toEqual(["/etc/new"]);
    expect(diff.removed).toEqual(["/etc/gone"]);
    expect(diff.changed).toEqual([
      { path: "/etc/link", target: { from: "motd", to: "same" } },
      { path: "/etc/motd", size: { from: 6, to: 13 }, mode: { from: "0644", to: "0600" }, owner: { from: "0:0", to: "1000:100" } },
    ]);
  });

  it("a file that is not a squashfs image: a clear error with unsquashfs's words", async () => {
    const bogus = path.join(work, "bogus.squashfs");
    writeFileSync(bogus, "not squashfs");
    await expect(listRootfs(bogus)).rejects.toThrow(
      /bogus\.squashfs: cannot list the squashfs image: \[list-rootfs\] unsquashfs exited with code 1[\s\S]*last output:/,
    );
  });
});
