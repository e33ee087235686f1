#!/usr/bin/env node
// Benchmark: what bootsmith adds to a build. The fixture RPM recipe
// (test/fixtures/build/fixture-live.yaml, with the fixture repository the tests build) is built
// by `bootsmith build` and by a hand-written-style bash script of the same plan, on the same
// buildah storage, dnf cache and output filesystem, alternating, several rounds. Each round holds
// the heavy-job lock and runs both back to back (order alternating); prints the median of the
// per-round ratios (aim ≤ 1.05), their range and the load of each round.
//
// The baseline (docs/benchmarks.md says why): every external program of `bootsmith plan --json`
// with its exact argv (buildah, dnf, the dracut stand-in, mksquashfs), and bootsmith's own steps
// replaced by what a hand-written script would run for them: the kernel picked with `ls | sort
// -V`, `cp` for copy-out, `rm -rf` for the leftovers, `sha256sum` of the artifacts for the
// manifest; no SBOMs, no initramfs check. `bootsmith plan`'s own script calls `bootsmith rootfs …`
// for those steps, and each such line pays a Node start (~0.3 s here): as a baseline it measured
// Node's start-up seven times over, not a script. So everything bootsmith does beyond the
// programs (start-up, host checks, build.log, SBOMs, manifest) counts as its overhead here.
// Not a timed test: run it by hand (as root, after `npm run build`) or from scripts/bench.mjs.
//
//   node bench/build-overhead.mjs [--rounds 5]
//
// The last line is `BENCH-RESULT {json}` for scripts/bench.mjs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cli, exec, fixtureRepo, median, repo, timed, withHeavyLock } from "./support.mjs";
import { quoteArg } from "../dist/exec/quote.js";
import { renderArg, renderPlannedCommand, stepLines } from "../dist/plan/render.js";

const recipe = join(repo, "test/fixtures/build/fixture-live.yaml");
const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);

/** The plan (`bootsmith plan --json`) as a script a person would write: see the comment at the top. */
function handScript(plan) {
  const undos = new Map();
  const lines = ["#!/usr/bin/env bash", "set -euo pipefail", `mkdir -p ${quoteArg(plan.outDir)} ${quoteArg(plan.workDir)}`];
  for (const step of plan.steps) {
    lines.push(`# ${step.id}`);
    // A step that runs beside the next ones (the squashfs beside the commit) runs so here too,
    // with `&` and `wait`, as `bootsmith plan` prints it: the baseline gets the same overlap.
    lines.push(
      ...stepLines(
        plan,
        step,
        step.actions.flatMap((action) => handAction(action, undos)),
      ),
    );
  }
  lines.push(`rm -rf ${quoteArg(plan.workDir)}`);
  return lines.join("\n") + "\n";
}

