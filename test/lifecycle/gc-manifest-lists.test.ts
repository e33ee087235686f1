// bootsmith gc on a registry repository whose tags are manifest lists (a recipe with arches:),
// against Debian's docker-registry on 127.0.0.1 with deletes enabled. Three sets, built in that
// order, each pushed as publish/manifest-list.ts pushes one: a tiny amd64 and arm64 image
// (buildah from --arch … scratch, the labels a build commits) as <tag>-amd64 / <tag>-arm64, then
// an OCI index naming them by digest as <tag>. And "prod": another list naming set 1's arm64
// image (what a promotion made, not a tag any build gave). With --keep 1: set 3 is the newest,
// set 1 stays because a kept list needs one of its images, set 2 goes whole, list first.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { bootsmith } from "../support/cli.js";
import { registryTags, startRegistry, type TestRegistry } from "../publish/support/registry.js";

const ctx = { step: "test", reporter: silentReporter };
let work: string;
let buildah: string[];
let registry: TestRegistry;
let repository: string;
/** Per tag (1-amd64, 2, prod, …): the manifest digest pushed. */
const digests: Record<string, string> = {};

async function push(args: string[], tag: string): Promise<void> {
  const file = path.join(work, `${tag}.digest`);
  await run(
    { file: "buildah", args: [...buildah, ...args.slice(0, 1), "--tls-verify=false", "--digestfile", file, ...args.slice(1), `docker://${repository}:${tag}`] },
    ctx,
  );
  digests[tag] = readFileSync(file, "utf8").trim();
}

/** An image of set `n` for one OCI architecture, labelled as a build of recipe "ml" with tag n, committed at hour n. */
async function archImage(n: number, arch: string): Promise<void> {
  const container = (await run({ file: "buildah", args: [...buildah, "from", "--arch", arch, "scratch"] }, ctx)).stdout.trim();
  await writeFile(path.join(work, "file.txt"), `set ${n} ${arch}\n`);
  await run({ file: "buildah", args: [...buildah, "copy", container, path.join(work, "file.txt"), "/file.txt"] }, ctx);
  await run({ file: "buildah", args: [...buildah, "config", "--label", "io.bootsmith.recipe=ml", "--label", `io.bootsmith.tags=${n}`, container] }, ctx);
  const local = `localhost/bootsmith-test/ml:${n}-${arch}`;
  await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", "--timestamp", String(1_780_000_000 + n * 3600), container, local] }, ctx);
  await push(["push", local], `${n}-${arch}`);
}

/** A list naming `tags`' images by digest, pushed as `tag`. */
async function list(tag: string, members: { tag: string; arch: string }[]): Promise<void> {
  const local = `localhost/bootsmith-test/ml-list:${tag}`;
  await run({ file: "buildah", args: [...buildah, "manifest", "create", local] }, ctx);
  for (const m of members)
    await run(
      {
        file: "buildah",
        args: [...buildah, "manifest", "add", "--tls-verify=false", "--arch", m.arch, "--os", "linux", local, `docker://${repository}@${digests[m.tag]}`],
      },
      ctx,
    );
  await push(["manifest", "push", "--all", "--format", "oci", local], tag);
  await run({ file: "buildah", args: [...buildah, "manifest", "rm", local] }, ctx);
}

/** Does the registry still hold this manifest (by digest)? */
async function holds(digest: string): Promise<boolean> {
  const r = await fetch(`http://${repository.replace("/", "/v2/")}/manifests/${digest}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json" },
  });
  return r.ok;
}

const gc = (...args: string[]) => bootsmith(["gc", `registry:${repository}`, "--tls-verify=false", "--keep", "1", "--no-references", ...args]);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "bootsmith-gc-lists-"));
  buildah = ["--root", path.join(work, "storage"), "--runroot", path.join(work, "run"), "--storage-driver", "vfs"];
  registry = await startRegistry(work, { deletes: true });
  repository = `${registry.address}/bootsmith/ml`;
  for (const n of [1, 2, 3]) {
    for (const arch of ["amd64", "arm64"]) await archImage(n, arch);
    await list(String(n), [
      { tag: `${n}-amd64`, arch: "amd64" },
      { tag: `${n}-arm64`, arch: "arm64" },
    ]);
  }
  // arm64 only: skopeo inspect without --raw cannot resolve it on an amd64 host.
  await list("prod", [{ tag: "1-arm64", arch: "arm64" }]);
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await run({ file: "buildah", args: [...buildah, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

interface Plan {
  keep: { tag: string; set?: string; reasons: { kind: string; as?: string; list?: string }[] }[];
  remove: { tag: string; set?: string; list?: boolean }[];
}

describe("gc on a registry of manifest lists", () => {
  it("dry run: a set is kept or deleted whole (list, <tag>-<arch> tags), a set a kept list needs is kept, and the output says so", async () => {
    const dry = await gc("--json");
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as Plan;
    // The list goes first: no list ever names an image already deleted.
    expect(plan.remove.map((r) => r.tag)).toEqual(["2", "2-amd64", "2-arm64"]);
    expect(plan.remove.map((r) => r.set)).toEqual(["2", "2", "2"]);
    const keep = Object.fromEntries(plan.keep.map((k) => [k.tag, k.reasons.map((r) => `${r.kind}${r.list ? ` ${r.list}` : ""}`)]));
    expect(keep).toEqual({
      "3": ["newest"],
      "3-amd64": ["newest"],
      "3-arm64": ["newest"],
      prod: ["promoted"],
      "1": ["listed prod"],
      "1-amd64": ["listed prod"],
      "1-arm64": ["listed prod"],
    });

    const text = await gc();
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^would delete ml:2 +built \S+ +\(manifest list of 2-amd64, 2-arm64\)$/m);
    expect(text.stdout).toMatch(/^would delete ml:2-arm64 +built \S+ +\(arm64 image of set 2\)$/m);
    expect(text.stdout).toMatch(/^keep +ml:1-arm64 .*\(set 1: an image of it is in kept list prod\)$/m);
    expect(text.stdout).toContain("dry run: 3 tag(s) would be deleted, 7 kept");
    expect((await registryTags(repository)).length).toBe(10);
  });

  it("--yes deletes set 2's list and images; every kept list still resolves to images the registry holds", async () => {
    const yes = await gc("--yes");
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stdout).toContain("deleted 3 tag(s), kept 7");
    expect((await registryTags(repository)).sort()).toEqual(["1", "1-amd64", "1-arm64", "3", "3-amd64", "3-arm64", "prod"]);
    for (const tag of ["2", "2-amd64", "2-arm64"]) expect(await holds(digests[tag]!), tag).toBe(false);
    for (const tag of ["1", "1-amd64", "1-arm64", "3", "3-amd64", "3-arm64", "prod"]) expect(await holds(digests[tag]!), tag).toBe(true);
    // A second run has nothing left to delete.
    const again = JSON.parse((await gc("--json")).stdout) as Plan;
    expect(again.remove).toEqual([]);
  });
});
