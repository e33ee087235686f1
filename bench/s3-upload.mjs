#!/usr/bin/env node
// Benchmark: S3 upload by bootsmith's publisher against Debian's `aws s3 cp` / `aws s3 sync`, to
// the same Ceph RGW, in one run: one large file (default 2 GiB: throughput ratio, peak RSS, CPU)
// and many small ones (default 200 × 1 MiB). Each round holds the machine's heavy-job lock
// (bench/support.mjs), records the load average, and alternates which tool goes first.
// Not a timed test: run it by hand or from scripts/bench.mjs (--s3).
//
//   node bench/s3-upload.mjs [--size-mib 2048] [--rounds 3] [--variants q4p8,q8p16]
//                            [--small-count 200] [--small-mib 1] [--no-small]
//
// --variants: bootsmith settings to compare in the same run, each "q<parts in flight>p<part MiB>"
// (default: the publisher's defaults). The ratio reported is the first variant's.
// Starts its own Ceph (test/support/ceph-s3.sh, memstore sized for the file) unless
// S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY point at a running one. Compiles src/ with tsc into
// node_modules/.cache/bootsmith-bench so the publisher runs as built JavaScript.
// Lines starting with BENCH-RESULT are for scripts/bench.mjs.
import { createHash, randomFillSync } from "node:crypto";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchManifest, exec, load1, withHeavyLock } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "2048" },
    rounds: { type: "string", default: "3" },
    variants: { type: "string", default: "default" },
    "small-count": { type: "string", default: "200" },
    "small-mib": { type: "string", default: "1" },
    "no-small": { type: "boolean", default: false },
    "no-large": { type: "boolean", default: false },
  },
});
const MiB = 1024 * 1024;
const size = Number(values["size-mib"]) * MiB;
const rounds = Number(values.rounds);
const smallCount = values["no-small"] ? 0 : Number(values["small-count"]);
const smallSize = Number(values["small-mib"]) * MiB;
const variants = values.variants.split(",").map((v) => {
  if (v === "default") return { name: "default" };
  const m = /^q(\d+)p(\d+)$/.exec(v);
  if (!m) throw new Error(`--variants: ${v} is not q<parts in flight>p<part MiB>`);
  return { name: v, queueSize: Number(m[1]), partSize: Number(m[2]) * MiB };
});

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

/**
 * CPU seconds (user + system) used so far by the Ceph daemons this benchmark started (their
 * command lines name its ceph.conf), or NaN when it uses an S3 it did not start. Taken before and
 * after each upload, it says how much of the two cores the server needed for it.
 */
