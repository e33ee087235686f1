// The registry going away in the middle of `bootsmith publish --to registry:…`: Debian's
// docker-registry on 127.0.0.1 receives an image with a 120 MB layer; once the layer's upload has
// started, the registry is killed. The publish must fail (exit 1) naming the push, write no
// published.json, and once the registry is back no tag may be visible: a node, or a later
// `register`, cannot take a half-pushed image for a published one. The happy paths and TLS
// errors are in test/publish/registry.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { freePort } from "../publish/support/ceph.js";
import { startBootsmith } from "../support/cli.js";

const LOCAL_REF = `localhost/bootsmith-fault/registry-big-${randomBytes(3).toString("hex")}:1`;
let work: string;
let artifacts: string;
let registryAddr: string;
let config: string;
let registry: ResultPromise | undefined;

async function until<T>(what: string, check: () => Promise<T | undefined>, withinMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function startRegistry(): Promise<void> {
  registry = execa("docker-registry", ["serve", config], { reject: false });
  await until("docker-registry to answer", async () => ((await fetch(`http://${registryAddr}/v2/`)).ok ? true : undefined), 20_000, 100);
}

async function stopRegistry(): Promise<void> {
  const r = registry;
  registry = undefined;
  if (!r) return;
  r.kill("SIGKILL");
  await r;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-fault-registry-"));
  // An image whose one layer takes a while to push: 120 MB that do not compress.
  writeFileSync(path.join(work, "big.bin"), randomBytes(120 * 1024 * 1024));
  const container = (await execa("buildah", ["from", "scratch"])).stdout.trim();
  await execa("buildah", ["copy", container, path.join(work, "big.bin"), "/big.bin"]);
  await execa("buildah", ["commit", "-q", "--rm", container, LOCAL_REF]);
  // A built artifact directory whose manifest names that image.
  const image = await makeFakeImage({ dir: mkdtempSync(path.join(work, "out-")), name: "fault-registry", tags: ["1"], sizes: { kernel: 1024 } });
  artifacts = image.dir;
  writeFileSync(path.join(artifacts, "manifest.json"), JSON.stringify({ ...image.manifest, image: { ref: LOCAL_REF } }, null, 2) + "\n");

  registryAddr = `127.0.0.1:${await freePort()}`;
  config = path.join(work, "registry.yml");
  writeFileSync(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(work, "registry")}\nhttp:\n  addr: ${registryAddr}\nlog:\n  level: warn\n`,
  );
  await startRegistry();
}, 170_000);

afterAll(async () => {
  await stopRegistry();
  await execa("buildah", ["rmi", "-f", LOCAL_REF], { reject: false });
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe("registry stopped mid-publish", () => {
  it("publish fails naming the push; no published.json; no tag visible once the registry is back", { timeout: 170_000 }, async () => {
    const repository = `${registryAddr}/fault/img`;
    const publish = startBootsmith(["publish", artifacts, "--to", `registry:${repository}`, "--tls-verify=false"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: 150_000,
    });
    let exited = false;
    void publish.then(() => (exited = true));
    const uploads = path.join(work, "registry/docker/registry/v2/repositories/fault/img/_uploads");
    // The layer's upload has started once the registry holds an upload session for it.
    const seen = await until(
      "the layer upload",
      async () => {
        if (exited) return "publish ended first";
        return existsSync(uploads) && readdirSync(uploads).length > 0 ? "uploading" : undefined;
      },
      120_000,
      10,
    );
    expect(seen, exited ? String((await publish).all) : "").toBe("uploading");
    await stopRegistry();

    const result = await publish;
    const all = String(result.all);
    expect(result.exitCode, all).toBe(1);
    expect(all).toContain(repository);
    // buildah's own account: the push command, and that it died writing the layer.
    // (from the storage a build uses here: buildah's own root, run root and driver, given explicitly)
    expect(all).toMatch(/buildah --root \S+ --runroot \S+ (--storage-driver \S+ )?push --tls-verify=false/);
    expect(all).toMatch(/writing blob/);
    expect(all).not.toMatch(/^ {4}at /m);
    expect(existsSync(path.join(artifacts, "published.json")), "no record of a publish that did not finish").toBe(false);

    await startRegistry();
    const tags = await fetch(`http://${registryAddr}/v2/fault/img/tags/list`);
    const body = tags.ok ? ((await tags.json()) as { tags?: string[] | null }) : { tags: null };
    expect(body.tags ?? [], `tags after the failed push: ${JSON.stringify(body)}`).toEqual([]);
    const manifest = await fetch(`http://${registryAddr}/v2/fault/img/manifests/1`, {
      method: "HEAD",
      headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
    });
    expect(manifest.status).toBe(404);
    expect(readFileSync(path.join(artifacts, "manifest.json"), "utf8")).toContain(LOCAL_REF);
  });
});
