// After the architecture nodes of a recipe with arches: the combined manifest is written only
// when every architecture is there, and a stale one is removed when one failed (it would list a
// set that changed or is gone). Then signed sets through ci push / ci join (below). Artifact
// directories are made by hand; no build runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadGraph, selectNodes, type RecipeGraph } from "../../src/pipeline/graph.js";
import { joinArchitectures, multiArchGroups, pushBuiltArchitecture } from "../../src/pipeline/multi-arch-join.js";
import type { Outcome } from "../../src/pipeline/parallel.js";
import type { Manifest, MultiArchManifest } from "../../src/core/manifest.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { renderSums, SIGNATURE_FILE, sumEntries, SUMS_FILE } from "../../src/core/sums.js";
import { sha256Bytes } from "../../src/core/hash.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { run } from "../../src/exec/run.js";
import { openSigner } from "../../src/sign/gpg.js";
import { parseSigningKey } from "../../src/sign/key.js";
import { signArtifactDir } from "../../src/sign/sign-dir.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { bootsmith } from "../support/cli.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { makeTestKey, type TestKey } from "../support/gpg-keys.js";
import { registryTags, startRegistry, type TestRegistry } from "../publish/support/registry.js";
import { pullHostArgs } from "../support/pull-host.js";
import { removeRunRoots, storageArgsOf } from "../support/storage-root.js";

let work: string;
let out: string;
let graph: RecipeGraph;

async function archDir(arch: "x86_64" | "aarch64"): Promise<void> {
  const dir = path.join(out, "m", "1", arch);
  mkdirSync(dir, { recursive: true });
  const image = await makeFakeImage({ dir, name: "m", tags: ["1"], sizes: { kernel: 1000, initrd: 2000, rootfs: 3000 } });
  const manifest: Manifest = { ...image.manifest, arch, arches: ["x86_64", "aarch64"] };
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
}

const built: Outcome = { status: "built", durationMs: 1 };
const failed: Outcome = { status: "failed", durationMs: 1, detail: "exit 1", exitCode: 1 };
const combinedFile = () => path.join(out, "m", "1", "manifest.json");

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-join-"));
  out = path.join(work, "out");
  writeFileSync(
    path.join(work, "m.yaml"),
    'name: m\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n',
  );
  graph = loadGraph([path.join(work, "m.yaml")], { env: {} });
  await archDir("x86_64");
  await archDir("aarch64");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("joinArchitectures", () => {
  const groups = () => multiArchGroups(graph, selectNodes(graph, {}), out);
  const join = (outcomes: Record<string, Outcome>, lines: string[] = []) =>
    joinArchitectures(groups(), new Map(Object.entries(outcomes)), { publish: false, buildahArgs: async () => [], write: (l) => lines.push(l) });

  it("groups the architecture nodes of one recipe under its combined directory", () => {
    expect(groups()).toEqual([{ dir: path.join(out, "m", "1"), recipe: graph.nodes.get("m@aarch64")!.recipe, nodes: ["m@aarch64", "m@x86_64"] }]);
  });

  it("every architecture built: the combined manifest lists each with its manifest's and artifacts' sha256s", async () => {
    expect(await join({ "m@x86_64": built, "m@aarch64": built })).toBe(true);
    const m = JSON.parse(readFileSync(combinedFile(), "utf8")) as MultiArchManifest;
    expect(m.kind).toBe("multi-arch");
    expect(Object.keys(m.arches).sort()).toEqual(["aarch64", "x86_64"]);
    const own = JSON.parse(readFileSync(path.join(out, "m", "1", "aarch64", "manifest.json"), "utf8")) as Manifest;
    expect(m.arches.aarch64!.artifacts.rootfs).toEqual({ ...own.artifacts.rootfs, file: "aarch64/rootfs.squashfs" });
    expect(m.arches.aarch64!.manifest.file).toBe("aarch64/manifest.json");
  });

  it("one architecture failed: no combined manifest (the earlier one is removed), and the run fails", async () => {
    expect(existsSync(combinedFile())).toBe(true);
    const lines: string[] = [];
    expect(await join({ "m@x86_64": built, "m@aarch64": failed }, lines)).toBe(false);
    expect(existsSync(combinedFile())).toBe(false);
    expect(lines).toEqual(["[m] combined manifest not written: not every architecture (x86_64, aarch64) was built"]);
  });
});