function serverCpu() {
  const conf = process.env.BENCH_CEPH_CONF;
  if (!conf) return NaN;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(conf)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

/** Wall seconds, peak RSS (MB) and user+system CPU seconds of a command under /usr/bin/time -v, and the server's CPU meanwhile. */
async function measured(file, args, env) {
  const server0 = serverCpu();
  const t0 = performance.now();
  const r = await exec("/usr/bin/time", ["-v", file, ...args], { env });
  const seconds = (performance.now() - t0) / 1000;
  const field = (re) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const rssMB = field(/Maximum resident set size \(kbytes\): (\d+)/) / 1024;
  const cpu = field(/User time \(seconds\): ([\d.]+)/) + field(/System time \(seconds\): ([\d.]+)/);
  return { seconds, rssMB, cpu, serverCpu: serverCpu() - server0, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Write `bytes` of random data to `path`; returns its sha256. */
async function randomFile(path, bytes) {
  const hash = createHash("sha256");
  const stream = createWriteStream(path);
  const chunk = Buffer.alloc(Math.min(8 * MiB, bytes));
  for (let written = 0; written < bytes; written += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    randomFillSync(part);
    hash.update(part);
    if (!stream.write(part)) await new Promise((r) => stream.once("drain", r));
  }
  await new Promise((r) => stream.end(r));
  return hash.digest("hex");
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
  let creds;
  let aws;
  const bucket = `bench-${Date.now()}`;
  // Ceph (unless given), the bucket and a warm-up, run inside the first round's hold of the lock:
  // one wait for the lock fewer on a busy machine.
  const startS3 = async () => {
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
      stopCeph = () => exec("bash", [tool, "stop"], { env }).catch(() => {});
      const result = await exec("bash", [tool, "start"], { env });
      const last = Object.fromEntries(
        result.stdout
          .trim()
          .split("\n")
          .pop()
          .split(" ")
          .map((kv) => kv.split("=")),
      );
      ({ S3_ENDPOINT: endpoint, S3_ACCESS_KEY: accessKey, S3_SECRET_KEY: secretKey } = last);
      process.env.BENCH_CEPH_CONF = join(dir, "ceph.conf");
    }
    creds = { AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
    aws = (...args) => exec("/usr/bin/aws", [...args, "--endpoint-url", endpoint], { env: creds });
    await aws("s3", "mb", `s3://${bucket}`);
    // Warm-up, untimed: RGW creates its data and multipart pools on the first (multipart) write,
    // which took seconds here and would be charged to whichever contender happened to go first.
    const warm = join(work, "warm-up");
    await randomFile(warm, 16 * MiB);
    await aws("s3", "cp", "--only-show-errors", warm, `s3://${bucket}/warm-up`);
    await aws("s3", "rm", `s3://${bucket}/warm-up`);
  };

  const image = join(work, "image");
  await mkdir(image);
  const large = join(image, "rootfs.squashfs");
  if (!values["no-large"]) {
    console.error(`writing a ${size / MiB} MiB random file …`);
    const sha256 = await randomFile(large, size);
    const manifest = benchManifest({ artifacts: { rootfs: { file: "rootfs.squashfs", sha256, size } }, recipeFile: "bench", packageManager: "none" });
    await writeFile(join(image, "manifest.json"), JSON.stringify(manifest));
  }
  const smallDir = join(work, "small");
  const smallFiles = [];
  if (smallCount > 0) {
    console.error(`writing ${smallCount} × ${smallSize / MiB} MiB random files …`);
    await mkdir(smallDir);
    for (let i = 0; i < smallCount; i++) {
      const name = `f${String(i).padStart(4, "0")}.bin`;
      smallFiles.push({ name, sha256: await randomFile(join(smallDir, name), smallSize) });
    }
  }

  // The publisher in a child of its own, so its peak RSS and CPU are bootsmith's alone.
  const publishChild = (variant) => `
    import { loadArtifactSet } from ${JSON.stringify(join(out, "publish/artifacts.js"))};
    import { publishToS3 } from ${JSON.stringify(join(out, "publish/s3.js"))};
    const set = await loadArtifactSet(${JSON.stringify(image)});
    const outcome = await publishToS3(set, { type: "s3", endpoint: ${JSON.stringify(endpoint)}, bucket: ${JSON.stringify(bucket)}, prefix: "bootsmith/" },
      ${JSON.stringify({ partSize: variant.partSize, queueSize: variant.queueSize })});
    console.log(JSON.stringify(outcome.transfers.map((t) => t.action + " " + t.file)));
  `;
  // Many small files: the upload module on each, as many at once as the publisher has parts in flight.
  const smallChild = () => `
    import { createS3Client } from ${JSON.stringify(join(out, "publish/s3-client.js"))};
    import { uploadFile, DEFAULT_QUEUE_SIZE } from ${JSON.stringify(join(out, "publish/s3-upload.js"))};
    const files = ${JSON.stringify(smallFiles)};
    const client = createS3Client({ type: "s3", endpoint: ${JSON.stringify(endpoint)}, bucket: ${JSON.stringify(bucket)} }, { maxSockets: DEFAULT_QUEUE_SIZE + 2 });
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const f = files[next++];
        await uploadFile(client, { bucket: ${JSON.stringify(bucket)}, key: "bootsmith-small/" + f.name, path: ${JSON.stringify(smallDir)} + "/" + f.name, size: ${smallSize}, sha256: f.sha256 });
      }
    };
    await Promise.all(Array.from({ length: DEFAULT_QUEUE_SIZE }, worker));
    console.log(JSON.stringify(files.length));
  `;
  const childEnv = () => ({ S3_ACCESS: accessKey, S3_SECRET: secretKey });
  const cleanBucket = async () => {
    await aws("s3", "rm", `s3://${bucket}`, "--recursive");
    // RGW deletes large objects' tails in the background; collect now so memstore has room.
    if (process.env.BENCH_CEPH_CONF) await exec("radosgw-admin", ["-c", process.env.BENCH_CEPH_CONF, "gc", "process", "--include-all"]).catch(() => {});
  };

  /** One measured run per contender, in the given order, bucket emptied after each. */
  const runAll = async (contenders) => {
    const results = {};
    for (const [name, run] of contenders) {
      console.error(`  ${name} …`);
      results[name] = await run();
      await cleanBucket();
    }
    return results;
  };
  const largeContenders = values["no-large"]
    ? []
    : [
        ...variants.map((v) => [
          `bootsmith ${v.name}`,
          async () => {
            const r = await measured(process.execPath, ["--input-type=module", "-e", publishChild(v)], childEnv());
            if (!r.stdout.includes("uploaded rootfs.squashfs")) throw new Error(`bootsmith did not upload: ${r.stdout}`);
            return r;
          },
        ]),
        [
          "aws s3 cp",
          () => measured("/usr/bin/aws", ["s3", "cp", "--only-show-errors", large, `s3://${bucket}/aws/rootfs.squashfs`, "--endpoint-url", endpoint], creds),
        ],
      ];
  const smallContenders =
    smallCount === 0
      ? []
      : [
          ["bootsmith small", () => measured(process.execPath, ["--input-type=module", "-e", smallChild()], childEnv())],
          [
            "aws s3 sync",
            () => measured("/usr/bin/aws", ["s3", "sync", "--only-show-errors", smallDir, `s3://${bucket}/aws-small/`, "--endpoint-url", endpoint], creds),
          ],
        ];

  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternate who goes first, so neither always runs on a fresher Ceph.
    const order = (list) => (round % 2 ? list : [...list].reverse());
    const { result, loadStart, loadEnd } = await withHeavyLock(async () => {
      if (round === 1) await startS3();
      console.error(`round ${round} (load ${load1()}):`);
      return { ...(await runAll(order(largeContenders))), ...(await runAll(order(smallContenders))) };
    });
    rows.push({ round, loadStart, loadEnd, result });
    const mbps = (bytes, s) => (bytes / 1e6 / s).toFixed(1);
    for (const [name, r] of Object.entries(result)) {
      const bytes = name.includes("small") || name.includes("sync") ? smallCount * smallSize : size;
      console.log(
        `round ${round} load ${loadStart}→${loadEnd}: ${name.padEnd(20)} ${r.seconds.toFixed(2)} s ${mbps(bytes, r.seconds)} MB/s, peak RSS ${r.rssMB.toFixed(0)} MB, CPU ${r.cpu.toFixed(1)} s, Ceph's CPU meanwhile ${r.serverCpu.toFixed(1)} s`,
      );
    }
  }

  const summary = (name) => ({
    seconds: median(rows.map((r) => r.result[name].seconds)),
    rssMB: Math.max(...rows.map((r) => r.result[name].rssMB)),
    cpu: median(rows.map((r) => r.result[name].cpu)),
  });
  const loads = rows.map((r) => `${r.loadStart}→${r.loadEnd}`).join(", ");
  if (largeContenders.length) {
    const a = summary("aws s3 cp");
    console.log(`large file: ${size / MiB} MiB, endpoint ${endpoint}, ${rows.length} round(s), load ${loads}`);
    for (const v of variants) {
      const b = summary(`bootsmith ${v.name}`);
      const ratios = rows.map((r) => r.result["aws s3 cp"].seconds / r.result[`bootsmith ${v.name}`].seconds);
      console.log(
        `  bootsmith ${v.name}: median ${b.seconds.toFixed(2)} s (aws ${a.seconds.toFixed(2)} s), ratio per round ${ratios.map((x) => x.toFixed(2)).join(" ")}, median ratio ${median(ratios).toFixed(2)}; peak RSS ${b.rssMB.toFixed(0)} MB (aws ${a.rssMB.toFixed(0)}); CPU ${b.cpu.toFixed(1)} s (aws ${a.cpu.toFixed(1)})`,
      );
    }
    const first = `bootsmith ${variants[0].name}`;
    const ratio = median(rows.map((r) => r.result["aws s3 cp"].seconds / r.result[first].seconds));
    const rss = summary(first).rssMB;
    const detail = `${rows.length} rounds, load ${loads}`;
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: `S3 upload ${size / MiB} MiB: bootsmith / aws s3 cp throughput`, figure: `${ratio.toFixed(2)} (${detail})`, aim: "≥ 1.2", ok: ratio >= 1.2 })}`,
    );
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: `S3 upload ${size / MiB} MiB: bootsmith peak RSS`, figure: `${rss.toFixed(0)} MB`, aim: "≤ 150 MB", ok: rss <= 150 })}`,
    );
  }
  if (smallContenders.length) {
    const ratios = rows.map((r) => r.result["aws s3 sync"].seconds / r.result["bootsmith small"].seconds);
    const ratio = median(ratios);
    console.log(
      `small files: ${smallCount} × ${smallSize / MiB} MiB: bootsmith median ${summary("bootsmith small").seconds.toFixed(2)} s, aws s3 sync ${summary("aws s3 sync").seconds.toFixed(2)} s, ratio per round ${ratios.map((x) => x.toFixed(2)).join(" ")}`,
    );
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: `S3 upload ${smallCount} × ${smallSize / MiB} MiB: bootsmith / aws s3 sync throughput`, figure: `${ratio.toFixed(2)} (${rows.length} rounds)`, aim: "≥ 1.0", ok: ratio >= 1 })}`,
    );
  }
  await aws?.("s3", "rb", `s3://${bucket}`, "--force").catch(() => {});
} finally {
  await stopCeph();
  await rm(work, { recursive: true, force: true });
}
