#!/usr/bin/env node
// Runs the benchmarks in bench/ one after another and prints one table (`npm run bench`) with
// every figure and its aim. Each is a ratio against a baseline measured in the same run on the
// same machine (or, for the scale benchmark, seconds against a fixed aim); each benchmark holds
// the machine's heavy-job lock per round (bench/heavy-lock.mjs) and records the load average.
// The figures recorded in docs/benchmarks.md come from this script. Needs root, buildah, dnf,
// mmdebstrap, dracut, mksquashfs, Ceph (S3) and `npm run build` first.
//
//   node scripts/bench.mjs [--quick] [--rounds N] [--only build,commit,jobs,squashfs,graph,scale,bundle,layer,s3,dracut]
//
// --quick: a smoke run (1 round, a 256 MiB S3 file, scale up to 200 recipes, a small tree for the
// commit), minutes not an hour.
import { spawn } from "node:child_process";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, rounds: { type: "string" }, only: { type: "string" } } });
const rounds = values.rounds ?? (values.quick ? "1" : "5");
const few = String(Math.min(3, Number(rounds)));

/** Name, script and arguments; each prints its results as `BENCH-RESULT {name, figure, aim, ok}` lines. */
const BENCHES = [
  { id: "build", script: "bench/build-overhead.mjs", args: ["--rounds", rounds] },
  { id: "commit", script: "bench/commit.mjs", args: ["--rounds", few, ...(values.quick ? ["--tree", "/usr/share/doc"] : [])] },
  { id: "jobs", script: "bench/jobs.mjs", args: ["--rounds", few] },
  { id: "squashfs", script: "bench/squashfs.mjs", args: ["--rounds", few] },
  { id: "graph", script: "bench/graph.mjs", args: [] },
  { id: "scale", script: "bench/scale.mjs", args: ["--rounds", few, ...(values.quick ? ["--sizes", "20,200", "--svg", "/dev/null"] : [])] },
  { id: "bundle", script: "bench/bundle-rss.mjs", args: [] },
  { id: "layer", script: "bench/child-on-parent.mjs", args: ["--rounds", String(Math.min(2, Number(rounds)))] },
  { id: "dracut", script: "bench/dracut.mjs", args: ["--rounds", few] },
  { id: "s3", script: "bench/s3-upload.mjs", args: ["--rounds", few, ...(values.quick ? ["--size-mib", "256", "--small-count", "50"] : [])] },
];

const selected = BENCHES.filter((b) => !values.only || values.only.split(",").includes(b.id));

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
  const parsed = out
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
