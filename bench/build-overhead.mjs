#!/usr/bin/env node
// Benchmark: what bootsmith adds to a build. The fixture RPM recipe
// (test/fixtures/build/fixture-live.yaml, with the fixture repository the tests build) is built
// by `bootsmith build` and by the same commands as a plain bash script (`bootsmith plan`), on
// the same buildah storage, dnf cache and output filesystem, alternating, several rounds.
// Each round holds the heavy-job lock and runs both back to back (order alternating); prints
// the median of the per-round ratios (aim ≤ 1.05), their range and the load of each round. bootsmith's extra work is
// real work: progress and build.log, sha256 of the artifacts, manifest.json, cleanup checks.
// Not a timed test: run it by hand (as root, after `npm run build`) or from scripts/bench.mjs.
//
//   node bench/build-overhead.mjs [--rounds 5]
//
// The last line is `BENCH-RESULT {json}` for scripts/bench.mjs.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { exec, median, withHeavyLock } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const recipe = join(repo, "test/fixtures/build/fixture-live.yaml");
const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The tests' fixture repository builder, compiled where it can import execa and find its specs. */
async function fixtureRepo(dir) {
  const out = join(repo, "node_modules/.cache/bootsmith-bench-tests");
  await exec("npx", ["tsc", "-p", join(repo, "test/tsconfig.json"), "--noEmit", "false", "--outDir", out, "--sourceMap", "false"]).catch((e) => {
    console.error(`tsc reported errors (emitted anyway): ${String(e.message).split("\n").slice(1, 3).join(" | ")}`);
  });
  cpSync(join(repo, "test/fixtures/rpm"), join(out, "test/fixtures/rpm"), { recursive: true });
  const { buildFixtureRepo } = await import(pathToFileURL(join(out, "test/support/rpm-repo.js")).href);
  return buildFixtureRepo(dir);
}

const work = mkdtempSync(join(tmpdir(), "bootsmith-bench-build-"));
try {
  const fixture = await fixtureRepo(join(work, "repo"));
  const env = { BOOTSMITH_WORK_DIR: join(work, "work"), BOOTSMITH_CACHE_DIR: join(work, "cache") };
  // The plan calls bootsmith's own steps as `bootsmith …` commands: the script finds this build.
  const bin = join(work, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "bootsmith"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} "$@"\n`, { mode: 0o755 });
  const scriptEnv = { ...env, PATH: `${bin}:${process.env.PATH}` };
  const vars = ["--var", `REPO_URL=${fixture.baseurl}`];
  const out = (kind, round) => join(work, `out-${kind}-${round}`);
  const runBootsmith = (round) =>
    exec(process.execPath, [cli, "build", recipe, ...vars, "--out", out("bootsmith", round), "--no-publish", "--progress", "plain"], { env });
  // The plan is written before the clock starts: the baseline is the commands alone, as a user
  // would run a saved script (an earlier version timed `bootsmith plan` with it, which flattered
  // bootsmith by the plan's own ~0.5 s).
  const writeScript = async (round) => {
    const script = join(work, `plan-${round}.sh`);
    const { stdout } = await exec(process.execPath, [cli, "plan", recipe, ...vars, "--out", out("script", round), "--no-publish"], { env });
    writeFileSync(script, stdout);
    return () => exec("bash", [script], { env: scriptEnv });
  };
  // One warm-up of each: dnf's metadata cache, page cache, buildah's storage.
  await withHeavyLock(async () => {
    await runBootsmith("warm");
    await (
      await writeScript("warm")
    )();
  });
  const times = { bootsmith: [], script: [] };
  const ratios = [];
  const loads = [];
  for (let round = 0; round < rounds; round++) {
    const runScript = await writeScript(round);
    const order = round % 2 === 0 ? ["bootsmith", "script"] : ["script", "bootsmith"];
    // One round = one of each, back to back, with no other heavy job on the machine.
    const { loadStart, loadEnd } = await withHeavyLock(async () => {
      for (const kind of order) {
        const seconds = await timed(() => (kind === "bootsmith" ? runBootsmith(round) : runScript()));
        times[kind].push(seconds);
        console.log(`round ${round + 1} ${kind.padEnd(9)} ${seconds.toFixed(2)} s`);
      }
    });
    ratios.push(times.bootsmith.at(-1) / times.script.at(-1));
    loads.push(`${loadStart}→${loadEnd}`);
    console.log(`round ${round + 1} ratio ${ratios.at(-1).toFixed(3)} (load ${loads.at(-1)})`);
  }
  // What the fixed part of the difference is made of: the host checks every build runs first
  // (tools, storage driver and isolation probed with a throwaway buildah container), alone.
  const doctor = [];
  await withHeavyLock(async () => {
    for (let round = 0; round < rounds; round++) doctor.push(await timed(() => exec(process.execPath, [cli, "doctor"], { env }).catch(() => {})));
  });
  const b = median(times.bootsmith);
  const s = median(times.script);
  const d = median(doctor);
  // Each round's ratio is taken on the same conditions (the two runs back to back); their median
  // is the figure, the spread says how firm it is.
  const r = median(ratios);
  const spread = `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`;
  console.log(
    `median bootsmith build ${b.toFixed(2)} s, plain bash script ${s.toFixed(2)} s; median per-round ratio ${r.toFixed(3)} (range ${spread}, aim ≤ 1.05) over ${rounds} rounds, load ${loads.join(", ")}`,
  );
  console.log(`difference ${(b - s).toFixed(2)} s per build; bootsmith doctor (the host checks a build starts with) alone ${d.toFixed(2)} s`);
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: `build overhead (fixture RPM recipe, ${rounds} rounds)`, figure: `${r.toFixed(3)} (range ${spread}; bootsmith ${b.toFixed(2)} s, bash ${s.toFixed(2)} s)`, aim: "≤ 1.05", ok: r <= 1.05 })}`,
  );
} finally {
  await exec("buildah", ["rmi", "-f", "localhost/bootsmith/fixture-live:1", "localhost/bootsmith/fixture-live:latest"]).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
