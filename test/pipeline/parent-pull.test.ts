// `bootsmith ci pull` as a child recipe's GitLab job runs it on a runner that shares no storage
// with its parent's job: a tiny arm64 image (buildah from --arch arm64 scratch) pushed to
// docker-registry on 127.0.0.1 as <tag>-arm64, the parent's manifest.json recording that digest
// (what `ci push` leaves as the job artifact), then `ci pull child.yaml --arch aarch64` with
// BOOTSMITH_STORAGE_ROOT set to an empty root: the image must land, under the parent's local
// name, in exactly the storage (root, runroot, driver) `bootsmith build` detects for that root.
// A single-architecture parent whose job skipped its build (no manifest): the registry's image
// carrying its key. Then the errors: no manifest artifact, no recorded digest, a manifest of other
// inputs (exit 2), a digest the registry does not hold and an unreachable registry (exit 1).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { INPUT_DIGEST_LABEL } from "../../src/core/manifest.js";
import { detectHost } from "../../src/builder/host.js";
import { bootsmith } from "../support/cli.js";
import { loadGraph } from "../../src/pipeline/graph.js";
import { freePort } from "../publish/support/ceph.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { removeRunRoots } from "../support/storage-root.js";

const ctx = { step: "test", reporter: silentReporter };
let work: string;
let registry: TestRegistry;
let pushed: string;
const source = () => ["--root", join(work, "source"), "--runroot", join(work, "source-run"), "--storage-driver", "vfs"];

/** Parent p (arches, registry target `repository`) and child c on it, in `dir`. */
function recipes(dir: string, repository: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "p.yaml"),
    `name: p\ntags: ["3"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: registry, repository: "${repository}", tlsVerify: false}\n`,
  );
  writeFileSync(join(dir, "c.yaml"), "name: c\nfrom: {recipe: p.yaml}\ncommands:\n  - {script: 'true'}\nboot: false\n");
}

/** The parent's aarch64 job artifact: its manifest.json, recording `pushes`, built from the recipe's current inputs unless `inputDigest` says otherwise. */
function parentManifest(dir: string, pushes: { ref: string; digest: string }[], inputDigest?: string): void {
  const out = join(dir, "artifacts", "p", "3", "aarch64");
  mkdirSync(out, { recursive: true });
  const key = inputDigest ?? loadGraph([join(dir, "c.yaml")], { vars: {} }).nodes.get("p@aarch64")!.recipe.inputDigest;
  writeFileSync(
    join(out, "manifest.json"),
    JSON.stringify({ name: "p", arch: "aarch64", inputDigest: key, image: { ref: "localhost/bootsmith/p:3-arm64", pushed: pushes } }),
  );
}

