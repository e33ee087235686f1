#!/usr/bin/env node
// Benchmark: how bootsmith's recipe-graph commands grow with the number of recipes. Generates
// trees of 20, 200 and 1000 recipes, depth 5 (one root on a busybox image, the rest spread over
// four levels, each on a parent of the level above), and times, median of --rounds runs:
//   validate   `bootsmith validate` of every file
//   plan       `bootsmith plan` of the deepest leaf (loads its whole ancestor chain)
//   explain    `bootsmith build DIR --explain` (graph, input keys, up-to-date check of each)
//   no-op      `bootsmith build DIR` with everything up to date (--noop-up-to N: the trees of at
//              most N recipes are built first, for real, with buildah, under the heavy lock; three
//              quarters of the recipes have children and so commit an image, the leaves do not)
// --baseline CLI also times the no-op of another bootsmith (e.g. an older checkout's
// dist/cli/main.js) on the same built trees, alternating with this one each round: the ratio is
// from one run on one machine.
// Aim: each under 3 s at 200 recipes, and time growing linearly (the ratio per recipe from 200
// to 1000 close to 1). Writes docs/scale.svg, a plot of the table.
//
// --keep leaves the trees, their outputs and images in place (to profile a run by hand after).
//
//   node bench/scale.mjs [--sizes 20,200,1000] [--rounds 3] [--noop-up-to 1000] [--baseline CLI] [--keep] [--svg docs/scale.svg]
//
// Lines starting with BENCH-RESULT are for scripts/bench.mjs.
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { busyboxImage, exec, load1, median, timed, withHeavyLock } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "20,200,1000" },
    rounds: { type: "string", default: "3" },
    "noop-up-to": { type: "string", default: "1000" },
    baseline: { type: "string" },
    keep: { type: "boolean", default: false },
    svg: { type: "string", default: join(repo, "docs/scale.svg") },
  },
});
const sizes = values.sizes.split(",").map(Number);
const rounds = Number(values.rounds);
const noopUpTo = Number(values["noop-up-to"]);
const DEPTH = 5;
const BUSYBOX_IMAGE = "localhost/bench/scale-busybox:1";

/** Run bootsmith under /usr/bin/time: wall seconds and CPU (user + system) seconds. On a shared
 * 2-core machine the wall time mostly measures the queue for a core; CPU time is what it costs. */
async function timedCli(args, program = cli) {
  const r = await exec("/usr/bin/time", ["-f", "BENCH-TIME %e %U %S", process.execPath, program, ...args]);
  const [wall, user, system] = /BENCH-TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr).slice(1).map(Number);
  return { wall, cpu: user + system, out: r.stdout + r.stderr };
}

/** n recipes, depth 5: names r0000…; returns the deepest leaf's file. */
function generateTree(dir, n) {
  mkdirSync(dir, { recursive: true });
  const levels = [["r0000"], [], [], [], []];
  for (let i = 1; i < n; i++) levels[1 + ((i - 1) % (DEPTH - 1))].push(`r${String(i).padStart(4, "0")}`);
  const recipe = (name, from) => `name: ${name}\ntags: ["1"]\nfrom:\n  ${from}\ncommands:\n  - script: echo ${name} > /etc/${name}\nboot: false\n`;
  writeFileSync(join(dir, "r0000.yaml"), recipe("r0000", `image: ${BUSYBOX_IMAGE}`));
  for (let d = 1; d < DEPTH; d++) {
    levels[d].forEach((name, j) => writeFileSync(join(dir, `${name}.yaml`), recipe(name, `recipe: ${levels[d - 1][j % levels[d - 1].length]}.yaml`)));
  }
  return join(dir, `${levels[DEPTH - 1].at(-1)}.yaml`);
}

