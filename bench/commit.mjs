#!/usr/bin/env node
// Benchmark: the buildah commit, and the two ways to stop paying for it.
//   1. skip: a build whose image nothing needs (a graph build's leaf, `build --no-commit`) against
//      the same build with the commit: the fixture RPM recipe, alternating, several rounds; the
//      median of per-round ratios no-commit / commit.
//   2. overlap: on a bigger root (a copy of --tree, default /usr/lib/x86_64-linux-gnu, ~0.8 GB,
//      in a busybox container), mksquashfs (the dev profile's zstd -3 on all cores) and buildah
//      commit one after the other, both at once, and mksquashfs alone (the skip), rotating the
//      order per round: which of overlap and skip saves more, as ratios to "one after the other".
// Each round holds the heavy-job lock. Not a timed test: run it by hand (as root, after
// `npm run build`) or from scripts/bench.mjs.
//
//   node bench/commit.mjs [--rounds 3] [--tree DIR]
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { busyboxImage, cli, exec, fixtureRepo, median, repo, timed, withHeavyLock } from "./support.mjs";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, tree: { type: "string", default: "/usr/lib/x86_64-linux-gnu" } },
});
const rounds = Number(values.rounds);
const recipe = join(repo, "test/fixtures/build/fixture-live.yaml");
const BUSYBOX_IMAGE = "localhost/bench/commit-busybox:1";
const OVERLAP_IMAGE = "localhost/bench/commit-overlap:1";

const work = mkdtempSync(join(tmpdir(), "bootsmith-bench-commit-"));
const results = [];
let container;
try {
  // 1. skip, on a real build.
  const fixture = await fixtureRepo(join(work, "repo"));
  const env = { BOOTSMITH_WORK_DIR: join(work, "work"), BOOTSMITH_CACHE_DIR: join(work, "cache") };
  const build = (kind, round) =>
    exec(
      process.execPath,
      [
        cli,
        "build",
        recipe,
        "--var",
        `REPO_URL=${fixture.baseurl}`,
        "--out",
        join(work, `out-${kind}-${round}`),
        "--no-publish",
        "--progress",
        "plain",
        ...(kind === "skip" ? ["--no-commit"] : []),
      ],
      { env },
    );
  await withHeavyLock(() => build("commit", "warm"));
  const skip = { ratios: [], commitStep: [], loads: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["commit", "skip"] : ["skip", "commit"];
    const seconds = {};
    const { loadStart, loadEnd } = await withHeavyLock(async () => {
      for (const kind of order) seconds[kind] = await timed(() => build(kind, round));
    });
    const manifest = JSON.parse(readFileSync(join(work, `out-commit-${round}`, "manifest.json"), "utf8"));
    skip.commitStep.push(manifest.timings.find((t) => t.step === "commit")?.seconds ?? NaN);
    skip.ratios.push(seconds.skip / seconds.commit);
    skip.loads.push(`${loadStart}→${loadEnd}`);
    console.log(
      `round ${round + 1}: build with commit ${seconds.commit.toFixed(2)} s, --no-commit ${seconds.skip.toFixed(2)} s, ratio ${skip.ratios.at(-1).toFixed(3)} (load ${skip.loads.at(-1)})`,
    );
  }
  const skipRatio = median(skip.ratios);
  results.push({
    name: `fixture build --no-commit / with commit (${rounds} rounds)`,
    figure: `${skipRatio.toFixed(3)} (range ${Math.min(...skip.ratios).toFixed(3)}–${Math.max(...skip.ratios).toFixed(3)}; commit step ${median(skip.commitStep).toFixed(1)} s; load ${skip.loads.join(", ")})`,
    aim: "< 1",
    ok: skipRatio < 1,
  });

  // 2. overlap or skip, on a bigger root.
  await withHeavyLock(() => busyboxImage(BUSYBOX_IMAGE));
  container = (await exec("buildah", ["from", "--pull=never", BUSYBOX_IMAGE])).stdout.trim();
  const root = (await exec("buildah", ["mount", container])).stdout.trim();
  await withHeavyLock(async () => cpSync(values.tree, join(root, "tree"), { recursive: true, verbatimSymlinks: true }));
  const squash = () =>
    exec("mksquashfs", [
      root,
      join(work, "rootfs.squashfs"),
      "-noappend",
      "-no-progress",
      "-comp",
      "zstd",
      "-Xcompression-level",
      "3",
      "-processors",
      String(availableParallelism()),
    ]);
  const commit = () => exec("buildah", ["commit", "--quiet", "--format", "oci", container, OVERLAP_IMAGE]);
  const modes = {
    sequential: async () => {
      await squash();
      await commit();
    },
    overlap: () => Promise.all([squash(), commit()]),
    skip: squash,
  };
  const names = Object.keys(modes);
  const overlap = { seconds: { sequential: [], overlap: [], skip: [] }, loads: [] };
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const { loadStart, loadEnd } = await withHeavyLock(async () => {
      for (const mode of order) {
        overlap.seconds[mode].push(await timed(modes[mode]));
        await exec("buildah", ["rmi", OVERLAP_IMAGE], { allowFail: true });
      }
    });
    overlap.loads.push(`${loadStart}→${loadEnd}`);
    console.log(`round ${round + 1}: ${names.map((m) => `${m} ${overlap.seconds[m].at(-1).toFixed(2)} s`).join(", ")} (load ${overlap.loads.at(-1)})`);
  }
  const perRound = (mode) => overlap.seconds[mode].map((s, i) => s / overlap.seconds.sequential[i]);
  const o = median(perRound("overlap"));
  const k = median(perRound("skip"));
  const tree = `${values.tree}, ${(await exec("du", ["-sh", join(root, "tree")])).stdout.split("\t")[0]}`;
  console.log(
    `mksquashfs + commit of ${tree}: one after the other ${median(overlap.seconds.sequential).toFixed(2)} s; at once ×${o.toFixed(3)}; commit skipped ×${k.toFixed(3)}`,
  );
  results.push({
    name: `squashfs + commit at once / one after the other (${tree}, ${rounds} rounds)`,
    figure: `${o.toFixed(3)} (commit skipped: ${k.toFixed(3)}; load ${overlap.loads.join(", ")})`,
    aim: "skip < overlap",
    ok: k < o,
  });
} finally {
  if (container) await exec("buildah", ["rm", container], { allowFail: true });
  for (const image of [OVERLAP_IMAGE, BUSYBOX_IMAGE, "localhost/bootsmith/fixture-live:1", "localhost/bootsmith/fixture-live:latest"])
    await exec("buildah", ["rmi", image], { allowFail: true });
  rmSync(work, { recursive: true, force: true });
}
for (const r of results) console.log(`BENCH-RESULT ${JSON.stringify(r)}`);
