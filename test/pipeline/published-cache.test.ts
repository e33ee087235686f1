// --check-published against a real Ceph RGW (test/support/ceph-s3.sh): a recipe that publishes
// only to S3, "built on another runner" (its set published there, nothing local), is up to date
// from the manifest.json S3 holds; GitLab's one-file job skips it and `ci dotenv` describes the
// published set. Another key, no manifest, or an unreachable endpoint: rebuilt, saying why.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { freePort, type CephS3 } from "../publish/support/ceph.js";
import { sharedCeph } from "../publish/support/shared-ceph.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { bootsmith } from "../support/cli.js";
import { createS3Client } from "../../src/publish/s3-client.js";
import { loadRecipe } from "../../src/recipe/load.js";

let ceph: CephS3;
let work: string;
let recipe: string;
let env: Record<string, string>;
const bucket = `pubcache-${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  ceph = await sharedCeph();
  const client = createS3Client(
    { type: "s3", endpoint: ceph.endpoint, bucket },
    { credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } },
  );
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-pubcache-"));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    S3_ACCESS: ceph.accessKeyId,
    S3_SECRET: ceph.secretAccessKey,
    BOOTSMITH_WORK_DIR: path.join(work, "staging"),
  };
  recipe = path.join(work, "pubcache.yaml");
  // Never built here: the checks below decide without buildah.
  writeFileSync(
    recipe,
    [
      "name: pubcache",
      "tags: ['1', latest]",
      "from:\n  image: registry.invalid/base:1",
      "labels:\n  org.example.flavour: ${FLAVOUR}",
      "publish:\n  - type: s3\n    endpoint: ${S3_ENDPOINT}\n    bucket: " + bucket + "\n    prefix: images/",
      "boot: false",
      "",
    ].join("\n"),
  );
}, 180_000);

afterAll(async () => {
  await ceph?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const vars = (flavour: string, endpoint = ceph.endpoint) => ["--var", `FLAVOUR=${flavour}`, "--var", `S3_ENDPOINT=${endpoint}`];
const explain = (...args: string[]) => bootsmith(["build", recipe, "--explain", "--check-published", "--out", path.join(work, "out"), ...args], { env });
const where = () => `s3://${bucket}/images/pubcache/1/manifest.json`;

describe("bootsmith build --check-published with an S3 target", () => {
  it("nothing published yet: rebuilt, naming the missing manifest", async () => {
    const result = await explain(...vars("blue"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`pubcache \\(.*\\): rebuild\\n {2}never built here: .*\\n {2}${where()} does not exist\\n`));
  });

  it("published elsewhere with the key: up to date; the one-file job skips it and ci dotenv describes the published set", async () => {
    const key = loadRecipe(recipe, { vars: { FLAVOUR: "blue", S3_ENDPOINT: ceph.endpoint } }).inputDigest;
    const image = await makeFakeImage({ name: "pubcache", tags: ["1", "latest"], dir: mkdtempSync(path.join(work, "set-")) });
    writeFileSync(path.join(image.dir, "manifest.json"), JSON.stringify({ ...image.manifest, inputDigest: key }, null, 2));
    const published = await bootsmith(["publish", image.dir, "--to", `s3://${bucket}/images/`, "--endpoint", ceph.endpoint], { env });
    expect(published.exitCode, published.stderr).toBe(0);

    const upToDate = await explain(...vars("blue"));
    expect(upToDate.stdout).toMatch(
      new RegExp(
        `pubcache \\(.*\\): up to date\\n {2}up to date where published: ${where()} carries key ${key.slice(0, 12)}; not built here \\(never built here`,
      ),
    );
    expect(upToDate.stdout).toContain("0 of 1 recipes would be built");
    // Without the option only the (missing) local output counts.
    expect((await bootsmith(["build", recipe, "--explain", "--out", path.join(work, "out"), ...vars("blue")], { env })).stdout).toContain(
      "1 of 1 recipes would be built",
    );

    // As the generated GitLab job runs it: one file, --if-changed --check-published.
    const out = path.join(work, "runner/pubcache/1");
    const job = await bootsmith(["build", recipe, "--if-changed", "--check-published", "--out", out, "--progress", "plain", ...vars("blue")], { env });
    expect(job.exitCode, job.stderr).toBe(0);
    // (after the warning that this from.image recipe names no package manager)
    expect(job.stderr).toMatch(/^pubcache: skipped: up to date where published: /m);
    expect(existsSync(out)).toBe(false);
    const dotenv = await bootsmith(["ci", "dotenv", path.join(out, "manifest.json"), "--recipe", recipe, ...vars("blue")], { env });
    expect(dotenv.exitCode, dotenv.stderr).toBe(0);
    // The published manifest's record: its name and key (a set with no registry push has no digest).
    expect(dotenv.stdout.trim().split("\n").slice(1)).toEqual(["BOOTSMITH_IMAGE_NAME=pubcache", `BOOTSMITH_BUILT_INPUT_DIGEST=${key}`]);

    // A changed recipe: the published set is another key's.
    const changed = await explain(...vars("green"));
    expect(changed.stdout).toMatch(new RegExp(`: rebuild\\n {2}never built here: .*\\n {2}${where()} carries key ${key.slice(0, 12)}, not [0-9a-f]{12}\\n`));
    const refused = await bootsmith(["ci", "dotenv", path.join(out, "manifest.json"), "--recipe", recipe, ...vars("green")], { env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`${where()} holds no set of pubcache with key`);
  });

  it("an endpoint that does not answer: rebuilt, saying the target was not checked", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await explain(...vars("blue", closed));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/: rebuild\n {2}never built here: .*\n {2}publish target not checked: .*127\.0\.0\.1/);
  });
});
