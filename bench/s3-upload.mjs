#!/usr/bin/env node
// Benchmark: one large file uploaded to the same Ceph RGW by bootsmith's S3 publisher and by
// Debian's `aws s3 cp`, in one run. Prints MB/s for each, the throughput ratio and peak RSS.
// Not a timed test: run it by hand or from CI's bench job.
//
//   node bench/s3-upload.mjs [--size-mib 2048] [--part-size-mib 8] [--concurrency 4] [--rounds 1]
//
// Starts its own Ceph (test/support/ceph-s3.sh, memstore sized for the file) unless
// S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY point at a running one. Compiles src/ with tsc into
// node_modules/.cache/bootsmith-bench so the publisher runs as built JavaScript.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "2048" },
    "part-size-mib": { type: "string", default: "8" },
    concurrency: { type: "string", default: "4" },
    rounds: { type: "string", default: "1" },
  },
});
const MiB = 1024 * 1024;
const size = Number(values["size-mib"]) * MiB;
const rounds = Number(values.rounds);

/** Run a program, inherit stderr, collect stdout; reject on failure. */
function exec(file, args, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolvePromise({ stdout, stderr }) : reject(new Error(`${file} ${args.join(" ")} exited ${code}\n${stderr.slice(-2000)}`)),
    );
  });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer()
      .once("error", rej)
      .listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => res(port));
      });
  });
}

/** /usr/bin/time -v's "Maximum resident set size (kbytes)". */
function maxRssKb(timeOutput) {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(timeOutput);
  return m ? Number(m[1]) : NaN;
}

/** User + system CPU seconds from /usr/bin/time -v. */
function cpuSeconds(timeOutput) {
  const user = /User time \(seconds\): ([\d.]+)/.exec(timeOutput);
  const system = /System time \(seconds\): ([\d.]+)/.exec(timeOutput);
  return user && system ? Number(user[1]) + Number(system[1]) : NaN;
}

