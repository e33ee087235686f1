#!/usr/bin/env node
// Benchmark: the recipe graph. A tree of 20 recipes (a base on a tiny busybox image, 19 children
// on the base's committed image), built for real with buildah, then:
//   1. a no-op run of all 20 (everything up to date): wall time; aim < 2 s
//   2. eight independent children rebuilt with --jobs 1 and with --jobs 2: makespan ratio;
//      aim ≤ 0.6. Each child's command sleeps --work seconds (default 2), standing in for the
//      waiting (downloads, repo metadata) that real builds do; buildah's own work is real.
// Not a timed test: run by hand (as root, after `npm run build`):
//
//   node bench/graph.mjs [--work 2] [--keep]
//
// Uses its own buildah images localhost/bench/* and localhost/bootsmith/bench-*, removed at the end.
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { busyboxImage, exec, withHeavyLock } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const { values } = parseArgs({ options: { work: { type: "string", default: "2" }, keep: { type: "boolean", default: false } } });
const CHILDREN = 19;
const BUSYBOX_IMAGE = "localhost/bench/busybox:1";

async function timed(label, fn) {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label.padEnd(44)} ${(ms / 1000).toFixed(2)} s`);
  return { ms, result };
}

const dir = await mkdtemp(join(tmpdir(), "bootsmith-bench-graph-"));
const recipes = join(dir, "recipes");
const names = ["bench-base", ...Array.from({ length: CHILDREN }, (_, i) => `bench-c${String(i + 1).padStart(2, "0")}`)];
try {
  await mkdir(recipes);
  await writeFile(
    join(recipes, "base.yaml"),
    `name: bench-base\ntags: ["1"]\nfrom:\n  image: ${BUSYBOX_IMAGE}\ncommands:\n  - script: echo base > /etc/base\nboot: false\n`,
  );
  for (const name of names.slice(1)) {
    await writeFile(
      join(recipes, `${name}.yaml`),
      `name: ${name}\ntags: ["1"]\nfrom:\n  recipe: base.yaml\ncommands:\n  - name: work\n    script: echo \${RUN} > /etc/${name}; sleep ${values.work}\nboot: false\n`,
    );
  }
  const build = (...args) =>
    exec(process.execPath, [cli, "build", recipes, "--out", join(dir, "out"), "--progress", "plain", "--no-publish", ...args], { cwd: dir });

  // Each measurement holds the heavy-job lock; --jobs 1 and --jobs 2 run back to back in one hold.
  const { result: noop, loadStart: noopLoad } = await withHeavyLock(async () => {
    await busyboxImage(BUSYBOX_IMAGE);
    await timed("initial build, 20 recipes, --jobs 2", () => build("--var", "RUN=0", "--jobs", "2"));
    return timed("no-op run, 20 recipes up to date", () => build("--var", "RUN=0"));
  });
  const summary = noop.result.stderr.trim().split("\n").at(-1);
  console.log(`  ${summary}`);

  const eight = names.slice(1, 9).flatMap((n) => ["--only", n]);
  const {
    result: jobs,
    loadStart,
    loadEnd,
  } = await withHeavyLock(async () => {
    const one = await timed("8 independent children, --jobs 1", () => build("--var", "RUN=1", "--jobs", "1", ...eight));
    const two = await timed("8 independent children, --jobs 2", () => build("--var", "RUN=2", "--jobs", "2", ...eight));
    return two.ms / one.ms;
  });
  console.log(`\nno-op 20 recipes: ${(noop.ms / 1000).toFixed(2)} s (aim < 2 s; load ${noopLoad})`);
  console.log(`makespan --jobs 2 / --jobs 1: ${jobs.toFixed(2)} (aim ≤ 0.6; work ${values.work} s per child; load ${loadStart}→${loadEnd})`);
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: "no-op rebuild of 20 recipes", figure: `${(noop.ms / 1000).toFixed(2)} s (load ${noopLoad})`, aim: "< 2 s", ok: noop.ms < 2000 })}`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: "--jobs 2 / --jobs 1 makespan, 8 children", figure: `${jobs.toFixed(2)} (load ${loadStart}→${loadEnd})`, aim: "≤ 0.6", ok: jobs <= 0.6 })}`,
  );
} finally {
  if (!values.keep) {
    for (const name of names) await exec("buildah", ["rmi", "-f", `localhost/bootsmith/${name}:1`], { allowFail: true });
    await exec("buildah", ["rmi", "-f", BUSYBOX_IMAGE], { allowFail: true });
    await rm(dir, { recursive: true, force: true });
  } else console.log(`kept ${dir}`);
}