function handAction(a, undos) {
  switch (a.kind) {
    case "exec": {
      const codes = a.command.acceptExitCodes ?? [];
      const cmd = renderPlannedCommand(a.command) + (codes.length > 0 ? ` || case $? in ${codes.join("|")}) ;; *) false ;; esac` : "");
      if (a.undo) undos.set(a.undo.id, a.undo.command);
      if (a.saveTo) return [`${cmd} > ${quoteArg(a.saveTo)}`];
      if (a.capture) return [`${a.capture}=$(${cmd})`];
      return [cmd];
    }
    case "release":
      return [renderPlannedCommand(undos.get(a.undoId))];
    case "write-file": {
      const dir = a.path.slice(0, a.path.lastIndexOf("/")) || "/";
      return [`mkdir -p ${quoteArg(dir)}`, `printf '%s' ${quoteArg(a.content)} > ${quoteArg(a.path)}`, `chmod ${a.mode.toString(8)} ${quoteArg(a.path)}`];
    }
    case "select-kernel":
      return [`KVER=$(ls ${renderArg(a.root)}/lib/modules | sort -V | tail -n 1)`, 'KERNEL_IMAGE="/boot/vmlinuz-$KVER"'];
    case "copy-out":
      return [`cp ${renderArg(a.root)}${renderArg(a.path)} ${quoteArg(a.to)}`];
    case "clean-leftovers":
      return [`rm -rf ${a.paths.map((p) => `${renderArg(a.root)}/${quoteArg(p.replace(/^\/+/, ""))}`).join(" ")}`];
    case "image-identity":
      // No SBOMs: the commit's SBOM labels get a placeholder.
      return ["SBOM_CDX_SHA256=none SBOM_SPDX_SHA256=none"];
    case "verify-initramfs":
      return [];
    case "remove-superseded": {
      // The images earlier rounds' commits left unnamed, removed as a script would, with
      // bootsmith's guard: only those older than five minutes (MIN_AGE_MS).
      const buildah = ["buildah", ...a.storage].map(quoteArg).join(" ");
      return [
        `${buildah} images --all --quiet --no-trunc --filter dangling=true --filter until=5m --filter label=io.bootsmith.recipe=${quoteArg(a.recipe)} | xargs -r ${buildah} rmi || true`,
      ];
    }
    case "write-manifest":
      return [`(cd ${quoteArg(a.dir)} && sha256sum vmlinuz initramfs.img rootfs.squashfs > SHA256SUMS.hand)`];
    default:
      throw new Error(`the hand-written baseline has no stand-in for ${a.kind} (the fixture recipe has none)`);
  }
}

