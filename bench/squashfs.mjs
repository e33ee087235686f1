#!/usr/bin/env node
// Benchmark: the development squashfs profile (zstd level 3, what boot.rootfs.profile: dev
// gives, with the arguments the planner uses) against mksquashfs's defaults (gzip) on the same
// tree, alternating, several rounds. Prints the median time and size of each and the ratios.
// Not a timed test: run it by hand or from scripts/bench.mjs.
//
//   node bench/squashfs.mjs [--tree /usr/lib/python3] [--rounds 3]
//
// The tree stands in for an image root: a mix of text and shared objects. The last line is
// `BENCH-RESULT {json}` for scripts/bench.mjs.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { exec, median } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { tree: { type: "string", default: "/usr/lib/python3" }, rounds: { type: "string", default: "3" } } });
const rounds = Number(values.rounds);
const { compressionArgs } = await import(pathToFileURL(join(repo, "dist/plan/planner.js")).href);

const work = mkdtempSync(join(tmpdir(), "bootsmith-bench-squashfs-"));
try {
  const dev = compressionArgs({ profile: "dev", exclude: [] }).args;
  const variants = {
    "dev (zstd -3)": ["-noappend", "-no-progress", ...dev, "-processors", String(availableParallelism())],
    "mksquashfs defaults (gzip)": ["-noappend", "-no-progress"],
  };
  // Warm-up, not measured: the first pass reads the tree from disk, later ones from the page cache.
  await exec("mksquashfs", [values.tree, join(work, "warm.squashfs"), ...variants["dev (zstd -3)"]]);
  rmSync(join(work, "warm.squashfs"));
  const results = Object.fromEntries(Object.keys(variants).map((k) => [k, { seconds: [], bytes: 0 }]));
  for (let round = 0; round < rounds; round++) {
    const names = round % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
    for (const name of names) {
      const out = join(work, "out.squashfs");
      const t0 = process.hrtime.bigint();
      await exec("mksquashfs", [values.tree, out, ...variants[name]]);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      results[name].seconds.push(seconds);
      results[name].bytes = statSync(out).size;
      rmSync(out);
      console.log(`round ${round + 1} ${name.padEnd(27)} ${seconds.toFixed(2)} s  ${(results[name].bytes / 1e6).toFixed(1)} MB`);
    }
  }
  const [devName, defName] = Object.keys(variants);
  const t = median(results[devName].seconds) / median(results[defName].seconds);
  const z = results[devName].bytes / results[defName].bytes;
  console.log(`tree ${values.tree}; mksquashfs args for dev: ${variants[devName].join(" ")}`);
  console.log(`dev / defaults: time ${t.toFixed(2)}, size ${z.toFixed(2)} (medians of ${rounds} rounds)`);
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: `squashfs dev profile vs mksquashfs defaults (${values.tree})`, figure: `time ×${t.toFixed(2)}, size ×${z.toFixed(2)} (${median(results[devName].seconds).toFixed(1)} s vs ${median(results[defName].seconds).toFixed(1)} s)`, aim: "faster, similar size", ok: t < 1 })}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
