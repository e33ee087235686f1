// promote and gc against a real registry (Debian's docker-registry on 127.0.0.1, deletes
// enabled). Three images pushed the way `bootsmith publish` pushes them (buildah push, digests
// recorded in each build's manifest.json), with the labels a build commits; the builds' boot-test
// records differ: none, passed, failed. Nothing here pulls a blob: skopeo reads manifests and
// configs, copies by digest and deletes by digest. Then a signed image in another repository:
// promote refuses it without the key, and with it a pull host under a signedBy policy accepts
// the new tag and the rewritten build record verifies.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { loadArtifactSet } from "../../src/publish/artifacts.js";
import { publishToRegistry } from "../../src/publish/registry.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { freePort } from "../publish/support/ceph.js";
import { startRegistry, writeAuthFile } from "../publish/support/registry.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { bootsmith } from "../support/cli.js";
import { makeTestKey } from "../support/gpg-keys.js";
import { pullHostArgs } from "../support/pull-host.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import { signArtifactDir } from "../../src/sign/sign-dir.js";

const ctx = { step: "test", reporter: silentReporter };
let work: string;
let buildah: string[];
let registryDir: string;
let repository: string;
let artifacts: string;
let bss: BssServer;
const stopRegistry = new AbortController();
let registryExit: Promise<unknown>;
const passed = { at: "2026-12-01T10:00:00Z", ok: true, totalSeconds: 42, phases: [], checks: [] };
const failed = { at: "2026-12-01T11:00:00Z", ok: false, phases: [], checks: [{ name: "marker", status: "fail" }] };

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "bootsmith-lc-registry-"));
  buildah = ["--root", path.join(work, "storage"), "--runroot", path.join(work, "run"), "--storage-driver", "vfs"];
  const host = `127.0.0.1:${await freePort()}`;
  registryDir = path.join(work, "registry");
  await writeFile(
    path.join(work, "registry.yml"),
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${registryDir}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\nlog:\n  level: warn\n`,
  );
  registryExit = run({ file: "docker-registry", args: ["serve", path.join(work, "registry.yml")] }, { ...ctx, signal: stopRegistry.signal }).catch(
    (e: unknown) => e,
  );
  for (
    let i = 0;
    !(await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i >= 100) throw new Error(`docker-registry did not answer on ${host} within 10 s`);
    await delay(100);
  }
  repository = `${host}/bootsmith/reg`;
  artifacts = path.join(work, "artifacts");
  // Images 1, 2, 3, built in that order (commit --timestamp), as a build labels them.
  for (const [i, bootTest] of [
    [1, undefined],
    [2, passed],
    [3, failed],
  ] as const) {
    const localRef = `localhost/bootsmith-test/reg:${i}`;
    const container = (await run({ file: "buildah", args: [...buildah, "from", "scratch"] }, ctx)).stdout.trim();
    await writeFile(path.join(work, "hello.txt"), `image ${i}\n`);
    await run({ file: "buildah", args: [...buildah, "copy", container, path.join(work, "hello.txt"), "/hello.txt"] }, ctx);
    await run({ file: "buildah", args: [...buildah, "config", "--label", "io.bootsmith.recipe=reg", "--label", `io.bootsmith.tags=${i}`, container] }, ctx);
    await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", "--timestamp", String(1_780_000_000 + i * 3600), container, localRef] }, ctx);
    const dir = path.join(artifacts, "reg", String(i));
    await mkdir(dir, { recursive: true });
    const image = await makeFakeImage({ dir, name: "reg", tags: [String(i)], sizes: {} });
    const manifest: Manifest = { ...image.manifest, image: { ref: localRef }, ...(bootTest ? { bootTest: { timeoutSeconds: 60, lastRun: bootTest } } : {}) };
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));
    await publishToRegistry(await loadArtifactSet(dir), { type: "registry", repository, tlsVerify: false }, { buildahGlobalArgs: buildah });
  }
  bss = await startBssServer();
}, 180_000);

afterAll(async () => {
  await bss?.stop();
  stopRegistry.abort();
  await registryExit;
  await run({ file: "buildah", args: [...buildah, "rmi", "--all", "--force"] }, ctx).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

const TARGET = () => [`--target`, `registry:${repository}`, "--tls-verify=false", "--artifacts", artifacts];

async function digestOf(tag: string, repo = repository): Promise<string | undefined> {
  const r = await run({ file: "skopeo", args: ["inspect", "--no-tags", "--tls-verify=false", `docker://${repo}:${tag}`] }, ctx).catch(() => undefined);
  return r ? (JSON.parse(r.stdout) as { Digest: string }).Digest : undefined;
}

/** Every blob the registry stores (a re-upload of anything new would add one). */
function blobs(): string[] {
  return readdirSync(path.join(registryDir, "docker/registry/v2/blobs"), { recursive: true }).map(String).sort();
}

const record = (tag: string) => JSON.parse(readFileSync(path.join(artifacts, "reg", tag, "manifest.json"), "utf8")) as Manifest;

