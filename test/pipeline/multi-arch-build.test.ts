// One recipe with `arches: [x86_64, aarch64]`, built for real from the fixture RPM repository
// (dnf --forcearch, buildah from --arch; the aarch64 packages carry the host's busybox, so its
// commands run natively: test/e2e/aarch64.test.ts is the real arm64 build under qemu-user).
// One build (beforeAll) serves every assertion: the plan shows both architectures, each builds
// into <out>/<name>/<tag>/<arch>/ under a combined manifest.json, and the recipe's publish targets
// get both at once: a directory and Ceph S3 (per-architecture keys, the combined manifest last),
// the registry one manifest list per tag (skopeo inspect --raw). Then register --arch against the
// BSS contract server, rollback, and the commands that take one set (verify, promote, diff).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { addAarch64Packages, buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, fixtureRecipe, readManifest, removeImages } from "../support/fixture-build.js";
import { startCeph, type CephS3 } from "../publish/support/ceph.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { sha256File } from "../../src/core/hash.js";
import type { MultiArchManifest } from "../../src/core/manifest.js";

const NAME = "fixture-multiarch";
const IMAGES = [`${NAME}:1-amd64`, `${NAME}:1-arm64`];
const BUCKET = "multiarch";
const MAC_X86 = "52:54:00:00:18:01";
const MAC_ARM = "52:54:00:00:18:02";

let work: string;
let recipe: string;
let out: string;
let published: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let ceph: CephS3;
let s3: S3Client;
let registry: TestRegistry;
let served: StaticServer;
let bss: BssServer;
let build: Awaited<ReturnType<typeof bootsmith>>;
let buildSeconds = 0;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-multiarch-"));
  out = path.join(work, "out");
  published = path.join(work, "published");
  mkdirSync(published);
  repo = await buildFixtureRepo(path.join(work, "repo"));
  await addAarch64Packages(repo);
  ceph = await startCeph();
  s3 = new S3Client({
    endpoint: ceph.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  registry = await startRegistry(work);
  served = await startStaticServer({ root: published });
  bss = await startBssServer();
  env = { ...buildEnv(work), S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey };
  recipe = path.join(work, `${NAME}.yaml`);
  writeFileSync(
    recipe,
    fixtureRecipe({
      name: NAME,
      packageGroups: [],
      install: ["fixture-base", "fixture-kernel", "fixture-dracut"],
      keys: {
        tags: ["1", "latest"],
        arches: ["x86_64", "aarch64"],
        commands: [{ script: "echo multi > /etc/fixture-multi" }],
        publish: [
          { type: "local", dir: published, publicBase: served.url },
          { type: "s3", endpoint: ceph.endpoint, bucket: BUCKET, prefix: "images/" },
          { type: "registry", repository: `${registry.address}/bootsmith/${NAME}`, tlsVerify: false },
        ],
      },
    }),
  );
  await removeImages(IMAGES);
  const t0 = Date.now();
  build = await bootsmith(["build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--progress", "plain", "--jobs", "2"], { env, cwd: work });
  buildSeconds = (Date.now() - t0) / 1000;
}, 900_000);