describe("pushBuiltArchitecture (ci push) refuses, before any push", () => {
  const push = (file: string, arch: "x86_64" | "aarch64" = "x86_64") => pushBuiltArchitecture(file, arch, { vars: {}, outRoot: out, write: () => {} });

  it("a recipe without a registry target (S3 and directory targets are the join's alone)", async () => {
    await expect(push(path.join(work, "m.yaml"))).rejects.toThrow(/m\.yaml: no registry publish target to push m@x86_64 to/);
  });

  it("an architecture not built here, built from other inputs, or signed (recording the push would void the signature)", async () => {
    const file = path.join(work, "r.yaml");
    writeFileSync(
      file,
      'name: r\ntags: ["1"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: registry, repository: "127.0.0.1:1/r"}\n',
    );
    await expect(push(file, "aarch64")).rejects.toThrow(/r\/1\/aarch64\/manifest\.json: missing; did the build of r@aarch64 succeed\?/);
    const dir = path.join(out, "r", "1", "aarch64");
    cpSync(path.join(out, "m", "1", "aarch64"), dir, { recursive: true });
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ ...JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")), name: "r" }));
    await expect(push(file, "aarch64")).rejects.toThrow(/was built from other inputs than .*r\.yaml has now .*: rebuild r@aarch64/);

    // Built from the current inputs, but signed: recording the push would void the signature.
    const inputDigest = loadGraph([file], { env: {} }).nodes.get("r@aarch64")!.recipe.inputDigest;
    const bytes = Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")), inputDigest }));
    writeFileSync(path.join(dir, "manifest.json"), bytes);
    const manifest = JSON.parse(bytes.toString()) as Manifest;
    writeFileSync(path.join(dir, SUMS_FILE), renderSums(sumEntries(manifest, sha256Bytes(bytes))));
    writeFileSync(path.join(dir, SIGNATURE_FILE), "a detached signature");
    await expect(push(file, "aarch64")).rejects.toThrow(
      /the set is signed, and recording the pushed digests would void its signature: give the key that signed it: --sign-key KEY .*BOOTSMITH_SIGN_KEY_FILE/,
    );
  });
});

