// Reproducibility as the README states it: the same recipe built twice with the same
// SOURCE_DATE_EPOCH gives the same rootfs.squashfs and initramfs bytes (the fixture dracut, as
// real dracut, with --reproducible). Real buildah, host dnf, the fixture RPM repository and
// mksquashfs; the two builds use separate output, work and package cache directories, as two
// build hosts would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import type { Manifest } from "../../src/core/manifest.js";

const RECIPE = path.join(REPO_ROOT, "test/fixtures/build/fixture-live.yaml");
let work: string;
let repo: FixtureRepo;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-repro-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

async function buildOnce(name: string): Promise<{ out: string; manifest: Manifest }> {
  const out = path.join(work, name);
  const env = {
    ...buildEnv(work),
    BOOTSMITH_WORK_DIR: path.join(work, `work-${name}`),
    BOOTSMITH_CACHE_DIR: path.join(work, `cache-${name}`),
    SOURCE_DATE_EPOCH: "1700000000",
  };
  const result = await bootsmith(["build", RECIPE, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish", "--progress", "plain"], { env });
  expect(result.exitCode, result.stderr).toBe(0);
  return { out, manifest: JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest };
}

/** unsquashfs -lls lines (mode, owner, size, time, name) of the entries whose listing differs. */
async function listingDiff(a: string, b: string): Promise<string[]> {
  const list = async (f: string) => new Set((await execa("unsquashfs", ["-lls", "-d", "", f])).stdout.split("\n"));
  const [la, lb] = [await list(a), await list(b)];
  return [...[...la].filter((l) => !lb.has(l)).map((l) => `- ${l}`), ...[...lb].filter((l) => !la.has(l)).map((l) => `+ ${l}`)];
}

/** Relative paths of regular files whose bytes differ between two squashfs images with equal listings. */
async function contentDiff(a: string, b: string): Promise<string[]> {
  const [da, db] = [path.join(work, "x-a"), path.join(work, "x-b")];
  await execa("unsquashfs", ["-q", "-n", "-d", da, a]);
  await execa("unsquashfs", ["-q", "-n", "-d", db, b]);
  const { stdout } = await execa("diff", ["-rq", "--no-dereference", da, db], { reject: false });
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^Files (\S+) and .*$/, "$1").replace(`${da}/`, ""));
}

describe("SOURCE_DATE_EPOCH", () => {
  it("two builds of the same recipe give the same rootfs.squashfs and initramfs bytes", { timeout: 600_000 }, async () => {
    const first = await buildOnce("first");
    const second = await buildOnce("second");
    expect(first.manifest.sourceDateEpoch).toBe(1700000000);
    const [a, b] = [path.join(first.out, "rootfs.squashfs"), path.join(second.out, "rootfs.squashfs")];
    // The listings and contents first: a failure names what differs.
    expect(await listingDiff(a, b)).toEqual([]);
    expect(await contentDiff(a, b)).toEqual([]);
    expect(second.manifest.artifacts.rootfs?.sha256).toBe(first.manifest.artifacts.rootfs?.sha256);
    expect(second.manifest.artifacts.initrd?.sha256).toBe(first.manifest.artifacts.initrd?.sha256);
    // dnf's history (real times, the host's command line) is not in a reproducible image.
    expect((await execa("unsquashfs", ["-lc", "-d", "", a])).stdout).not.toContain("/var/lib/dnf/history.sqlite");
  });
});