const work = await mkdtemp(join(tmpdir(), "bootsmith-bench-scale-"));
const built = [];
let hasBusybox = false;
const rows = [];
try {
  for (const n of sizes) {
    const dir = join(work, `tree-${n}`);
    const out = join(work, `out-${n}`);
    const leaf = generateTree(dir, n);
    const files = Array.from({ length: n }, (_, i) => join(dir, `r${String(i).padStart(4, "0")}.yaml`));
    const commands = {
      validate: () => timedCli(["validate", ...files]),
      plan: () => timedCli(["plan", leaf, "--out", join(out, "leaf")]),
      explain: () => timedCli(["build", dir, "--explain", "--out", out]),
    };
    if (n <= noopUpTo) {
      console.error(`building the ${n}-recipe tree for the no-op run …`);
      const { result: seconds } = await withHeavyLock(async () => {
        if (!hasBusybox) await busyboxImage(BUSYBOX_IMAGE);
        hasBusybox = true;
        built.push(...Array.from({ length: n }, (_, i) => `localhost/bootsmith/r${String(i).padStart(4, "0")}:1`));
        return timed(() => exec(process.execPath, [cli, "build", dir, "--out", out, "--no-publish", "--progress", "plain"]));
      });
      console.error(`built in ${seconds.toFixed(0)} s`);
      const noop = (program) => async () => {
        const r = await timedCli(["build", dir, "--out", out, "--no-publish", "--progress", "plain"], program);
        if (!new RegExp(`0 built, ${n} up to date`).test(r.out)) throw new Error(`the no-op run built something:\n${r.out.slice(-2000)}`);
        return r;
      };
      commands["no-op"] = noop(cli);
      if (values.baseline) commands["no-op (baseline)"] = noop(resolve(values.baseline));
    }
    const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    const cpu = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    const loads = [];
    for (let round = 1; round <= rounds; round++) {
      loads.push(load1());
      for (const [name, run] of Object.entries(commands)) {
        const r = await run();
        times[name].push(r.wall);
        cpu[name].push(r.cpu);
      }
    }
    const row = { n, load: loads.join(" "), cpu: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)])) };
    for (const [k, v] of Object.entries(times)) row[k] = median(v);
    rows.push(row);
    // The next size rebuilds the same names (r0000…): remove this tree's images now, or they stay behind unnamed.
    if (n <= noopUpTo && !values.keep) await exec("buildah", ["rmi", "-f", ...built.splice(0)], { allowFail: true });
    console.log(
      `${String(n).padStart(5)} recipes: ${Object.keys(times)
        .map((k) => `${k} ${row[k].toFixed(2)} s (CPU ${row.cpu[k].toFixed(2)} s)`)
        .join(", ")} (load ${row.load})`,
    );
  }

  const kinds = ["validate", "plan", "explain", "no-op", ...(values.baseline ? ["no-op (baseline)"] : [])];
  console.log(`\nwall seconds (CPU seconds), median of ${rounds}:\n| recipes | ${kinds.join(" | ")} | load |`);
  console.log(`|---|${kinds.map(() => "---").join("|")}|---|`);
  for (const r of rows)
    console.log(`| ${r.n} | ${kinds.map((k) => (r[k] === undefined ? "–" : `${r[k].toFixed(2)} s (${r.cpu[k].toFixed(2)})`)).join(" | ")} | ${r.load} |`);

  writeFileSync(values.svg, plot(rows, kinds));
  console.log(`\nplot: ${values.svg}`);

  const at200 = rows.find((r) => r.n === 200);
  if (at200) {
    const measured = ["validate", "plan", "explain"];
    const worst = Math.max(...measured.map((k) => at200[k]));
    const worstCpu = Math.max(...measured.map((k) => at200.cpu[k]));
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: "200 recipes: slowest of validate / plan / --explain", figure: `${worst.toFixed(2)} s wall, ${worstCpu.toFixed(2)} s CPU (load ${at200.load})`, aim: "< 3 s", ok: worst < 3 })}`,
    );
  }
  const big = rows.find((r) => r.n === 1000);
  if (at200 && big) {
    // Time per recipe at 1000 over time per recipe at 200: ~1 linear, ~5 quadratic.
    const growth = Math.max(
      ...["validate", "explain", "no-op"].filter((k) => big[k] !== undefined && at200[k] !== undefined).map((k) => big.cpu[k] / 1000 / (at200.cpu[k] / 200)),
    );
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: "200 → 1000 recipes: CPU per recipe, ratio", figure: growth.toFixed(2), aim: "≤ 1.5 (linear)", ok: growth <= 1.5 })}`,
    );
  }
  // The no-op at 200 recipes (the aim's size), else the largest tree built.
  const noop = at200?.["no-op"] !== undefined ? at200 : rows.findLast((r) => r["no-op"] !== undefined);
  if (noop) {
    console.log(
      `BENCH-RESULT ${JSON.stringify({ name: `no-op rebuild of ${noop.n} recipes`, figure: `${noop["no-op"].toFixed(2)} s wall, ${noop.cpu["no-op"].toFixed(2)} s CPU (load ${noop.load})`, aim: "< 3 s", ok: noop["no-op"] < 3 })}`,
    );
    const base = noop["no-op (baseline)"];
    if (base !== undefined)
      console.log(
        `BENCH-RESULT ${JSON.stringify({ name: `no-op rebuild of ${noop.n} recipes / baseline's`, figure: `${(noop["no-op"] / base).toFixed(2)} (${noop["no-op"].toFixed(2)} s vs ${base.toFixed(2)} s)`, aim: "< 1", ok: noop["no-op"] < base })}`,
      );
  }
} finally {
  if (values.keep) console.error(`kept: ${work} (tree-N, out-N) and the images localhost/bootsmith/r*:1, ${BUSYBOX_IMAGE}`);
  else {
    for (const image of built) await exec("buildah", ["rmi", "-f", image], { allowFail: true });
    if (hasBusybox) await exec("buildah", ["rmi", "-f", BUSYBOX_IMAGE], { allowFail: true });
    await rm(work, { recursive: true, force: true });
  }
}