afterAll(async () => {
  await removeImages(IMAGES);
  await served?.close();
  await bss?.stop();
  await registry?.stop();
  s3?.destroy();
  await ceph?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const combinedDir = () => path.join(out, NAME, "1");
const combined = () => JSON.parse(readFileSync(path.join(combinedDir(), "manifest.json"), "utf8")) as MultiArchManifest;

describe("arches: [x86_64, aarch64] in one recipe", () => {
  it("plan shows each architecture's build, then the combined manifest and one publish of both", async () => {
    const plan = await bootsmith(["plan", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", path.join(work, "planned")], { env, cwd: work });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const x86 = plan.stdout.indexOf(`# ===== ${NAME} for x86_64 (1 of 2) =====`);
    const arm = plan.stdout.indexOf(`# ===== ${NAME} for aarch64 (2 of 2) =====`);
    const after = plan.stdout.indexOf("# ===== once every architecture (x86_64, aarch64) is built =====");
    expect(x86).toBeGreaterThanOrEqual(0);
    expect(arm).toBeGreaterThan(x86);
    expect(after).toBeGreaterThan(arm);
    expect(plan.stdout.slice(x86, arm)).toContain("--forcearch=x86_64");
    expect(plan.stdout.slice(arm, after)).toContain("--forcearch=aarch64");
    expect(plan.stdout.slice(arm, after)).toContain("--arch arm64");
    expect(plan.stdout.slice(arm, after)).toContain(path.join(work, "planned", "aarch64"));
    // No architecture publishes on its own: the recipe's targets come once, after both.
    expect(plan.stdout.slice(0, after)).not.toContain("bootsmith publish");
    const json = await bootsmith(["plan", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--json"], { env, cwd: work });
    expect(json.exitCode, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { arches: { arch: string; outDir: string }[]; after: { command?: string }[] };
    expect(parsed.arches.map((a) => [a.arch, path.relative(work, a.outDir)])).toEqual([
      ["x86_64", `artifacts/${NAME}/1/x86_64`],
      ["aarch64", `artifacts/${NAME}/1/aarch64`],
    ]);
    expect(parsed.after.filter((a) => a.command?.startsWith("bootsmith publish "))).toHaveLength(3);
    expect(plan.stdout.slice(after)).toContain(`# bootsmith build writes ${path.join(work, "planned", "manifest.json")}`);
    expect(plan.stdout.slice(after)).toContain(`bootsmith publish ${path.join(work, "planned")} --to registry:${registry.address}/bootsmith/${NAME}`);
    expect(plan.stdout.slice(after)).toContain(
      `bootsmith publish ${path.join(work, "planned")} --to s3://${BUCKET} --prefix images/ --endpoint ${ceph.endpoint}`,
    );
  });

  it("builds both (one node each, --jobs 2) into <out>/<name>/<tag>/<arch>/ and writes the combined manifest", () => {
    expect(build.exitCode, build.stderr).toBe(0);
    console.log(`multi-arch fixture build + publish: ${buildSeconds.toFixed(1)} s`);
    expect(build.stderr).toMatch(new RegExp(`${NAME}@x86_64\\s+built`));
    expect(build.stderr).toMatch(new RegExp(`${NAME}@aarch64\\s+built`));
    const x86 = readManifest(path.join(combinedDir(), "x86_64"));
    const arm = readManifest(path.join(combinedDir(), "aarch64"));
    expect([x86.arch, arm.arch]).toEqual(["x86_64", "aarch64"]);
    expect(arm.arches).toEqual(["x86_64", "aarch64"]);
    expect(arm.inputDigest).not.toBe(x86.inputDigest);
    expect(arm.packages.find((p) => p.name === "fixture-kernel")?.arch).toBe("aarch64");
    expect(x86.packages.find((p) => p.name === "fixture-kernel")?.arch).toBe("x86_64");
    expect(arm.image.ref).toBe(`localhost/bootsmith/${NAME}:1-arm64`);
    const m = combined();
    expect(m.kind).toBe("multi-arch");
    expect(Object.keys(m.arches)).toEqual(["x86_64", "aarch64"]);
    for (const [arch, own] of [
      ["x86_64", x86],
      ["aarch64", arm],
    ] as const) {
      const entry = m.arches[arch]!;
      expect(entry.inputDigest).toBe(own.inputDigest);
      expect(Object.keys(entry.artifacts).sort()).toEqual(["initrd", "kernel", "rootfs", "sbomCycloneDx", "sbomSpdx"]);
      expect(entry.artifacts.kernel?.file).toBe(`${arch}/vmlinuz`);
      expect(entry.artifacts.rootfs?.sha256).toBe(own.artifacts.rootfs?.sha256);
    }
  });

  it("--explain names each architecture and finds both up to date", async () => {
    const explain = await bootsmith(["build", recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--explain"], { env, cwd: work });
    expect(explain.exitCode, explain.stderr).toBe(0);
    expect(explain.stdout).toMatch(new RegExp(`${NAME}@aarch64 \\(.*, localhost/bootsmith/${NAME}:1-arm64, aarch64\\): up to date`));
    expect(explain.stdout).toMatch(new RegExp(`${NAME}@x86_64 \\(.*, localhost/bootsmith/${NAME}:1-amd64, x86_64\\): up to date`));
    expect(explain.stdout).toContain("0 of 2 recipes would be built");
  });

  it("the directory target holds each architecture under <name>/<tag>/<arch>/ and the combined manifest, per tag", async () => {
    for (const tag of ["1", "latest"]) {
      const dir = path.join(published, NAME, tag);
      expect(readFileSync(path.join(dir, "manifest.json"), "utf8")).toBe(readFileSync(path.join(combinedDir(), "manifest.json"), "utf8"));
      for (const arch of ["x86_64", "aarch64"] as const) {
        const entry = combined().arches[arch]!;
        expect(await sha256File(path.join(dir, arch, "vmlinuz"))).toBe(entry.artifacts.kernel?.sha256);
        expect(await sha256File(path.join(dir, arch, "manifest.json"))).toBe(entry.manifest.sha256);
      }
    }
  });

  it("S3 (Ceph) holds per-architecture keys and the combined manifest.json", async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `images/${NAME}/1/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.slice(`images/${NAME}/1/`.length)).sort();
    for (const arch of ["aarch64", "x86_64"])
      for (const file of ["initramfs.img", "manifest.json", "rootfs.squashfs", "vmlinuz"]) expect(keys).toContain(`${arch}/${file}`);
    expect(keys).toContain("manifest.json");
    const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `images/${NAME}/1/manifest.json` }))).Body!.transformToString();
    expect(JSON.parse(body)).toEqual(combined());
  });

  it("the registry has one manifest list per tag with both platforms", async () => {
    for (const tag of ["1", "latest"]) {
      const { stdout } = await execa("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.address}/bootsmith/${NAME}:${tag}`]);
      const index = JSON.parse(stdout) as { manifests: { platform: { architecture: string; os: string } }[] };
      expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    }
    // One architecture's directory alone would turn each tag into that architecture only: refused.
    const alone = await bootsmith(
      ["publish", path.join(combinedDir(), "aarch64"), "--to", `registry:${registry.address}/bootsmith/${NAME}`, "--tls-verify=false"],
      { env, cwd: work },
    );
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toContain(`is the aarch64 set of ${NAME}, built for x86_64, aarch64: publishing it alone would make each tag aarch64 only`);
    // Each architecture's manifest records its push and the list.
    expect(readManifest(path.join(combinedDir(), "aarch64")).image.pushed?.map((p) => p.ref)).toContain(`${registry.address}/bootsmith/${NAME}:1`);
  });

  it("register --arch gives each node set its architecture's artifacts; without --arch it is refused; rollback restores", async () => {
    const state = path.join(work, "state");
    const register = (...args: string[]) => bootsmith(["register", combinedDir(), "--bss", bss.url, "--state-dir", state, ...args], { env, cwd: work });
    const refused = await register("--mac", MAC_ARM);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/fixture-multiarch is built for x86_64, aarch64: pass --arch ARCH to pick the one these nodes run/);
    const unknown = await register("--arch", "riscv64", "--mac", MAC_ARM);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("--arch riscv64: expected one of x86_64, aarch64");
    expect(bss.entries.size).toBe(0);

    const x86 = await register("--arch", "x86_64", "--mac", MAC_X86);
    expect(x86.exitCode, x86.stderr).toBe(0);
    expect(bss.entry(`mac:${MAC_X86}`)?.kernel).toBe(`${served.url}/${NAME}/1/x86_64/vmlinuz`);
    // The same node first on x86, then moved to the arm64 image; rollback moves it back.
    expect((await register("--arch", "x86_64", "--mac", MAC_ARM)).exitCode).toBe(0);
    const arm = await register("--arch", "aarch64", "--mac", MAC_ARM);
    expect(arm.exitCode, arm.stderr).toBe(0);
    expect(bss.entry(`mac:${MAC_ARM}`)?.kernel).toBe(`${served.url}/${NAME}/1/aarch64/vmlinuz`);
    expect(bss.entry(`mac:${MAC_ARM}`)?.params).toContain(`root=live:${served.url}/${NAME}/1/aarch64/rootfs.squashfs`);
    const back = await bootsmith(["rollback", "--bss", bss.url, "--state-dir", state], { env, cwd: work });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(bss.entry(`mac:${MAC_ARM}`)?.kernel).toBe(`${served.url}/${NAME}/1/x86_64/vmlinuz`);
    expect(bss.entry(`mac:${MAC_X86}`)?.kernel).toBe(`${served.url}/${NAME}/1/x86_64/vmlinuz`);

    // One architecture's own directory: --arch is checked against its manifest.
    const wrong = await bootsmith(
      ["register", path.join(combinedDir(), "x86_64"), "--arch", "aarch64", "--base-url", `${served.url}/x/`, "--mac", MAC_ARM, "--bss", bss.url, "--dry-run"],
      { env, cwd: work },
    );
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/the set is x86_64, not aarch64/);
    expect(bss.violations).toEqual([]);
  });

  it("commands that take one set handle the combined one: verify per architecture; promote, boot-test and diff refuse clearly", async () => {
    const verify = await bootsmith(["verify", combinedDir()], { env, cwd: work });
    // Not signed: each architecture's set says so (a signed build verifies each the same way).
    expect(verify.exitCode).toBe(1);
    expect(verify.stdout + verify.stderr).toMatch(/x86_64\/SHA256SUMS/);
    expect(verify.stdout + verify.stderr).toMatch(/aarch64\/SHA256SUMS/);

    const promote = await bootsmith(["promote", `${NAME}:1`, "--to", "stable", "--target", `dir:${published}`, "--force"], { env, cwd: work });
    expect(promote.exitCode, promote.stderr).toBe(2);
    expect(promote.stderr).toMatch(/combined manifest of fixture-multiarch built for x86_64, aarch64: promote copies one set's files/);

    const bootTest = await bootsmith(["boot-test", combinedDir()], { env, cwd: work });
    expect(bootTest.exitCode).toBe(2);
    expect(bootTest.stderr).toMatch(/built for x86_64, aarch64: boot-test one architecture's directory/);

    const diff = await bootsmith(["diff", combinedDir(), path.join(combinedDir(), "x86_64")], { env, cwd: work });
    expect(diff.exitCode).toBe(2);
    expect(diff.stderr).toMatch(/combined manifest of fixture-multiarch built for x86_64, aarch64: give one architecture's directory/);
  });

  it("ci join: the architectures' directories brought together (as ci gitlab's join job gets them) give the combined manifest and one publish; a missing or stale architecture is refused", async () => {
    const joined = path.join(work, "joined");
    for (const arch of ["x86_64", "aarch64"]) cpSync(path.join(combinedDir(), arch), path.join(joined, NAME, "1", arch), { recursive: true });
    const join = (...extra: string[]) => bootsmith(["ci", "join", recipe, "--out", joined, "--var", `REPO_URL=${repo.baseurl}`, ...extra], { env, cwd: work });
    const dry = await join("--no-publish");
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(joined, NAME, "1", "manifest.json"), "utf8"))).toEqual(combined());
    expect(existsSync(path.join(joined, NAME, "1", "published.json"))).toBe(false);
    // With publish: every target of the recipe once, as the build's own join did (same bytes: skipped).
    const publish = await join();
    expect(publish.exitCode, publish.stderr).toBe(0);
    expect(existsSync(path.join(joined, NAME, "1", "published.json"))).toBe(true);

    const stale = await bootsmith(["ci", "join", recipe, "--out", joined, "--var", "REPO_URL=file:///elsewhere", "--no-publish"], { env, cwd: work });
    expect(stale.exitCode).toBe(2);
    expect(stale.stderr).toMatch(/(x86_64|aarch64)\/manifest\.json was built from other inputs than .* has now/);
    rmSync(path.join(joined, NAME, "1", "aarch64"), { recursive: true });
    const missing = await join("--no-publish");
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(
      `${path.relative(work, path.join(joined, NAME, "1", "aarch64", "manifest.json"))}: missing; did the build of ${NAME}@aarch64 succeed?`,
    );
  });
});