// A signed set through the GitLab path, driven with the built CLI: each architecture's job pushes
// its image (`ci push`), the join lists the recorded digests (`ci join --pushed`) from an empty
// buildah storage, publishes to a directory served over HTTP and registers one node per
// architecture with `verify:` against the BSS contract server. The sets are made by hand (fake
// artifacts, one-file images for amd64/arm64 in a private vfs storage) and signed with a
// throwaway GnuPG key with a passphrase, as a build with signing: leaves them; docker-registry
// on 127.0.0.1. Then the shared-storage join (no --pushed), without and with --sign-key.
describe("signed sets: ci push / ci join sign every manifest.json they change again", () => {
  const PASSPHRASE = `Numbat-${randomBytes(4).toString("hex")}`;
  const MAC_X86 = "52:54:00:00:19:01";
  const MAC_ARM = "52:54:00:00:19:02";
  let root: string;
  let key: TestKey;
  let registry: TestRegistry;
  let served: StaticServer;
  let bss: BssServer;
  let storage: Record<string, string>;
  const images: Record<"x86_64" | "aarch64", string> = { x86_64: "", aarch64: "" };
  const outRoot = () => path.join(root, "out");
  const published = () => path.join(root, "published");
  const ctx = { step: "test", reporter: silentReporter };

  /** A recipe with arches: and a registry target (and, given, more keys), written as YAML. */
  function writeRecipe(name: string, extra: Record<string, unknown>, targets: unknown[] = []): string {
    const file = path.join(root, `${name}.yaml`);
    const recipe = {
      name,
      tags: ["1"],
      arches: ["x86_64", "aarch64"],
      from: "scratch",
      packages: { manager: "dnf", release: "9", install: ["kernel"] },
      boot: { params: "console=ttyS0 root=live:{{ rootfs.url }}" },
      publish: [
        { type: "registry", repository: `${registry.address}/bootsmith/${name}`, tlsVerify: false, lookaside: path.join(root, "lookaside") },
        ...targets,
      ],
      ...extra,
    };
    writeFileSync(file, JSON.stringify(recipe));
    return file;
  }

  /** Each architecture's directory as its build leaves it: built from the recipe's inputs, naming its image, signed unless told. */
  async function builtSets(file: string, signed = true): Promise<void> {
    const graph = loadGraph([file], { env: {} });
    for (const arch of ["x86_64", "aarch64"] as const) {
      const recipe = graph.nodes.get(`${path.basename(file, ".yaml")}@${arch}`)!.recipe;
      const dir = path.join(outRoot(), recipe.spec.name, "1", arch);
      mkdirSync(dir, { recursive: true });
      const image = await makeFakeImage({ dir, name: recipe.spec.name, tags: ["1"], sizes: { kernel: 1000, initrd: 2000, rootfs: 3000 } });
      const manifest: Manifest = { ...image.manifest, arch, arches: ["x86_64", "aarch64"], inputDigest: recipe.inputDigest, image: { ref: images[arch] } };
      writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
      if (!signed) continue;
      const signer = await openSigner(parseSigningKey(key.secretFile), { cleanup: new CleanupStack(), passphrase: PASSPHRASE });
      try {
        await signArtifactDir(dir, signer, ctx);
      } finally {
        await signer.close();
      }
    }
  }

  const cli = (args: string[], env: Record<string, string> = storage) =>
    bootsmith(args, { cwd: root, env: { ...env, BOOTSMITH_SIGN_PASSPHRASE: PASSPHRASE, XDG_STATE_HOME: path.join(root, "state") } });
  const verify = (dir: string) => cli(["verify", dir, "--key", key.publicFile]);
  const manifestOf = (name: string, arch: string) => JSON.parse(readFileSync(path.join(outRoot(), name, "1", arch, "manifest.json"), "utf8")) as Manifest;
  const noSecrets = (r: { stdout: string; stderr: string }) => {
    expect(r.stdout + r.stderr).not.toContain(PASSPHRASE);
    expect(r.stdout + r.stderr).not.toContain(key.secretArmored.split("\n")[3]!);
  };

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "bootsmith-join-signed-"));
    storage = { BOOTSMITH_STORAGE_ROOT: path.join(root, "storage"), BOOTSMITH_STORAGE_DRIVER: "vfs" };
    // The images the builds would have committed, in the storage `ci push` opens: its run root too.
    const buildah = storageArgsOf(path.join(root, "storage"));
    mkdirSync(path.join(root, "keys"));
    mkdirSync(published());
    key = await makeTestKey(path.join(root, "keys"), "site", PASSPHRASE);
    for (const [arch, oci] of [
      ["x86_64", "amd64"],
      ["aarch64", "arm64"],
    ] as const) {
      images[arch] = `localhost/bootsmith-test/signed-join:${oci}`;
      const container = (await run({ file: "buildah", args: [...buildah, "from", "--arch", oci, "scratch"] }, ctx)).stdout.trim();
      writeFileSync(path.join(root, `${oci}.txt`), `${oci} ${randomBytes(4).toString("hex")}\n`);
      await run({ file: "buildah", args: [...buildah, "copy", container, path.join(root, `${oci}.txt`), "/arch.txt"] }, ctx);
      await run({ file: "buildah", args: [...buildah, "commit", "-q", "--rm", container, images[arch]] }, ctx);
    }
    registry = await startRegistry(root);
    served = await startStaticServer({ root: published() });
    bss = await startBssServer();
  }, 120_000);

  afterAll(async () => {
    await served?.close();
    await bss?.stop();
    await registry?.stop();
    if (root) {
      await run({ file: "buildah", args: [...storageArgsOf(path.join(root, "storage")), "rmi", "--all", "--force"] }, ctx).catch(() => {});
      removeRunRoots([path.join(root, "storage"), path.join(root, "join-storage")]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("ci push signs each architecture's set again (the recipe's signing.key, or --sign-key), ci join --pushed the lists; the published set verifies and registers", async () => {
    const file = writeRecipe(
      "g",
      {
        signing: { key: "keys/site.secret.asc" },
        register: [
          { type: "bss", arch: "x86_64", url: bss.url, macs: [MAC_X86], verify: { key: "keys/site.pub.gpg" } },
          { type: "bss", arch: "aarch64", url: bss.url, macs: [MAC_ARM], verify: { key: "keys/site.pub.gpg" } },
        ],
      },
      [{ type: "local", dir: published(), publicBase: served.url }],
    );
    await builtSets(file);
    const repository = `${registry.address}/bootsmith/g`;
    // The plan shows the join's registry publish with the key that signs the sets again.
    const planned = await cli(["plan", "g.yaml", "--json"]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const after = (JSON.parse(planned.stdout) as { after: { command?: string }[] }).after.map((a) => a.command ?? "");
    expect(after.find((c) => c.includes(`--to registry:${repository}`))).toContain(`--sign-key ${key.secretFile}`);
    expect(after.find((c) => c.includes("--to dir:"))).not.toContain("--sign-key");

    // One job per architecture: the recipe's key for x86_64, --sign-key for aarch64.
    const x86 = await cli(["ci", "push", "g.yaml", "--arch", "x86_64", "--out", "out"]);
    expect(x86.exitCode, x86.stderr).toBe(0);
    const arm = await cli(["ci", "push", "g.yaml", "--arch", "aarch64", "--out", "out", "--sign-key", key.secretFile]);
    expect(arm.exitCode, arm.stderr).toBe(0);
    expect((await registryTags(repository)).sort()).toEqual(["1-amd64", "1-arm64"]);
    for (const [arch, oci] of [
      ["x86_64", "amd64"],
      ["aarch64", "arm64"],
    ] as const) {
      expect(manifestOf("g", arch).image.pushed?.map((p) => p.ref)).toEqual([`${repository}:1-${oci}`]);
      const verified = await verify(path.join(outRoot(), "g", "1", arch));
      expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout + verified.stderr).toContain(key.fingerprint);
    }
    // The pushed images are signed too (simple signing, one signature per <tag>-<arch> identity).
    expect(readdirSync(path.join(root, "lookaside"), { recursive: true }).filter((f) => String(f).endsWith("signature-1"))).toHaveLength(2);

    // The join's runner: another storage, holding none of the images.
    const joined = await cli(["ci", "join", "g.yaml", "--out", "out", "--pushed"], {
      BOOTSMITH_STORAGE_ROOT: path.join(root, "join-storage"),
      BOOTSMITH_STORAGE_DRIVER: "vfs",
    });
    expect(joined.exitCode, joined.stderr).toBe(0);
    expect(joined.stderr).not.toContain("not recorded");
    expect(joined.stderr).toMatch(/register\[0\]: registered x86_64 with bss/);
    expect(joined.stderr).toMatch(/register\[1\]: registered aarch64 with bss/);
    expect(bss.entry(`mac:${MAC_ARM}`)?.kernel).toBe(`${served.url}/g/1/aarch64/vmlinuz`);
    for (const r of [x86, arm, joined]) noSecrets(r);
    // Each manifest records its image and the list; the sets, the combined directory here and
    // the published one verify.
    for (const arch of ["x86_64", "aarch64"] as const) expect(manifestOf("g", arch).image.pushed?.map((p) => p.ref)).toContain(`${repository}:1`);
    for (const dir of [path.join(outRoot(), "g", "1"), path.join(published(), "g", "1")]) {
      const verified = await verify(dir);
      expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    }
    const list = JSON.parse((await run({ file: "skopeo", args: ["inspect", "--raw", "--tls-verify=false", `docker://${repository}:1`] }, ctx)).stdout) as {
      manifests: { digest: string }[];
    };
    expect(list.manifests.map((m) => m.digest).sort()).toEqual(
      ["x86_64", "aarch64"].map((a) => manifestOf("g", a).image.pushed!.find((p) => p.ref.endsWith("-amd64") || p.ref.endsWith("-arm64"))!.digest).sort(),
    );

    // A manifest changed after signing fails verify, naming it.
    const tampered = path.join(root, "tampered");
    cpSync(path.join(published(), "g", "1"), tampered, { recursive: true });
    const armManifest = path.join(tampered, "aarch64", "manifest.json");
    writeFileSync(armManifest, readFileSync(armManifest, "utf8").replace(`${repository}:1`, `${repository}:2`));
    const refused = await verify(tampered);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/aarch64\/manifest\.json/);
  });

  it("a site that signs only at the join: unsigned sets, ci push without a key, ci join --pushed --sign-key signs the sets, the lists and their images", async () => {
    const file = writeRecipe("j", {}, [{ type: "local", dir: published(), publicBase: served.url }]);
    await builtSets(file, false);
    const repository = `${registry.address}/bootsmith/j`;
    for (const arch of ["x86_64", "aarch64"]) {
      const pushed = await cli(["ci", "push", "j.yaml", "--arch", arch, "--out", "out"]);
      expect(pushed.exitCode, pushed.stderr).toBe(0);
    }
    const joined = await cli(["ci", "join", "j.yaml", "--out", "out", "--pushed", "--sign-key", key.secretFile], {
      BOOTSMITH_STORAGE_ROOT: path.join(root, "join-storage"),
      BOOTSMITH_STORAGE_DRIVER: "vfs",
    });
    expect(joined.exitCode, joined.stderr).toBe(0);
    noSecrets(joined);
    for (const arch of ["x86_64", "aarch64"] as const) expect(manifestOf("j", arch).image.pushed?.map((p) => p.ref)).toContain(`${repository}:1`);
    for (const dir of [path.join(outRoot(), "j", "1"), path.join(published(), "j", "1")]) {
      for (const arch of ["x86_64", "aarch64"]) expect(existsSync(path.join(dir, arch, SIGNATURE_FILE)), `${dir}/${arch}`).toBe(true);
      const verified = await verify(dir);
      expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout + verified.stderr).toContain(key.fingerprint);
    }
    // A pull host that requires the key's signature gets the list and each architecture's image.
    const host = await pullHostArgs(path.join(root, "pull-host-j"), repository, key.publicFile, path.join(root, "lookaside"));
    const pull = (tag: string, global: string[] = [], copy: string[] = []) =>
      run(
        {
          file: "skopeo",
          args: [
            ...host,
            ...global,
            "copy",
            "--src-tls-verify=false",
            ...copy,
            `docker://${repository}:${tag}`,
            `dir:${mkdtempSync(path.join(root, "pulled-"))}`,
          ],
        },
        ctx,
      );
    for (const arch of ["amd64", "arm64"]) await pull("1", ["--override-arch", arch]);
    await pull("1", [], ["--multi-arch", "index-only"]);
    // The policy does refuse an unsigned image: the <tag>-<arch> tag ci push made without the key.
    const refused = await pull("1-amd64").then(
      () => "pulled",
      (error: unknown) => (error as { outputTail?: string[] }).outputTail?.join("\n") ?? String(error),
    );
    expect(refused).toMatch(/signature/i);
  });

  it("shared storage: ci join without a key leaves the signed sets as they are and names the fix; with --sign-key it records the lists and signs again", async () => {
    // No signing: in the recipe (the sets were signed with build --sign-key): the key comes from the flag only.
    const file = writeRecipe("s", {});
    await builtSets(file);
    const before = ["x86_64", "aarch64"].map((a) => readFileSync(path.join(outRoot(), "s", "1", a, "manifest.json"), "utf8"));

    const refused = await cli(["ci", "push", "s.yaml", "--arch", "aarch64", "--out", "out"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/the set is signed, and recording the pushed digests would void its signature: give the key that signed it: --sign-key KEY/);
    expect(refused.stderr).toContain("BOOTSMITH_SIGN_KEY_FILE");

    const unkeyed = await cli(["ci", "join", "s.yaml", "--out", "out"]);
    expect(unkeyed.exitCode, unkeyed.stderr).toBe(0);
    expect(unkeyed.stderr).toMatch(
      /the pushed digests are not recorded: the set is signed and no signing key was given to sign it again; give the key that signed it: --sign-key KEY/,
    );
    expect(["x86_64", "aarch64"].map((a) => readFileSync(path.join(outRoot(), "s", "1", a, "manifest.json"), "utf8"))).toEqual(before);

    const keyed = await cli(["ci", "join", "s.yaml", "--out", "out", "--sign-key", key.secretFile]);
    expect(keyed.exitCode, keyed.stderr).toBe(0);
    expect(keyed.stderr).not.toContain("not recorded");
    noSecrets(keyed);
    const repository = `${registry.address}/bootsmith/s`;
    expect(manifestOf("s", "aarch64").image.pushed?.map((p) => p.ref)).toEqual([`${repository}:1-arm64`, `${repository}:1`]);
    const verified = await verify(path.join(outRoot(), "s", "1"));
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);

    // publish of the combined directory takes the key the same way.
    const copy = `${registry.address}/bootsmith/s-copy`;
    const storageArgs = storageArgsOf(path.join(root, "storage"));
    const published = await cli(["publish", "out/s/1", "--to", `registry:${copy}`, "--tls-verify=false", "--sign-key", key.secretFile, ...storageArgs]);
    expect(published.exitCode, published.stderr).toBe(0);
    noSecrets(published);
    expect(manifestOf("s", "aarch64").image.pushed?.map((p) => p.ref)).toEqual([`${repository}:1-arm64`, `${repository}:1`, `${copy}:1-arm64`, `${copy}:1`]);
    const again = await verify(path.join(outRoot(), "s", "1"));
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
  });
});