/** A log-log line plot of seconds against recipes, one line per command, as plain SVG. */
function plot(rows, kinds) {
  const W = 640;
  const H = 400;
  const m = { l: 60, r: 120, t: 30, b: 50 };
  const colors = { validate: "#1f77b4", plan: "#ff7f0e", explain: "#2ca02c", "no-op": "#d62728", "no-op (baseline)": "#9467bd" };
  const xs = rows.map((r) => r.n);
  const ys = rows.flatMap((r) => kinds.flatMap((k) => [r[k], r.cpu[k]]).filter((v) => v !== undefined));
  const lx = (v) => Math.log10(v);
  const [x0, x1] = [lx(Math.min(...xs)) - 0.1, lx(Math.max(...xs)) + 0.1];
  const [y0, y1] = [Math.floor(lx(Math.min(...ys, 0.1))), Math.ceil(lx(Math.max(...ys, 3)))];
  const px = (v) => m.l + ((lx(v) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v) => H - m.b - ((lx(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">bootsmith: seconds against recipes (depth 5, log-log; solid wall, dashed CPU)</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${10 ** e} s</text>`);
  }
  for (const n of xs) {
    const x = px(n);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#ddd"/><text x="${x}" y="${H - m.b + 16}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">recipes</text>`);
  const aim = py(3);
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${aim}" y2="${aim}" stroke="#999" stroke-dasharray="4 3"/><text x="${W - m.r + 4}" y="${aim + 4}">aim 3 s</text>`,
  );
  kinds.forEach((k, i) => {
    const pts = rows.filter((r) => r[k] !== undefined).map((r) => [px(r.n), py(r[k])]);
    if (pts.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${colors[k]}" stroke-width="2" points="${pts.map((p) => p.join(",")).join(" ")}"/>`);
    const cpuPts = rows.filter((r) => r[k] !== undefined).map((r) => [px(r.n), py(r.cpu[k])]);
    parts.push(`<polyline fill="none" stroke="${colors[k]}" stroke-width="1.5" stroke-dasharray="5 3" points="${cpuPts.map((p) => p.join(",")).join(" ")}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${colors[k]}"/>`);
    parts.push(`<text x="${W - m.r + 10}" y="${m.t + 20 + i * 18}" fill="${colors[k]}">${k}</text>`);
  });
  parts.push(`</svg>\n`);
  return parts.join("\n");
}