describe("promote on a registry", () => {
  it("refuses an image whose build has no passed boot test (exit 1), and a failed one; nothing is tagged", async () => {
    const none = await bootsmith(["promote", "reg:1", "--to", "prod", ...TARGET()]);
    expect(none.exitCode, none.stderr).toBe(1);
    expect(none.stderr).toContain("no boot test on record");
    const bad = await bootsmith(["promote", "reg:3", "--to", "prod", ...TARGET()]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("failed: marker fail");
    expect(await digestOf("prod")).toBeUndefined();
  });

  it("copies a boot-tested image's manifest by digest: same digest, no new blob, the promotion recorded in the build's manifest", async () => {
    const before = blobs();
    const digest = await digestOf("2");
    const result = await bootsmith(["promote", "reg:2", "--to", "prod", ...TARGET(), "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`promoted reg:2 → reg:prod in registry:${repository} (boot test passed 2026-12-01T10:00:00Z (42 s))`);
    expect(await digestOf("prod")).toBe(digest);
    expect(blobs()).toEqual(before);
    expect(JSON.parse(result.stdout)).toMatchObject({ tag: "prod", target: "registry", image: { ref: `${repository}:prod`, digest } });
    const rec = record("2");
    expect(rec.promotions).toMatchObject([{ from: "2", to: "prod", forced: false }]);
    expect(rec.image.pushed).toContainEqual({ ref: `${repository}:prod`, digest });
    // The build keeps its own tags: a later `publish` of its directory must not push prod, which
    // only promote (with its boot-test check) may move.
    expect(rec.tags).toEqual(["2"]);
  });

  it("refuses when the registry's tag is not the image the build (and its boot test) pushed", async () => {
    const rec = record("3");
    writeFileSync(
      path.join(artifacts, "reg", "3", "manifest.json"),
      JSON.stringify({ ...rec, image: { ...rec.image, pushed: [{ ref: `${repository}:3`, digest: (await digestOf("1"))! }] } }),
    );
    const result = await bootsmith(["promote", "reg:3", "--to", "staging", ...TARGET(), "--force"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${repository}:3 is ${await digestOf("3")}, but`);
    expect(await digestOf("staging")).toBeUndefined();
  });

  it("a registry behind htpasswd: promote's refused credentials name --authfile and buildah login, never the password", async () => {
    const password = "s3cret-PW-91";
    const authDir = await mkdtemp(path.join(work, "auth-registry-"));
    const guarded = await startRegistry(authDir, { htpasswd: { user: "site", password } });
    try {
      const guardedRepo = `${guarded.address}/bootsmith/reg`;
      const authFile = path.join(authDir, "auth.json");
      const login = (pw: string) => writeAuthFile(authFile, guarded.address, "site", pw);
      // Image 2 (boot test passed), pushed there with the right credentials, its record apart.
      const guardedArtifacts = path.join(authDir, "artifacts");
      const dir = path.join(guardedArtifacts, "reg", "2");
      await mkdir(dir, { recursive: true });
      const image = await makeFakeImage({ dir, name: "reg", tags: ["2"], sizes: {} });
      await writeFile(
        path.join(dir, "manifest.json"),
        JSON.stringify({ ...image.manifest, image: { ref: "localhost/bootsmith-test/reg:2" }, bootTest: { timeoutSeconds: 60, lastRun: passed } }),
      );
      await login(password);
      await publishToRegistry(
        await loadArtifactSet(dir),
        { type: "registry", repository: guardedRepo, tlsVerify: false, authFile },
        { buildahGlobalArgs: buildah },
      );

      const promote = (...extra: string[]) =>
        bootsmith(
          ["promote", "reg:2", "--to", "prod", "--target", `registry:${guardedRepo}`, "--tls-verify=false", "--artifacts", guardedArtifacts, ...extra],
          {
            env: { REGISTRY_AUTH_FILE: path.join(authDir, "none.json") },
          },
        );
      const anonymous = await promote();
      expect(anonymous.exitCode, anonymous.stderr).toBe(1);
      expect(anonymous.stderr).toMatch(new RegExp(`${guardedRepo}: the registry refused to [^\n]*\\(unauthorized: authentication required\\)`));
      expect(anonymous.stderr).toContain(
        `no --authfile was given (skopeo looked in $REGISTRY_AUTH_FILE or its default auth file): write one with \`buildah login --authfile FILE ${guarded.address}\``,
      );
      await login("wrong-PW");
      const wrong = await promote("--authfile", authFile);
      expect(wrong.exitCode, wrong.stderr).toBe(1);
      expect(wrong.stderr).toContain(
        `the credentials in ${authFile} were not accepted: log in again with \`buildah login --authfile ${authFile} ${guarded.address}\``,
      );
      for (const r of [anonymous, wrong]) expect(r.stdout + r.stderr).not.toMatch(/s3cret|wrong-PW/);

      await login(password);
      const ok = await promote("--authfile", authFile);
      expect(ok.exitCode, ok.stderr).toBe(0);
    } finally {
      await guarded.stop();
    }
  });

  it("an unknown tag is exit 2", async () => {
    const result = await bootsmith(["promote", "reg:9", "--to", "prod", ...TARGET()]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("reg:9: not published");
  });
});

describe("gc on a registry", () => {
  const gc = (...args: string[]) => bootsmith(["gc", `registry:${repository}`, "--tls-verify=false", "--keep", "1", "--json", ...args]);
  interface Plan {
    keep: { tag: string; reasons: { kind: string }[] }[];
    remove: { tag: string }[];
    deleted: number;
  }

  it("keeps the newest, the promoted tag and its source (same digest), and what BSS points at; deletes by digest only the rest", async () => {
    const put = await fetch(`${bss.url}/boot/v1/bootparameters`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        macs: ["52:54:00:00:00:01"],
        kernel: "http://boot/vmlinuz",
        initrd: "http://boot/initramfs.img",
        params: `bootsmith.image=${repository}:1`,
      }),
    });
    expect(put.status).toBe(200);
    const dry = await gc("--bss", bss.url);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as Plan;
    const reasons = Object.fromEntries(plan.keep.map((k) => [k.tag, k.reasons.map((r) => r.kind)]));
    expect(reasons).toEqual({ "3": ["newest"], prod: ["promoted"], "2": ["same-image"], "1": ["referenced"] });
    expect(plan.remove).toEqual([]);

    // Nodes no longer boot 1: it goes, by digest; every other tag keeps its digest.
    const kept = { "2": await digestOf("2"), "3": await digestOf("3"), prod: await digestOf("prod") };
    const yes = await gc("--no-references", "--yes");
    expect(yes.exitCode, yes.stderr).toBe(0);
    const done = JSON.parse(yes.stdout) as Plan;
    expect(done.remove.map((r) => r.tag)).toEqual(["1"]);
    expect(done.deleted).toBe(1);
    expect(await digestOf("1")).toBeUndefined();
    expect({ "2": await digestOf("2"), "3": await digestOf("3"), prod: await digestOf("prod") }).toEqual(kept);
    expect(bss.violations).toEqual([]);
  });
});

describe("promote of a signed image on a registry", () => {
  it("a signed image: refused without --sign-key; with it the new tag is signed for a pull host and the build record verifies", async () => {
    // Another repository (gc below counts reg's tags): an image published signed (a lookaside
    // store), its build record signed as build --sign-key does.
    const sealed = repository.replace(/\/reg$/, "/sealed");
    const target = [`--target`, `registry:${sealed}`, "--tls-verify=false", "--artifacts", artifacts];
    const key = await makeTestKey(work, "site");
    const lookaside = path.join(work, "lookaside");
    const localRef = "localhost/bootsmith-test/sealed:4";
    const container = (await run({ file: "buildah", args: [...buildah, "from", "scratch"] }, ctx)).stdout.trim();
    await writeFile(path.join(work, "hello.txt"), "image 4\n");
    await run({ file: "buildah", args: [...buildah, "copy", container, path.join(work, "hello.txt"), "/hello.txt"] }, ctx);
    await run({ file: "buildah", args: [...buildah, "config", "--label", "io.bootsmith.recipe=sealed", "--label", "io.bootsmith.tags=4", container] }, ctx);
    await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, localRef] }, ctx);
    const dir = path.join(artifacts, "sealed", "4");
    await mkdir(dir, { recursive: true });
    const image = await makeFakeImage({ dir, name: "sealed", tags: ["4"], sizes: {} });
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: localRef } } satisfies Manifest));
    const cleanup = new CleanupStack();
    const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup });
    try {
      await signArtifactDir(dir, signer, ctx);
      await publishToRegistry(
        await loadArtifactSet(dir),
        { type: "registry", repository: sealed, tlsVerify: false, lookaside },
        { buildahGlobalArgs: buildah, signer },
      );
    } finally {
      await signer.close();
      await cleanup.unwind();
    }
    const first = await bootsmith(["verify", dir, "--key", key.publicFile]);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);

    const refused = await bootsmith(["promote", "sealed:4", "--to", "prod", ...target, "--force"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/sealed:4 is signed .*give --sign-key KEY/);
    expect(await digestOf("prod", sealed)).toBeUndefined();

    const promoted = await bootsmith(["promote", "sealed:4", "--to", "prod", ...target, "--force", "--sign-key", key.secretFile, "--lookaside", lookaside]);
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    expect(await digestOf("prod", sealed)).toBe(await digestOf("4", sealed));
    // A pull host that requires the site's signature accepts the new tag.
    const host = await pullHostArgs(path.join(work, "pull-host"), sealed, key.publicFile, lookaside);
    const pulled = await run(
      {
        file: "skopeo",
        args: [...host, "copy", "--src-tls-verify=false", `docker://${sealed}:prod`, `dir:${path.join(work, "pulled")}`],
      },
      ctx,
    ).then(
      () => 0,
      () => 1,
    );
    expect(pulled).toBe(0);
    // The build record promote rewrote (the promotion, the new tag's push) is signed again.
    expect((JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest).promotions).toEqual([
      expect.objectContaining({ from: "4", to: "prod" }),
    ]);
    expect((await bootsmith(["verify", dir, "--key", key.publicFile])).exitCode).toBe(0);
  });
});