const work = await mkdtemp(join(tmpdir(), "bootsmith-bench-"));
let stopCeph = async () => {};
try {
  console.error(`compiling src/ …`);
  const out = join(repo, "node_modules/.cache/bootsmith-bench");
  await exec("npx", ["tsc", "-p", join(repo, "tsconfig.json"), "--outDir", out, "--noEmitOnError", "false"]).catch((e) => {
    // Type errors elsewhere in the tree do not stop emission; only a missing output is fatal.
    console.error(`tsc reported errors (emitted anyway): ${String(e.message).split("\n").slice(1, 4).join(" | ")}`);
  });

  let endpoint = process.env.S3_ENDPOINT;
  let accessKey = process.env.S3_ACCESS_KEY;
  let secretKey = process.env.S3_SECRET_KEY;
  if (!endpoint) {
    const dir = join(work, "ceph");
    const env = {
      DIR: dir,
      RGW_PORT: String(await freePort()),
      MON_PORT: String(await freePort()),
      MEMSTORE_BYTES: String(Math.max(3 * 1024 ** 3, 2 * size + 1024 ** 3)),
    };
    console.error(`starting Ceph RGW (${dir}) …`);
    const tool = resolve(repo, "test/support/ceph-s3.sh");
    stopCeph = () => exec("bash", [tool, "stop"], env).catch(() => {});
    const { stdout } = await exec("bash", [tool, "start"], env);
    const last = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .pop()
        .split(" ")
        .map((kv) => kv.split("=")),
    );
    ({ S3_ENDPOINT: endpoint, S3_ACCESS_KEY: accessKey, S3_SECRET_KEY: secretKey } = last);
    process.env.BENCH_CEPH_CONF = join(dir, "ceph.conf");
  }
  const creds = { AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
  const aws = (...args) => exec("/usr/bin/aws", [...args, "--endpoint-url", endpoint], creds);

  const bucket = `bench-${Date.now()}`;
  await aws("s3", "mb", `s3://${bucket}`);

  console.error(`writing a ${size / MiB} MiB random file …`);
  const image = join(work, "image");
  await exec("mkdir", ["-p", image]);
  const hash = createHash("sha256");
  const stream = createWriteStream(join(image, "rootfs.squashfs"));
  const chunk = Buffer.alloc(8 * MiB);
  for (let written = 0; written < size; written += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - written));
    randomFillSync(part);
    hash.update(part);
    if (!stream.write(part)) await new Promise((r) => stream.once("drain", r));
  }
  await new Promise((r) => stream.end(r));
  const manifest = {
    schemaVersion: 1,
    name: "bench",
    tags: ["1"],
    arch: "x86_64",
    inputDigest: "0".repeat(64),
    recipeFile: "bench",
    base: { kind: "scratch" },
    image: { ref: "localhost/bench:1" },
    artifacts: { rootfs: { file: "rootfs.squashfs", sha256: hash.digest("hex"), size } },
    packages: [],
    packageManager: "none",
    tools: {},
    timings: [],
    builtAt: new Date().toISOString(),
  };
  await writeFile(join(image, "manifest.json"), JSON.stringify(manifest));

  // The publisher in a child of its own, so its peak RSS is bootsmith's alone.
  const child = `
    import { loadArtifactSet } from ${JSON.stringify(join(out, "publish/artifacts.js"))};
    import { publishToS3 } from ${JSON.stringify(join(out, "publish/s3.js"))};
    const set = await loadArtifactSet(${JSON.stringify(image)});
    const t0 = performance.now();
    const outcome = await publishToS3(set, { type: "s3", endpoint: ${JSON.stringify(endpoint)}, bucket: ${JSON.stringify(bucket)}, prefix: "bootsmith/" },
      { partSize: ${Number(values["part-size-mib"])} * 1048576, queueSize: ${Number(values.concurrency)} });
    const seconds = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ seconds, transfers: outcome.transfers.map((t) => t.action + " " + t.file) }));
  `;
  const cleanBucket = async () => {
    await aws("s3", "rm", `s3://${bucket}`, "--recursive");
    // RGW deletes large objects' tails in the background; collect now so memstore has room.
    if (process.env.BENCH_CEPH_CONF) await exec("radosgw-admin", ["-c", process.env.BENCH_CEPH_CONF, "gc", "process", "--include-all"]).catch(() => {});
  };

  const results = [];
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round}: bootsmith …`);
    const tb = performance.now();
    const b = await exec("/usr/bin/time", ["-v", process.execPath, "--input-type=module", "-e", child], { S3_ACCESS: accessKey, S3_SECRET: secretKey });
    const bootsmithWall = (performance.now() - tb) / 1000;
    const bs = JSON.parse(b.stdout.trim().split("\n").pop());
    if (bs.transfers[0] !== "uploaded rootfs.squashfs") throw new Error(`bootsmith did not upload: ${bs.transfers}`);
    const bRss = maxRssKb(b.stderr);
    await cleanBucket();

    console.error(`round ${round}: aws s3 cp …`);
    const t0 = performance.now();
    const a = await exec(
      "/usr/bin/time",
      [
        "-v",
        "/usr/bin/aws",
        "s3",
        "cp",
        "--only-show-errors",
        join(image, "rootfs.squashfs"),
        `s3://${bucket}/aws/rootfs.squashfs`,
        "--endpoint-url",
        endpoint,
      ],
      creds,
    );
    const awsSeconds = (performance.now() - t0) / 1000;
    const aRss = maxRssKb(a.stderr);
    await cleanBucket();
    results.push({
      round,
      bootsmithSeconds: bootsmithWall,
      bootsmithInner: bs.seconds,
      awsSeconds,
      bootsmithRssMB: bRss / 1024,
      awsRssMB: aRss / 1024,
      bootsmithCpu: cpuSeconds(b.stderr),
      awsCpu: cpuSeconds(a.stderr),
    });
  }

  const mbps = (s) => size / 1e6 / s;
  console.log(`file: ${size / MiB} MiB, part size ${values["part-size-mib"]} MiB, concurrency ${values.concurrency}, endpoint ${endpoint}`);
  for (const r of results) {
    console.log(
      `round ${r.round}: bootsmith ${mbps(r.bootsmithSeconds).toFixed(1)} MB/s (${r.bootsmithSeconds.toFixed(1)} s wall, ${r.bootsmithInner.toFixed(1)} s in publishToS3, peak RSS ${r.bootsmithRssMB.toFixed(0)} MB, CPU ${r.bootsmithCpu.toFixed(1)} s)` +
        ` | aws s3 cp ${mbps(r.awsSeconds).toFixed(1)} MB/s (${r.awsSeconds.toFixed(1)} s wall, peak RSS ${r.awsRssMB.toFixed(0)} MB, CPU ${r.awsCpu.toFixed(1)} s)` +
        ` | ratio bootsmith/aws ${(r.awsSeconds / r.bootsmithSeconds).toFixed(2)}`,
    );
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratios = results.map((r) => r.awsSeconds / r.bootsmithSeconds);
  console.log(
    `median ratio bootsmith/aws throughput ${median(ratios).toFixed(2)} over ${results.length} round(s);` +
      ` bootsmith peak RSS max ${Math.max(...results.map((r) => r.bootsmithRssMB)).toFixed(0)} MB;` +
      ` CPU per GiB bootsmith ${(median(results.map((r) => r.bootsmithCpu)) / (size / 1024 ** 3)).toFixed(1)} s, aws ${(median(results.map((r) => r.awsCpu)) / (size / 1024 ** 3)).toFixed(1)} s`,
  );
  await aws("s3", "rb", `s3://${bucket}`, "--force").catch(() => {});
} finally {
  await stopCeph();
  await rm(work, { recursive: true, force: true });
}
