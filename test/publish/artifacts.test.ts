// The artifact directory check that runs before anything is sent: every message names the file
// and field to fix.
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { PublishInputError } from "../../src/publish/errors.js";
import { loadImageDir } from "../../src/lifecycle/image-dir.js";
import { makeFakeImage } from "./support/artifacts.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function image() {
  const dir = await mkdtemp(join(tmpdir(), "bootsmith-artifacts-"));
  dirs.push(dir);
  return makeFakeImage({ dir, tags: ["1"], sizes: { kernel: 100, rootfs: 200 } });
}

describe("loadArtifactSet", () => {
  it("lists the artifacts present in role order with their recorded hashes", async () => {
    const img = await image();
    const set = await loadArtifactSet(img.dir);
    expect(set.artifacts.map((a) => [a.role, a.name, a.size, a.sha256])).toEqual([
      ["kernel", "vmlinuz", 100, img.sha256["vmlinuz"]],
      ["rootfs", "rootfs.squashfs", 200, img.sha256["rootfs.squashfs"]],
    ]);
  });

  it.each([
    ["a tag that is not a path component", (m: Record<string, unknown>) => ({ ...m, tags: ["../x"] }), /tag "\.\.\/x" must match/],
    ["no tags", (m: Record<string, unknown>) => ({ ...m, tags: [] }), /tags must list at least one tag/],
    ["a name with a slash", (m: Record<string, unknown>) => ({ ...m, name: "a/b" }), /name "a\/b" must match/],
    [
      "an artifact outside the directory",
      (m: Record<string, unknown>) => ({ ...m, artifacts: { kernel: { file: "../vmlinuz", sha256: "0".repeat(64), size: 100 } } }),
      /artifacts\.kernel\.file must be a file name/,
    ],
    [
      "a bad sha256",
      (m: Record<string, unknown>) => ({ ...m, artifacts: { kernel: { file: "vmlinuz", sha256: "XYZ", size: 100 } } }),
      /artifacts\.kernel\.sha256 must be 64 lowercase hex/,
    ],
    ["a newer schema version", (m: Record<string, unknown>) => ({ ...m, schemaVersion: 2 }), /schemaVersion 2 is newer than this bootsmith reads \(1\)/],
    ["a schema version that is no number", (m: Record<string, unknown>) => ({ ...m, schemaVersion: "1" }), /schemaVersion "1" is not valid/],
    [
      "no schema version, to publish",
      ({ schemaVersion: _, ...m }: Record<string, unknown>) => m,
      /manifest\.json: has no "schemaVersion" .*: add "schemaVersion": 1 at its top level .*, or rebuild the image$/,
    ],
  ])("rejects %s", async (_label, edit, message) => {
    const img = await image();
    await writeFile(join(img.dir, "manifest.json"), JSON.stringify(edit(img.manifest as unknown as Record<string, unknown>)));
    await expect(loadArtifactSet(img.dir)).rejects.toThrow(message);
  });

  it("names a missing or resized artifact and says to rebuild", async () => {
    const img = await image();
    await truncate(join(img.dir, "rootfs.squashfs"), 10);
    await expect(loadArtifactSet(img.dir)).rejects.toThrow(/rootfs\.squashfs: 10 bytes on disk but .*artifacts\.rootfs\.size says 200.*rebuild/);
    await rm(join(img.dir, "vmlinuz"));
    const error = await loadArtifactSet(img.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishInputError);
    expect((error as Error).message).toMatch(/vmlinuz: listed in .*artifacts\.kernel but missing or unreadable \(ENOENT\)/);
  });

  it("reads a manifest without schemaVersion (or image.ref) for commands that only read it; a newer version still not", async () => {
    const img = await image();
    const { schemaVersion: _, image: __, ...unversioned } = img.manifest;
    await writeFile(join(img.dir, "manifest.json"), JSON.stringify(unversioned));
    const set = await loadImageDir(img.dir, img.dir, { readOnly: true });
    expect(set.manifest.name).toBe(img.manifest.name);
    expect(set.artifacts.map((a) => a.role)).toEqual(["kernel", "rootfs"]);
    await writeFile(join(img.dir, "manifest.json"), JSON.stringify({ ...img.manifest, schemaVersion: 2 }));
    await expect(loadImageDir(img.dir, img.dir, { readOnly: true })).rejects.toThrow(/schemaVersion 2 is newer than this bootsmith reads/);
  });

  it("rejects a manifest that is not JSON", async () => {
    const img = await image();
    await writeFile(join(img.dir, "manifest.json"), "{ not json");
    await expect(loadArtifactSet(img.dir)).rejects.toThrow(/manifest\.json: not valid JSON/);
  });
});
