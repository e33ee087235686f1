#!/usr/bin/env node
// Runs the benchmarks in bench/ one after another and prints one table (`npm run bench`).
// Each is a ratio against a baseline measured in the same run on the same machine; the figures
// recorded in docs/benchmarks.md come from this script. Needs root, buildah, dnf, mksquashfs and
// `npm run build` first.
//
//   node scripts/bench.mjs [--s3] [--rounds N] [--only build,squashfs,graph,bundle,layer,s3]
//
// --s3 adds the S3 upload benchmark (starts its own Ceph; needs ~2.5 GiB of RAM and disk).
import { spawn } from "node:child_process";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { s3: { type: "boolean", default: false }, rounds: { type: "string", default: "5" }, only: { type: "string" } } });

/** Name, script, arguments, and how to read its result from the output. */
const BENCHES = [
  { id: "build", script: "bench/build-overhead.mjs", args: ["--rounds", values.rounds] },
  { id: "squashfs", script: "bench/squashfs.mjs", args: ["--rounds", String(Math.min(3, Number(values.rounds)))] },
  {
    id: "graph",
    script: "bench/graph.mjs",
    args: [],
    parse(out) {
      const noop = /no-op 20 recipes: ([\d.]+) s/.exec(out);
      const jobs = /makespan --jobs 2 \/ --jobs 1: ([\d.]+)/.exec(out);
      return [
        noop && { name: "no-op rebuild of 20 recipes", figure: `${noop[1]} s`, aim: "< 2 s", ok: Number(noop[1]) < 2 },
        jobs && { name: "--jobs 2 / --jobs 1 makespan (8 children)", figure: jobs[1], aim: "≤ 0.6", ok: Number(jobs[1]) <= 0.6 },
      ].filter(Boolean);
    },
  },
  { id: "bundle", script: "bench/bundle-rss.mjs", args: [] },
  { id: "layer", script: "bench/child-on-parent.mjs", args: ["--rounds", String(Math.min(2, Number(values.rounds)))] },
  {
    id: "s3",
    script: "bench/s3-upload.mjs",
    args: [],
    optional: true,
    parse(out) {
      const m = /median ratio bootsmith\/aws throughput ([\d.]+).*bootsmith peak RSS max (\d+) MB/.exec(out);
      return m
        ? [
            { name: "S3 upload 2 GiB: bootsmith / aws s3 cp throughput", figure: m[1], aim: "≥ 1.2", ok: Number(m[1]) >= 1.2 },
            { name: "S3 upload 2 GiB: bootsmith peak RSS", figure: `${m[2]} MB`, aim: "≤ 150 MB", ok: Number(m[2]) <= 150 },
          ]
        : [];
    },
  },
];

const selected = BENCHES.filter((b) => (values.only ? values.only.split(",").includes(b.id) : !b.optional || values.s3));

function machine() {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), load ${load}, node ${process.version}`;
}

function runBench(bench) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(repo, bench.script), ...bench.args], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const forward = (stream) => (d) => {
      out += d;
      stream.write(String(d).replace(/^(?=.)/gm, `[${bench.id}] `));
    };
    child.stdout.on("data", forward(process.stdout));
    child.stderr.on("data", forward(process.stderr));
    child.on("close", (code) => resolvePromise({ code, out }));
  });
}

console.log(`machine: ${machine()}`);
const rows = [];
for (const bench of selected) {
  const t0 = Date.now();
  const { code, out } = await runBench(bench);
  const parsed = bench.parse
    ? bench.parse(out)
    : out
        .split("\n")
        .filter((l) => l.startsWith("BENCH-RESULT "))
        .map((l) => JSON.parse(l.slice("BENCH-RESULT ".length)));
  if (code !== 0 || parsed.length === 0) rows.push({ name: bench.script, figure: `failed (exit ${code})`, aim: "", ok: false });
  for (const r of parsed) rows.push({ ...r, seconds: (Date.now() - t0) / 1000 });
}

const header = ["benchmark", "figure", "aim", "met"];
const table = rows.map((r) => [r.name, r.figure, r.aim, r.ok ? "yes" : "no"]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log("");
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of table) console.log(line(r));
console.log(`\nmachine at the end: ${machine()}`);
