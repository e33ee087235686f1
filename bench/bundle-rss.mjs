#!/usr/bin/env node
// Benchmark: peak memory of `bootsmith export` and `bootsmith import` for an image with a 2 GiB
// rootfs, against GNU tar creating and extracting the same files, in the same run. Prints each
// one's peak RSS (from /usr/bin/time -v) and time, and the ratios. Not a timed test: run it by
// hand or from scripts/bench.mjs (needs `npm run build` first for dist/).
//
//   node bench/bundle-rss.mjs [--size-mib 2048]
//
// The aim is flat memory: bootsmith streams every file (tar-stream both ways), so its peak RSS
// must not grow with the rootfs (≤ 150 MB for 2 GiB). Each bundle is then imported again with one
// byte flipped in its middle, which must be refused (exit 2) with nothing published. The last lines are `BENCH-RESULT {json}`
// for scripts/bench.mjs.
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchManifest, exec } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const { values } = parseArgs({ options: { "size-mib": { type: "string", default: "2048" } } });
const sizeMiB = Number(values["size-mib"]);

/** Run under /usr/bin/time -v: peak RSS in MB and wall seconds. */
async function measure(label, file, args, env) {
  const t0 = process.hrtime.bigint();
  const { stderr } = await exec("/usr/bin/time", ["-v", file, ...args], { env });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  const rssMB = kb / 1024;
  console.log(`${label.padEnd(34)} peak RSS ${rssMB.toFixed(1).padStart(7)} MB  ${seconds.toFixed(1).padStart(6)} s`);
  return { rssMB, seconds };
}

async function sha256(file) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}

/** An artifact directory with a `rootfsMiB` rootfs of random bytes and a real manifest. */
async function makeImage(image, rootfsMiB) {
  await exec("mkdir", ["-p", image]);
  await exec("dd", ["if=/dev/urandom", `of=${join(image, "rootfs.squashfs")}`, "bs=1M", `count=${rootfsMiB}`, "status=none"]);
  await exec("dd", ["if=/dev/urandom", `of=${join(image, "vmlinuz")}`, "bs=1M", "count=8", "status=none"]);
  await exec("dd", ["if=/dev/urandom", `of=${join(image, "initramfs.img")}`, "bs=1M", "count=40", "status=none"]);
  const artifacts = {};
  for (const [role, file] of [
    ["kernel", "vmlinuz"],
    ["initrd", "initramfs.img"],
    ["rootfs", "rootfs.squashfs"],
  ]) {
    const { size } = await stat(join(image, file));
    artifacts[role] = { file, sha256: await sha256(join(image, file)), size };
  }
  const manifest = benchManifest({ artifacts, recipeFile: "bench.yaml", packageManager: "dnf" });
  await writeFile(join(image, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  // Warm the page cache for every reader alike: the first one would otherwise pay the disk.
  await exec("dd", [`if=${join(image, "rootfs.squashfs")}`, "of=/dev/null", "bs=1M", "status=none"]);
}

/** bootsmith export then import (to a dir: target) of `image`; removes what they wrote. */
async function roundTrip(work, image, label) {
  const bundle = join(work, `${label}.tar`);
  const exported = await measure(`bootsmith export (${label})`, process.execPath, [cli, "export", image, "-o", bundle]);
  const imported = await measure(
    `bootsmith import --to dir: (${label})`,
    process.execPath,
    [cli, "import", bundle, "--to", `dir:${join(work, `published-${label}`)}`],
    { BOOTSMITH_WORK_DIR: join(work, "staging") },
  );
  await rm(join(work, `published-${label}`), { recursive: true });
  // The same bundle with one byte flipped in the middle (inside the rootfs): import must refuse
  // it (exit 2) after streaming it, and publish nothing.
  const handle = await open(bundle, "r+");
  const { size } = await handle.stat();
  const at = Math.floor(size / 2);
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, at);
  byte[0] ^= 0xff;
  await handle.write(byte, 0, 1, at);
  await handle.close();
  const target = join(work, `flipped-${label}`);
  const t0 = process.hrtime.bigint();
  const flipped = await exec(process.execPath, [cli, "import", bundle, "--to", `dir:${target}`], {
    env: { BOOTSMITH_WORK_DIR: join(work, "staging") },
    allowFail: true,
  });
  const refused = flipped.code === 2 && !existsSync(target) && /has sha256 .* nothing was published/.test(flipped.stderr);
  console.log(
    `bootsmith import, one byte flipped (${label}) exit ${flipped.code}, ${existsSync(target) ? "SOMETHING PUBLISHED" : "nothing published"} in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`,
  );
  await rm(bundle);
  return { exported, imported, refused };
}

const work = await mkdtemp(join("/var/tmp", "bootsmith-bench-bundle-"));
try {
  const small = join(work, "small");
  const image = join(work, "image");
  console.error(`writing a 64 MiB and a ${sizeMiB} MiB rootfs (random bytes) …`);
  await makeImage(small, 64);
  await makeImage(image, sizeMiB);

  const nodeIdle = await measure("baseline: node, doing nothing", process.execPath, ["-e", "0"]);
  const tarOut = join(work, "baseline.tar");
  const tarCreate = await measure("baseline: tar cf", "tar", ["cf", tarOut, "-C", image, "."]);
  const tarInto = join(work, "baseline-x");
  await exec("mkdir", ["-p", tarInto]);
  const tarExtract = await measure("baseline: tar xf", "tar", ["xf", tarOut, "-C", tarInto]);
  await rm(tarOut);
  await rm(tarInto, { recursive: true });

  const smallRun = await roundTrip(work, small, "64 MiB");
  const bigRun = await roundTrip(work, image, `${sizeMiB} MiB`);
  const ratio = (a, b) => (a / b).toFixed(2);
  const peakSmall = Math.max(smallRun.exported.rssMB, smallRun.imported.rssMB);
  const peak = Math.max(bigRun.exported.rssMB, bigRun.imported.rssMB);
  console.log(
    `flatness: peak RSS ${sizeMiB} MiB / 64 MiB rootfs: export ${ratio(bigRun.exported.rssMB, smallRun.exported.rssMB)}, import ${ratio(bigRun.imported.rssMB, smallRun.imported.rssMB)}`,
  );
  console.log(
    `peak RSS above an idle node (${nodeIdle.rssMB.toFixed(0)} MB): export +${(bigRun.exported.rssMB - nodeIdle.rssMB).toFixed(0)} MB, import +${(bigRun.imported.rssMB - nodeIdle.rssMB).toFixed(0)} MB; GNU tar: ${Math.max(tarCreate.rssMB, tarExtract.rssMB).toFixed(1)} MB`,
  );
  console.log(
    `time bootsmith / tar (${sizeMiB} MiB): export / tar cf ${ratio(bigRun.exported.seconds, tarCreate.seconds)}, import / tar xf ${ratio(bigRun.imported.seconds, tarExtract.seconds)} (import also hashes every file, then publishes a copy)`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: `bundle export+import, ${sizeMiB} MiB rootfs: bootsmith peak RSS (64 MiB: ${peakSmall.toFixed(0)} MB; idle node ${nodeIdle.rssMB.toFixed(0)} MB); a flipped byte ${bigRun.refused ? "refused" : "NOT refused"}`, figure: `${peak.toFixed(0)} MB`, aim: "≤ 150 MB, flipped byte refused", ok: peak <= 150 && bigRun.refused && smallRun.refused })}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
