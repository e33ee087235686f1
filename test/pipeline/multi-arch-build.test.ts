// One recipe with `arches: [x86_64, aarch64]`, built for real from the fixture RPM repository
// (dnf --forcearch, buildah from --arch; the aarch64 packages carry the host's busybox, so its
// commands run natively: test/e2e/aarch64.test.ts is the real arm64 build under qemu-user).
// One build (beforeAll) serves every assertion: the plan shows both architectures, each builds
// into <out>/<name>/<tag>/<arch>/ under a combined manifest.json, and the recipe's publish targets
// get both at once: a directory and Ceph S3 (per-architecture keys, the combined manifest last),
// the registry one manifest list per tag (skopeo inspect --raw). Then register --arch against the
// BSS contract server, rollback, the commands that take one set (verify, boot-test, diff), and
// promote of the whole set to each target kind (the gate per architecture, a failure midway).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { CreateBucketCommand, DeleteBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import { addAarch64Packages, buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, CLI } from "../support/cli.js";
import { buildEnv, fixtureRecipe, readManifest, removeImages } from "../support/fixture-build.js";
import type { CephS3 } from "../publish/support/ceph.js";
import { sharedCeph } from "../publish/support/shared-ceph.js";
import { startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { sha256File } from "../../src/core/hash.js";
import type { Manifest, MultiArchManifest } from "../../src/core/manifest.js";
import { recordInManifest } from "../../src/boottest/report.js";
import { refreshCombinedManifest } from "../../src/publish/multi-arch.js";

const NAME = "fixture-multiarch";
const IMAGES = [`${NAME}:1-amd64`, `${NAME}:1-arm64`];
const BUCKET = "multiarch";
const MAC_X86 = "52:54:00:00:18:01";
const MAC_ARM = "52:54:00:00:18:02";
/** Registered by the recipe's own register: entries, one per architecture. */
const MAC_RECIPE_X86 = "52:54:00:00:18:03";
const MAC_RECIPE_ARM = "52:54:00:00:18:04";

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
  ceph = await sharedCeph();
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
  env = { ...buildEnv(work), S3_ACCESS: ceph.accessKeyId, S3_SECRET: ceph.secretAccessKey, XDG_STATE_HOME: path.join(work, "state-home") };
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
        register: [
          { type: "bss", arch: "x86_64", url: bss.url, macs: [MAC_RECIPE_X86] },
          { type: "bss", arch: "aarch64", url: bss.url, macs: [MAC_RECIPE_ARM] },
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
    // The recipe's register: entries after the publishes, each naming its architecture.
    expect(parsed.after.filter((a) => a.command?.startsWith("bootsmith register ")).map((a) => a.command)).toEqual([
      expect.stringContaining(`--arch x86_64 --bss ${bss.url} --mac ${MAC_RECIPE_X86}`),
      expect.stringContaining(`--arch aarch64 --bss ${bss.url} --mac ${MAC_RECIPE_ARM}`),
    ]);
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

  it("register: entries with arch: register each architecture's artifacts after the combined publish", () => {
    expect(build.stderr).toMatch(/register\[0\]: registered x86_64 with bss/);
    expect(build.stderr).toMatch(/register\[1\]: registered aarch64 with bss/);
    expect(bss.entry(`mac:${MAC_RECIPE_X86}`)?.kernel).toBe(`${served.url}/${NAME}/1/x86_64/vmlinuz`);
    expect(bss.entry(`mac:${MAC_RECIPE_ARM}`)?.kernel).toBe(`${served.url}/${NAME}/1/aarch64/vmlinuz`);
    expect(bss.entry(`mac:${MAC_RECIPE_ARM}`)?.params).toContain(`root=live:${served.url}/${NAME}/1/aarch64/rootfs.squashfs`);
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
    expect(bss.entry(`mac:${MAC_X86}`)).toBeUndefined();
    expect(bss.entry(`mac:${MAC_ARM}`)).toBeUndefined();

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

  it("commands that take one set handle the combined one: verify per architecture; boot-test and diff refuse clearly", async () => {
    // Not signed: each architecture's set is checked against its manifest.json, and the output
    // says the set is unsigned; asked for a signature, each architecture's set lacks one.
    const verify = await bootsmith(["verify", combinedDir()], { env, cwd: work });
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/x86_64\/rootfs\.squashfs/);
    expect(verify.stdout).toMatch(/aarch64\/rootfs\.squashfs/);
    expect(verify.stdout).toContain("UNSIGNED");
    const signed = await bootsmith(["verify", combinedDir(), "--require-signature"], { env, cwd: work });
    expect(signed.exitCode).toBe(1);
    expect(signed.stdout + signed.stderr).toMatch(/x86_64\/SHA256SUMS/);
    expect(signed.stdout + signed.stderr).toMatch(/aarch64\/SHA256SUMS/);

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

describe("promote of the combined set", () => {
  const registryTarget = () => `registry:${registry.address}/bootsmith/${NAME}`;
  const promote = (to: string, target: string, ...extra: string[]) =>
    bootsmith(["promote", `${NAME}:1`, "--to", to, "--target", target, ...extra], { env, cwd: work });
  const publishTo = async (...to: string[]) => {
    const result = await bootsmith(["publish", combinedDir(), "--to", ...to], { env, cwd: work });
    expect(result.exitCode, result.stderr).toBe(0);
  };
  const archManifest = (dir: string, arch: string) => JSON.parse(readFileSync(path.join(dir, arch, "manifest.json"), "utf8")) as Manifest;
  const rawDigest = async (tag: string) =>
    JSON.parse((await execa("skopeo", ["inspect", "--tls-verify=false", `docker://${registry.address}/bootsmith/${NAME}:${tag}`])).stdout).Digest as string;

  it("the gate: a boot-test where nothing booted (the preflight refused) records nothing; promote refuses while any architecture lacks a passed test, naming it", async () => {
    // A real boot-test of the fixture's aarch64 set: its "kernel" is not bootable, so the
    // preflight refuses it before any guest runs: no verdict on the image, nothing recorded.
    const aarch64Before = await sha256File(path.join(combinedDir(), "aarch64", "manifest.json"));
    const tested = await bootsmith(["boot-test", path.join(combinedDir(), "aarch64")], { env, cwd: work });
    expect(tested.exitCode).toBe(1);
    expect(tested.stdout).toMatch(/^NOT BOOTED boot-test \(preflight\)/m);
    expect(tested.stdout).toContain("nothing was recorded");
    expect(archManifest(combinedDir(), "aarch64").bootTest?.lastRun).toBeUndefined();
    expect(await sha256File(path.join(combinedDir(), "aarch64", "manifest.json"))).toBe(aarch64Before);
    expect(combined().arches.aarch64!.manifest.sha256).toBe(aarch64Before);
    // A passed run on x86_64, recorded as boot-test records one (a real QEMU pass takes minutes).
    await recordInManifest(path.join(combinedDir(), "x86_64"), { at: new Date().toISOString(), ok: true, totalSeconds: 42, phases: [], checks: [] });
    await refreshCombinedManifest(path.join(combinedDir(), "x86_64"));
    await publishTo(`dir:${published}`);
    const refused = await promote("prod", `dir:${published}`);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`refusing to promote ${NAME}:1 to prod: built for x86_64, aarch64`);
    expect(refused.stderr).toContain(`aarch64: no boot test on record; run \`bootsmith boot-test artifacts/${NAME}/1/aarch64\``);
    expect(refused.stderr).not.toMatch(/x86_64: /);
    expect(existsSync(path.join(published, NAME, "prod"))).toBe(false);
  });

  it("dir: each architecture hard-linked and its manifest, the combined one last with the history; --json per architecture feeds register --arch", async () => {
    await recordInManifest(path.join(combinedDir(), "aarch64"), { at: new Date().toISOString(), ok: true, totalSeconds: 61, phases: [], checks: [] });
    await refreshCombinedManifest(path.join(combinedDir(), "aarch64"));
    await publishTo(`dir:${published}`);
    const result = await promote("prod", `dir:${published}`, "--public-base", served.url, "--json");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/boot tests passed: x86_64 \S+ \(42 s\), aarch64 \S+ \(61 s\)/);
    const prod = path.join(published, NAME, "prod");
    const promotedCombined = JSON.parse(readFileSync(path.join(prod, "manifest.json"), "utf8")) as MultiArchManifest;
    expect(promotedCombined.tags).toEqual(["1", "latest", "prod"]);
    expect(promotedCombined.promotions).toEqual([expect.objectContaining({ from: "1", to: "prod", forced: false })]);
    for (const arch of ["x86_64", "aarch64"]) {
      for (const file of ["vmlinuz", "initramfs.img", "rootfs.squashfs"])
        expect(statSync(path.join(prod, arch, file)).ino, `${arch}/${file}`).toBe(statSync(path.join(published, NAME, "1", arch, file)).ino);
      const own = archManifest(prod, arch);
      expect(own.promotions).toEqual(promotedCombined.promotions);
      expect(own.artifacts).toEqual(archManifest(path.join(published, NAME, "1"), arch).artifacts);
      expect(promotedCombined.arches[arch]!.manifest.sha256).toBe(await sha256File(path.join(prod, arch, "manifest.json")));
    }
    const records = JSON.parse(result.stdout) as { arch: string; urls: { kernel: string } }[];
    expect(records.map((r) => [r.arch, r.urls.kernel])).toEqual([
      ["x86_64", `${served.url}/${NAME}/prod/x86_64/vmlinuz`],
      ["aarch64", `${served.url}/${NAME}/prod/aarch64/vmlinuz`],
    ]);
    const registered = await execa(
      process.execPath,
      [
        CLI,
        "register",
        "-",
        "--arch",
        "aarch64",
        "--bss",
        bss.url,
        "--mac",
        MAC_ARM,
        "--state-dir",
        path.join(work, "state-prod"),
        "--params-template",
        "console=ttyAMA0 root=live:{{ rootfs.url }}",
      ],
      { input: result.stdout, reject: false, env: { ...env, CI: "true" } },
    );
    expect(registered.exitCode, registered.stderr).toBe(0);
    expect(bss.entry(`mac:${MAC_ARM}`)?.kernel).toBe(`${served.url}/${NAME}/prod/aarch64/vmlinuz`);
  });

  it("dir: a failure midway (aarch64's squashfs not the bytes its manifest lists) leaves no new tag and the old one as it was", async () => {
    const source = path.join(published, NAME, "1", "aarch64", "rootfs.squashfs");
    const original = readFileSync(source);
    // A new file in its place: the hard link prod shares stays intact.
    writeFileSync(`${source}.new`, Buffer.concat([original.subarray(0, -1), Buffer.from([original.at(-1)! ^ 1])]));
    renameSync(`${source}.new`, source);
    try {
      const before = readFileSync(path.join(published, NAME, "prod", "manifest.json"));
      for (const to of ["broken", "prod"]) {
        const failed = await promote(to, `dir:${published}`);
        expect(failed.exitCode).toBe(1);
        expect(failed.stderr).toContain(`${source}: missing or not the bytes the manifest lists`);
      }
      expect(existsSync(path.join(published, NAME, "broken"))).toBe(false);
      expect(readdirSync(path.join(published, NAME)).filter((f) => f.startsWith("."))).toEqual([]);
      expect(readFileSync(path.join(published, NAME, "prod", "manifest.json"))).toEqual(before);
    } finally {
      writeFileSync(`${source}.new`, original);
      renameSync(`${source}.new`, source);
    }
  });

  it("S3 (Ceph): server-side copies per architecture, manifests last; a failure midway leaves the tag without a combined manifest", async () => {
    await publishTo(`s3://${BUCKET}/images`, "--endpoint", ceph.endpoint);
    const target = `s3://${BUCKET}/images`;
    const result = await promote("prod", target, "--endpoint", ceph.endpoint);
    expect(result.exitCode, result.stderr).toBe(0);
    const get = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `images/${NAME}/${key}` }))).Body!.transformToString();
    const promotedCombined = JSON.parse(await get("prod/manifest.json")) as MultiArchManifest;
    expect(promotedCombined.promotions).toEqual([expect.objectContaining({ from: "1", to: "prod" })]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `images/${NAME}/prod/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.slice(`images/${NAME}/prod/`.length)).sort();
    for (const arch of ["aarch64", "x86_64"]) {
      for (const file of ["initramfs.img", "manifest.json", "rootfs.squashfs", "vmlinuz"]) expect(keys).toContain(`${arch}/${file}`);
      const own = JSON.parse(await get(`prod/${arch}/manifest.json`)) as Manifest;
      expect(own.promotions).toEqual(promotedCombined.promotions);
      expect(promotedCombined.arches[arch]!.manifest.sha256).toBe(
        createHash("sha256")
          .update(await get(`prod/${arch}/manifest.json`))
          .digest("hex"),
      );
    }

    // Midway: the bucket refuses writes under aarch64/ of the new tag (a policy, as a site's
    // permissions would): x86_64's copies land, aarch64's fail, and no combined manifest appears.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `arn:aws:s3:::${BUCKET}/images/${NAME}/half/aarch64/*` }],
        }),
      }),
    );
    try {
      const failed = await promote("half", target, "--endpoint", ceph.endpoint);
      expect(failed.exitCode).toBe(1);
      expect(failed.stderr).toMatch(/AccessDenied/);
      const half = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `images/${NAME}/half/` }));
      const halfKeys = (half.Contents ?? []).map((o) => o.Key!.slice(`images/${NAME}/half/`.length));
      expect(halfKeys).toContain("x86_64/vmlinuz");
      expect(halfKeys).not.toContain("manifest.json");
      expect(halfKeys.filter((k) => k.startsWith("aarch64/"))).toEqual([]);
      // Every reader sees it as incomplete: promoting from it is an unknown image.
      const fromHalf = await bootsmith(["promote", `${NAME}:half`, "--to", "x", "--target", target, "--endpoint", ceph.endpoint, "--force"], {
        env,
        cwd: work,
      });
      expect(fromHalf.exitCode).toBe(2);
      expect(fromHalf.stderr).toContain("not published");
    } finally {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
  });

  it("registry: the manifest list copied by digest (every image with it), checked against the build record; a tag moved since is refused", async () => {
    const list = await rawDigest("1");
    expect(archManifest(combinedDir(), "aarch64").image.pushed).toContainEqual({ ref: `${registry.address}/bootsmith/${NAME}:1`, digest: list });
    const result = await promote("prod", registryTarget(), "--tls-verify=false", "--artifacts", out, "--json");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await rawDigest("prod")).toBe(list);
    const raw = JSON.parse(
      (await execa("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry.address}/bootsmith/${NAME}:prod`])).stdout,
    ) as {
      manifests: { platform: { architecture: string } }[];
    };
    expect(raw.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ tag: "prod", image: { ref: `${registry.address}/bootsmith/${NAME}:prod`, digest: list } });
    // Recorded in the build's manifests: each architecture's push and history, the combined one last.
    for (const arch of ["x86_64", "aarch64"]) {
      const own = archManifest(combinedDir(), arch);
      expect(own.image.pushed).toContainEqual({ ref: `${registry.address}/bootsmith/${NAME}:prod`, digest: list });
      expect(own.promotions?.at(-1)).toMatchObject({ from: "1", to: "prod", forced: false });
      expect(combined().arches[arch]!.manifest.sha256).toBe(await sha256File(path.join(combinedDir(), arch, "manifest.json")));
    }
    expect(combined().promotions?.at(-1)).toMatchObject({ from: "1", to: "prod" });

    // :1 moved to another image (the amd64 one alone): not the list the build pushed and tested.
    await execa("skopeo", [
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      `docker://${registry.address}/bootsmith/${NAME}:1-amd64`,
      `docker://${registry.address}/bootsmith/${NAME}:1`,
    ]);
    try {
      const moved = await promote("other", registryTarget(), "--tls-verify=false", "--artifacts", out);
      expect(moved.exitCode).toBe(1);
      expect(moved.stderr).toContain(`${registry.address}/bootsmith/${NAME}:1 is sha256:`);
      expect(moved.stderr).toContain("the image in the registry is not the one that build (and its boot test) describes");
    } finally {
      await execa("skopeo", [
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${registry.address}/bootsmith/${NAME}@${list}`,
        `docker://${registry.address}/bootsmith/${NAME}:1`,
      ]);
    }
  });
});