const work = mkdtempSync(join(tmpdir(), "bootsmith-bench-build-"));
try {
  const fixture = await fixtureRepo(join(work, "repo"));
  const env = { BOOTSMITH_WORK_DIR: join(work, "work"), BOOTSMITH_CACHE_DIR: join(work, "cache") };
  const scriptEnv = env;
  const vars = ["--var", `REPO_URL=${fixture.baseurl}`];
  const out = (kind, round) => join(work, `out-${kind}-${round}`);
  // Under /usr/bin/time: wall seconds, and CPU seconds of the process and the children it waited
  // for (buildah, dnf, mksquashfs…). On this shared machine the wall time of bootsmith's own
  // work stretches with the load (its CPU waits for a core); the CPU ratio does not.
  const timedCpu = async (file, args) => {
    const r = await exec("/usr/bin/time", ["-f", "BENCH-TIME %e %U %S", file, ...args], { env: file === "bash" ? scriptEnv : env });
    const [wall, user, system] = /BENCH-TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr).slice(1).map(Number);
    return { wall, cpu: user + system };
  };
  const runBootsmith = (round) =>
    timedCpu(process.execPath, [cli, "build", recipe, ...vars, "--out", out("bootsmith", round), "--no-publish", "--progress", "plain"]);
  // The script is written before the clock starts: the baseline is the commands alone.
  const writeScript = async (round) => {
    const script = join(work, `hand-${round}.sh`);
    const { stdout } = await exec(process.execPath, [cli, "plan", recipe, ...vars, "--out", out("script", round), "--no-publish", "--json"], { env });
    writeFileSync(script, handScript(JSON.parse(stdout)));
    return () => timedCpu("bash", [script]);
  };
  // One warm-up of each: dnf's metadata cache, page cache, buildah's storage, the probe cache.
  await withHeavyLock(async () => {
    await runBootsmith("warm");
    await (
      await writeScript("warm")
    )();
  });
  const times = { bootsmith: [], script: [] };
  const cpu = { bootsmith: [], script: [] };
  const ratios = [];
  const cpuRatios = [];
  const loads = [];
  for (let round = 0; round < rounds; round++) {
    const runScript = await writeScript(round);
    const order = round % 2 === 0 ? ["bootsmith", "script"] : ["script", "bootsmith"];
    // One round = one of each, back to back, with no other heavy job on the machine.
    const { loadStart, loadEnd } = await withHeavyLock(async () => {
      for (const kind of order) {
        const r = await (kind === "bootsmith" ? runBootsmith(round) : runScript());
        times[kind].push(r.wall);
        cpu[kind].push(r.cpu);
        console.log(`round ${round + 1} ${kind.padEnd(9)} ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`);
      }
    });
    ratios.push(times.bootsmith.at(-1) / times.script.at(-1));
    cpuRatios.push(cpu.bootsmith.at(-1) / cpu.script.at(-1));
    loads.push(`${loadStart}→${loadEnd}`);
    console.log(`round ${round + 1} ratio ${ratios.at(-1).toFixed(3)}, CPU ratio ${cpuRatios.at(-1).toFixed(3)} (load ${loads.at(-1)})`);
  }
  // What part of the difference is Node's start-up alone (the CLI's, before any work).
  // Node 20 reads and parses NODE_EXTRA_CA_CERTS' certificates at every start, before any script
  // runs (later Node versions on first TLS use); where it is set, its share is measured apart.
  const caCerts = process.env.NODE_EXTRA_CA_CERTS;
  const starts = [];
  const nodeStarts = [];
  const bareNodeStarts = [];
  for (let round = 0; round < rounds; round++) {
    starts.push(await timed(() => exec(process.execPath, [cli, "--version"], { env })));
    nodeStarts.push(await timed(() => exec(process.execPath, ["-e", "0"], { env })));
    if (caCerts) bareNodeStarts.push(await timed(() => exec(process.execPath, ["-e", "0"], { env: { ...env, NODE_EXTRA_CA_CERTS: undefined } })));
  }
  const b = median(times.bootsmith);
  const s = median(times.script);
  // Each round's ratio is taken on the same conditions (the two runs back to back); their median
  // is the figure, the spread says how firm it is.
  const r = median(ratios);
  const spread = `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`;
  console.log(
    `median bootsmith build ${b.toFixed(2)} s, hand-written script ${s.toFixed(2)} s; median per-round ratio ${r.toFixed(3)} (range ${spread}, aim ≤ 1.05) over ${rounds} rounds, load ${loads.join(", ")}`,
  );
  const c = median(cpuRatios);
  console.log(
    `CPU: bootsmith ${median(cpu.bootsmith).toFixed(2)} s, script ${median(cpu.script).toFixed(2)} s; median per-round CPU ratio ${c.toFixed(3)} (range ${Math.min(...cpuRatios).toFixed(3)}–${Math.max(...cpuRatios).toFixed(3)})`,
  );
  // The floor any Node program meets against bash: Node's own start, before any of bootsmith's code.
  const nodeStart = median(nodeStarts);
  console.log(
    `difference ${(b - s).toFixed(2)} s per build; \`bootsmith --version\` (Node start and CLI load) alone ${median(starts).toFixed(2)} s; \`node -e 0\` ${nodeStart.toFixed(2)} s, a ratio of ${((s + nodeStart) / s).toFixed(3)} by itself`,
  );
  if (caCerts) {
    const ca = nodeStart - median(bareNodeStarts);
    console.log(`of Node's start, NODE_EXTRA_CA_CERTS (${caCerts}) takes ${ca.toFixed(3)} s: a ratio of ${((s + ca) / s).toFixed(3)} by itself`);
  }
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: `build overhead vs hand-written script (fixture RPM recipe, ${rounds} rounds)`, figure: `${r.toFixed(3)} (range ${spread}; bootsmith ${b.toFixed(2)} s, script ${s.toFixed(2)} s; load ${loads[0]}…${loads.at(-1)})`, aim: "≤ 1.05", ok: r <= 1.05 })}`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: `build overhead in CPU seconds (same rounds)`, figure: `${c.toFixed(3)} (bootsmith ${median(cpu.bootsmith).toFixed(2)} s, script ${median(cpu.script).toFixed(2)} s)`, aim: "≤ 1.05", ok: c <= 1.05 })}`,
  );
} finally {
  await exec("buildah", ["rmi", "-f", "localhost/bootsmith/fixture-live:1", "localhost/bootsmith/fixture-live:latest"]).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
