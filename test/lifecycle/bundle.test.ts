// bootsmith export / import through the built CLI: a bundle round-trips byte for byte (SBOM and
// signature files included) into a directory and a dir: target, and a bundle that is truncated
// (inside an entry and at an entry boundary), carries an extra file, or has one flipped byte is
// refused with exit 2 and nothing published. Bundles are re-packed with tar-stream to build the
// bad ones the way a damaged or tampered file would look.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { tarEntries, writeTar } from "../support/tar-entries.js";
import { bootsmith } from "../support/cli.js";
import { makeFakeImage, type FakeImage } from "../publish/support/artifacts.js";

let work: string;
let image: FakeImage;
let bundle: string;
const MiB = 1 << 20;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-bundle-"));
  image = await makeFakeImage({ name: "air", tags: ["1", "latest"], sizes: { kernel: MiB, initrd: 2 * MiB, rootfs: 9 * MiB + 123 } });
  writeFileSync(path.join(image.dir, "sbom.spdx.json"), '{"spdxVersion":"SPDX-2.3"}\n');
  writeFileSync(path.join(image.dir, "rootfs.squashfs.sig"), "signature bytes\n");
  writeFileSync(path.join(image.dir, "build.log"), "not carried\n");
  bundle = path.join(work, "air.tar");
  const result = await bootsmith(["export", image.dir, "-o", bundle]);
  expect(result.exitCode, result.stderr).toBe(0);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(image.dir, { recursive: true, force: true });
});

/** Nothing at all under a target directory: no half-published image. */
const isEmptyDir = (dir: string) => !existsSync(dir) || readdirSync(dir, { recursive: true }).length === 0;