/** The storage roots `ci pull` was pointed at: bootsmith made a run root under /run for each. */
const pulledInto = new Set<string>();
const pullInto = (root: string, dir: string, args: string[]) => {
  pulledInto.add(root);
  return bootsmith(["ci", "pull", ...args], { cwd: dir, env: { BOOTSMITH_STORAGE_ROOT: root, BOOTSMITH_STORAGE_DRIVER: "vfs" } });
};
const pull = (dir: string, root: string) => pullInto(root, dir, ["c.yaml", "--arch", "aarch64"]);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "bootsmith-ci-pull-"));
  registry = await startRegistry(work);
  const container = (await run({ file: "buildah", args: [...source(), "from", "--arch", "arm64", "scratch"] }, ctx)).stdout.trim();
  writeFileSync(join(work, "mark.txt"), `${randomBytes(4).toString("hex")}\n`);
  await run({ file: "buildah", args: [...source(), "copy", container, join(work, "mark.txt"), "/mark.txt"] }, ctx);
  await run({ file: "buildah", args: [...source(), "commit", "-q", "--rm", container, "localhost/pull-test:1"] }, ctx);
  await run(
    {
      file: "buildah",
      args: [
        ...source(),
        "push",
        "--tls-verify=false",
        "--digestfile",
        join(work, "digest"),
        "localhost/pull-test:1",
        `docker://${registry.address}/bootsmith/p:3-arm64`,
      ],
    },
    ctx,
  );
  pushed = readFileSync(join(work, "digest"), "utf8").trim();
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await run({ file: "buildah", args: [...source(), "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (work) removeRunRoots([...pulledInto]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("bootsmith ci pull (docker-registry)", () => {
  it("pulls the digest the parent's manifest records into the storage bootsmith build uses, as the parent's local image", async () => {
    const repository = `${registry.address}/bootsmith/p`;
    const dir = join(work, "job");
    recipes(dir, repository);
    parentManifest(dir, [{ ref: `${repository}:3-arm64`, digest: pushed }]);
    const root = join(work, "runner-storage");
    const result = await pull(dir, root);
    expect(result.exitCode, result.stderr).toBe(0);
    // Into the storage a build with BOOTSMITH_STORAGE_ROOT=root detects: its root, runroot and driver.
    const host = await detectHost({ storageRoot: root, storageDriver: "vfs" });
    expect(result.stderr).toContain(
      `pulled ${repository}@${pushed} (from artifacts/p/3/aarch64/manifest.json) as localhost/bootsmith/p:3-arm64 into ${host.buildahArgs.join(" ")}`,
    );
    try {
      const images = await run({ file: "buildah", args: [...host.buildahArgs, "images", "--digests", "--format", "{{.Name}}:{{.Tag}} {{.Digest}}"] }, ctx);
      expect(images.stdout).toMatch(new RegExp(`^localhost/bootsmith/p:3-arm64\\s+${pushed}$`, "m"));
    } finally {
      await run({ file: "buildah", args: [...host.buildahArgs, "rmi", "--all", "--force"] }, ctx).catch(() => {});
    }
  });

  it("no parent manifest, one recording no push, or one of other inputs: exit 2 naming the file and the fix", async () => {
    const repository = `${registry.address}/bootsmith/p`;
    const dir = join(work, "bad-input");
    recipes(dir, repository);
    const missing = await pull(dir, join(work, "unused"));
    expect(missing.exitCode, missing.stderr).toBe(2);
    expect(missing.stderr).toContain("artifacts/p/3/aarch64/manifest.json: missing");
    expect(missing.stderr).toContain("needs: with artifacts: true");
    parentManifest(dir, []);
    const unpushed = await pull(dir, join(work, "unused"));
    expect(unpushed.exitCode, unpushed.stderr).toBe(2);
    expect(unpushed.stderr).toContain(`artifacts/p/3/aarch64/manifest.json: image.pushed records no digest for ${repository}:3-arm64`);
    expect(unpushed.stderr).toContain("bootsmith ci push");
    // An older build's manifest (say, from a job cache): its digest is not the parent this build needs.
    parentManifest(dir, [{ ref: `${repository}:3-arm64`, digest: pushed }], "cd".repeat(32));
    const stale = await pull(dir, join(work, "unused"));
    expect(stale.exitCode, stale.stderr).toBe(2);
    expect(stale.stderr).toContain(`artifacts/p/3/aarch64/manifest.json: built from other inputs than ${join(dir, "p.yaml")} has now (key cdcdcdcdcdcd`);
  });

  it("a single-architecture parent whose job skipped an already published build (no manifest): the registry's image with the parent's current key", async () => {
    const repository = `${registry.address}/bootsmith/s`;
    const dir = join(work, "skipped");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "s.yaml"),
      `name: s\ntags: ["1"]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: registry, repository: "${repository}", tlsVerify: false}\n`,
    );
    writeFileSync(join(dir, "sc.yaml"), "name: sc\nfrom: {recipe: s.yaml}\ncommands:\n  - {script: 'true'}\nboot: false\n");
    const key = loadGraph([join(dir, "sc.yaml")], { vars: {} }).nodes.get("s")!.recipe.inputDigest;
    // The parent's image as its build labels it: the key it was built from.
    const container = (await run({ file: "buildah", args: [...source(), "from", "localhost/pull-test:1"] }, ctx)).stdout.trim();
    await run({ file: "buildah", args: [...source(), "config", "--label", `${INPUT_DIGEST_LABEL}=${key}`, container] }, ctx);
    await run({ file: "buildah", args: [...source(), "commit", "-q", "--rm", container, "localhost/pull-test:s"] }, ctx);
    const digestFile = join(work, "s.digest");
    await run(
      { file: "buildah", args: [...source(), "push", "--tls-verify=false", "--digestfile", digestFile, "localhost/pull-test:s", `docker://${repository}:1`] },
      ctx,
    );
    const digest = readFileSync(digestFile, "utf8").trim();
    const root = join(work, "skipped-storage");
    const result = await pullInto(root, dir, ["sc.yaml"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`pulled ${repository}@${digest} (from ${repository}:1 (key ${key.slice(0, 12)})) as localhost/bootsmith/s:1`);
    const host = await detectHost({ storageRoot: root, storageDriver: "vfs" });
    await run({ file: "buildah", args: [...host.buildahArgs, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  });

  it("a digest the registry does not hold, or a registry that does not answer: exit 1 naming the ref", async () => {
    const repository = `${registry.address}/bootsmith/p`;
    const dir = join(work, "failing");
    recipes(dir, repository);
    const absent = `sha256:${"0".repeat(64)}`;
    parentManifest(dir, [{ ref: `${repository}:3-arm64`, digest: absent }]);
    const unknown = await pull(dir, join(work, "empty-1"));
    expect(unknown.exitCode, unknown.stderr).toBe(1);
    expect(unknown.stderr).toContain(`could not pull ${repository}@${absent}`);
    expect(unknown.stderr).toContain("manifest unknown");

    const closed = `127.0.0.1:${await freePort()}/bootsmith/p`;
    const offline = join(work, "offline");
    recipes(offline, closed);
    parentManifest(offline, [{ ref: `${closed}:3-arm64`, digest: pushed }]);
    const unreachable = await pull(offline, join(work, "empty-2"));
    expect(unreachable.exitCode, unreachable.stderr).toBe(1);
    expect(unreachable.stderr).toContain(`could not pull ${closed}@${pushed}`);
    expect(unreachable.stderr).toMatch(/connection refused/i);
  });
});