describe("bootsmith export", () => {
  it("writes bundle.json first, then the manifest, the artifacts and the SBOM/signature files", async () => {
    const list = await tarEntries(bundle);
    expect(list.map(([n]) => n)).toEqual([
      "bundle.json",
      "manifest.json",
      "vmlinuz",
      "initramfs.img",
      "rootfs.squashfs",
      "rootfs.squashfs.sig",
      "sbom.spdx.json",
    ]);
    const index = JSON.parse(list[0]![1].toString()) as { name: string; files: { name: string; sha256: string; size: number }[] };
    expect(index.name).toBe("air");
    expect(index.files.find((f) => f.name === "rootfs.squashfs")).toEqual({
      name: "rootfs.squashfs",
      size: 9 * MiB + 123,
      sha256: image.sha256["rootfs.squashfs"],
    });
    expect(readdirSync(work).filter((n) => n.includes(".partial-"))).toEqual([]);
  });

  it("SBOMs the manifest lists as artifacts (as every build's does) are carried once, and the bundle imports", async () => {
    const built = await makeFakeImage({ name: "sbom", tags: ["1"], sizes: { kernel: 4096, initrd: 4096, rootfs: 8192 } });
    const sbom = Buffer.from('{"bomFormat":"CycloneDX"}\n');
    writeFileSync(path.join(built.dir, "sbom.cdx.json"), sbom);
    const { createHash } = await import("node:crypto");
    const manifest = {
      ...built.manifest,
      artifacts: {
        ...built.manifest.artifacts,
        sbomCycloneDx: { file: "sbom.cdx.json", sha256: createHash("sha256").update(sbom).digest("hex"), size: sbom.length },
      },
    };
    writeFileSync(path.join(built.dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const out = path.join(work, "sbom.tar");
    const exported = await bootsmith(["export", built.dir, "-o", out]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect((await tarEntries(out)).map(([n]) => n).filter((n) => n === "sbom.cdx.json")).toEqual(["sbom.cdx.json"]);
    const into = path.join(work, "sbom-unpacked");
    const imported = await bootsmith(["import", out, "--to", into]);
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(readFileSync(path.join(into, "sbom.cdx.json")).equals(sbom)).toBe(true);
    rmSync(built.dir, { recursive: true, force: true });
  });

  it("NAME:TAG is looked up under --from dir:ROOT; an existing output or a missing image is exit 2", async () => {
    const root = path.join(work, "root");
    const imported = await bootsmith(["import", bundle, "--to", `dir:${root}`], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });
    expect(imported.exitCode, imported.stderr).toBe(0);
    const again = await bootsmith(["export", "air:1", "--from", `dir:${root}`, "-o", path.join(work, "again.tar")]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("air:1, 5 files");
    const exists = await bootsmith(["export", "air:1", "--from", `dir:${root}`, "-o", path.join(work, "again.tar")]);
    expect(exists.exitCode).toBe(2);
    expect(exists.stderr).toContain("again.tar: already exists");
    const missing = await bootsmith(["export", "air:9", "--from", `dir:${root}`, "-o", path.join(work, "none.tar")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`${path.join(root, "air", "9")}: no such directory`);
  });

  it("-o where no file can be written (a file in the way of its directory): exit 2 naming -o, no crash", async () => {
    const blocker = path.join(work, "a-file");
    writeFileSync(blocker, "x");
    const out = path.join(blocker, "b.tar");
    const result = await bootsmith(["export", image.dir, "-o", out]);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain(`-o ${out}: cannot be written: cannot open ${out}.partial-`);
    expect(result.stderr).not.toContain("    at ");
  });

  it("an artifact changed after the build (same size, other bytes): exit 1, no bundle left", async () => {
    const copy = await makeFakeImage({ name: "changed", sizes: { kernel: 4096, rootfs: 2 * MiB } });
    const rootfs = path.join(copy.dir, "rootfs.squashfs");
    const bytes = readFileSync(rootfs);
    bytes[MiB] = bytes[MiB]! ^ 0xff;
    writeFileSync(rootfs, bytes);
    const out = path.join(work, "changed.tar");
    const result = await bootsmith(["export", copy.dir, "-o", out]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/rootfs\.squashfs: sha256 [0-9a-f]{64} does not match the manifest's/);
    expect(readdirSync(work).filter((n) => n.startsWith("changed.tar"))).toEqual([]);
    rmSync(copy.dir, { recursive: true, force: true });
  });
});

describe("bootsmith import", () => {
  it("into a new directory: the same bytes, SBOM and signature included", async () => {
    const into = path.join(work, "unpacked");
    const result = await bootsmith(["import", bundle, "--to", into]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("air:1: verified 6 files, unpacked into");
    for (const name of ["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs", "sbom.spdx.json", "rootfs.squashfs.sig"]) {
      expect(readFileSync(path.join(into, name)).equals(readFileSync(path.join(image.dir, name))), name).toBe(true);
    }
    expect(existsSync(path.join(into, "build.log"))).toBe(false);
    // The mode mkdir gives (the umask's), not mkdtemp's 0700: a web server may serve it as another user.
    mkdirSync(path.join(work, "plain"));
    expect(statSync(into).mode & 0o777).toBe(statSync(path.join(work, "plain")).mode & 0o777);
    const again = await bootsmith(["import", bundle, "--to", into]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(readdirSync(work).filter((n) => n.startsWith("unpacked.partial-"))).toEqual([]);
  });

  it("to a dir: target: every tag published, manifest.json included", async () => {
    const target = path.join(work, "published");
    const result = await bootsmith(["import", bundle, "--to", `dir:${target}`], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });
    expect(result.exitCode, result.stderr).toBe(0);
    for (const tag of ["1", "latest"])
      expect(readFileSync(path.join(target, "air", tag, "manifest.json")).equals(readFileSync(path.join(image.dir, "manifest.json")))).toBe(true);
    expect(readdirSync(path.join(work, "w"))).toEqual([]); // staging removed
  });

  it("an older bundle adds its own tags but leaves a tag holding a newer build, unless --replace-newer", async () => {
    const newer = await makeFakeImage({
      name: "air",
      tags: ["2", "latest"],
      builtAt: "2026-11-27T00:00:00Z",
      sizes: { kernel: 4096, initrd: 4096, rootfs: 8192 },
    });
    const newerBundle = path.join(work, "air-2.tar");
    const target = path.join(work, "rollback");
    const env = { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } };
    const stored = (tag: string) => readFileSync(path.join(target, "air", tag, "manifest.json"));
    try {
      expect((await bootsmith(["export", newer.dir, "-o", newerBundle])).exitCode).toBe(0);
      expect((await bootsmith(["import", newerBundle, "--to", `dir:${target}`], env)).exitCode).toBe(0);
      const old = await bootsmith(["import", bundle, "--to", `dir:${target}`], env);
      expect(old.exitCode, old.stderr).toBe(0);
      expect(old.stderr).toContain(
        "note: kept latest (built 2026-11-27T00:00:00Z): the target's tag holds a newer build than this bundle's (built 2026-11-26T00:00:00Z); pass --replace-newer",
      );
      expect(stored("1").equals(readFileSync(path.join(image.dir, "manifest.json")))).toBe(true);
      expect(stored("latest").equals(readFileSync(path.join(newer.dir, "manifest.json")))).toBe(true);
      // Importing the newer bundle again moves nothing backwards and re-publishes its own tags.
      const again = await bootsmith(["import", newerBundle, "--to", `dir:${target}`], env);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).not.toContain("kept");
      const rollback = await bootsmith(["import", bundle, "--to", `dir:${target}`, "--replace-newer"], env);
      expect(rollback.exitCode, rollback.stderr).toBe(0);
      expect(stored("latest").equals(readFileSync(path.join(image.dir, "manifest.json")))).toBe(true);
      // Every tag holds a newer build: nothing is published, and stdout says so.
      /** A dir: target under `name` holding another build of air:1 and air:latest, made at `builtAt`. */
      const targetHolding = async (name: string, builtAt: string, rootfsSize: number) => {
        const dir = path.join(work, name);
        const other = await makeFakeImage({ name: "air", tags: ["1", "latest"], builtAt, sizes: { kernel: 4096, initrd: 4096, rootfs: rootfsSize } });
        expect((await bootsmith(["publish", other.dir, "--to", `dir:${dir}`])).exitCode).toBe(0);
        rmSync(other.dir, { recursive: true, force: true });
        return dir;
      };
      const ahead = await targetHolding("ahead", "2026-11-28T00:00:00Z", 8192);
      const none = await bootsmith(["import", bundle, "--to", `dir:${ahead}`], env);
      expect(none.exitCode, none.stderr).toBe(0);
      expect(none.stdout).toContain(`nothing published to dir:${ahead}: every tag holds a newer build than this bundle's`);
      expect(readFileSync(path.join(ahead, "air", "1", "manifest.json"), "utf8")).toContain("2026-11-28T00:00:00Z");
      // Another build of the same time (SOURCE_DATE_EPOCH): not known to be newer, and the summary does not say it is.
      const sameTime = await targetHolding("same-time", "2026-11-26T00:00:00Z", 4096);
      const same = await bootsmith(["import", bundle, "--to", `dir:${sameTime}`], env);
      expect(same.exitCode, same.stderr).toBe(0);
      expect(same.stdout).toContain(`nothing published to dir:${sameTime}: every tag holds another build, not known to be older than this bundle's`);
    } finally {
      rmSync(newer.dir, { recursive: true, force: true });
    }
  });

  const refused = async (bad: string, message: RegExp) => {
    const target = path.join(work, `target-${path.basename(bad)}`);
    const result = await bootsmith(["import", bad, "--to", `dir:${target}`], { env: { BOOTSMITH_WORK_DIR: path.join(work, "w") } });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain("nothing was published");
    expect(isEmptyDir(target)).toBe(true);
    expect(readdirSync(path.join(work, "w"))).toEqual([]);
  };

  it("truncated inside the rootfs: exit 2, nothing published", async () => {
    const bad = path.join(work, "cut-inside.tar");
    writeFileSync(bad, readFileSync(bundle));
    truncateSync(bad, statSync(bundle).size - 5 * MiB);
    await refused(bad, /not a complete tar archive \(Unexpected end of data\): truncated or damaged/);
  });

  it("truncated at an entry boundary (the last files missing): exit 2, nothing published", async () => {
    const bad = path.join(work, "cut-boundary.tar");
    const list = await tarEntries(bundle);
    await writeTar(bad, list.slice(0, 4));
    await refused(bad, /ends before rootfs\.squashfs, rootfs\.squashfs\.sig, sbom\.spdx\.json \(listed in bundle\.json\): the bundle is truncated/);
  });

  it("an extra file: exit 2, nothing published", async () => {
    const bad = path.join(work, "extra.tar");
    const list = await tarEntries(bundle);
    await writeTar(bad, [...list.slice(0, 3), ["evil.sh", Buffer.from("#!/bin/sh\n")], ...list.slice(3)]);
    await refused(bad, /holds "evil\.sh", which bundle\.json does not list: the bundle was altered/);
  });

  it("one flipped byte in the rootfs: exit 2 naming the file and both digests, nothing published", async () => {
    const bad = path.join(work, "flipped.tar");
    const bytes = readFileSync(bundle);
    const at = bytes.length - 1024 - 3 * MiB; // inside rootfs.squashfs (the last large entry)
    bytes[at] = bytes[at]! ^ 0x01;
    writeFileSync(bad, bytes);
    await refused(bad, /rootfs\.squashfs has sha256 [0-9a-f]{64}, but bundle\.json says [0-9a-f]{64}: the bundle is damaged/);
  });

  it("a manifest that disagrees with bundle.json: exit 2", async () => {
    const bad = path.join(work, "manifest-mismatch.tar");
    const list = await tarEntries(bundle);
    const index = JSON.parse(list[0]![1].toString()) as { files: { name: string; size: number; sha256: string }[] };
    const vmlinuz = Buffer.alloc(MiB, 7);
    const { createHash } = await import("node:crypto");
    const forged = {
      ...index,
      files: index.files.map((f) => (f.name === "vmlinuz" ? { ...f, sha256: createHash("sha256").update(vmlinuz).digest("hex") } : f)),
    };
    await writeTar(
      bad,
      list.map(([n, b]): [string, Buffer] => (n === "bundle.json" ? [n, Buffer.from(JSON.stringify(forged))] : n === "vmlinuz" ? [n, vmlinuz] : [n, b])),
    );
    await refused(bad, /manifest\.json lists vmlinuz \(sha256 [0-9a-f]{12}…, 1048576 bytes\) but the bundle carries sha256 [0-9a-f]{12}…/);
  });

  it("not a bundle, a missing file, a registry target for a bundle without the image: exit 2", async () => {
    const notBundle = path.join(work, "plain.tar");
    await writeTar(notBundle, [["hello.txt", Buffer.from("hi")]]);
    const r1 = await bootsmith(["import", notBundle, "--to", path.join(work, "x1")]);
    expect(r1.exitCode).toBe(2);
    expect(r1.stderr).toContain('the first entry is "hello.txt", not bundle.json: not a bootsmith bundle');
    const r2 = await bootsmith(["import", path.join(work, "nope.tar"), "--to", path.join(work, "x2")]);
    expect(r2.exitCode).toBe(2);
    expect(r2.stderr).toContain("nope.tar: no such file");
    const r3 = await bootsmith(["import", bundle, "--to", "registry:127.0.0.1:9/x"]);
    expect(r3.exitCode).toBe(2);
    expect(r3.stderr).toContain("carries no OCI image, so there is nothing to push to a registry");
    expect(existsSync(path.join(work, "x1"))).toBe(false);
  });
});
