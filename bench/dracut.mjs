#!/usr/bin/env node
// Benchmark: the live initramfs of recipes/debian-12-live.yaml. dracut runs in a working
// container of the recipe's committed image (the image `bootsmith build` leaves behind, with the
// Debian kernel, dracut and the live modules installed), once with bootsmith's dracut command
// (from `bootsmith plan --json`, so the figure is the command a build runs) and once with the
// baseline: dracut's own defaults for the same modules (`--compress zstd` = zstd -15, every
// driver and filesystem a no-hostonly initramfs takes). Alternating, each round under the
// heavy-job lock; prints seconds, image sizes, the ratio and the load. Aim: bootsmith ≤ 30 s.
//
//   node bench/dracut.mjs [--rounds 3] [--image localhost/bootsmith/debian-12-live:bookworm]
//
// Builds the recipe first (--no-publish, ~3 min) when the image is missing. Needs root and
// `npm run build`. Lines starting with BENCH-RESULT are for scripts/bench.mjs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exec, median, withHeavyLock } from "./support.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const recipe = join(repo, "recipes/debian-12-live.yaml");
const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, image: { type: "string", default: "localhost/bootsmith/debian-12-live:bookworm" } },
});
const rounds = Number(values.rounds);

/** The dracut argv of the plan's initramfs step (after `buildah run … --`), with $KVER filled in. */
async function plannedDracut(kver) {
  const { stdout } = await exec(process.execPath, [cli, "plan", recipe, "--json", "--no-publish"]);
  const step = JSON.parse(stdout).steps.find((s) => s.id === "initramfs");
  const args = step.actions.find((a) => a.kind === "exec").command.args;
  const argv = args.slice(args.indexOf("--") + 1);
  const render = (a) =>
    typeof a === "string" ? a : (Array.isArray(a) ? a : [a]).map((p) => (typeof p === "string" ? p : p.var === "KVER" ? kver : "")).join("");
  return argv.map(render);
}

const work = await mkdtemp(join(tmpdir(), "bootsmith-bench-dracut-"));
let container;
try {
  const present = await exec("buildah", ["inspect", "--type", "image", values.image], { allowFail: true });
  if (present.code !== 0) {
    console.error(`building ${recipe} for its image (${values.image} is missing) …`);
    await withHeavyLock(() => exec(process.execPath, [cli, "build", recipe, "--no-publish", "--out", join(work, "out"), "--progress", "plain"]));
  }
  container = (await exec("buildah", ["from", "--name", `bench-dracut-${process.pid}`, values.image])).stdout.trim();
  const run = (argv) => exec("buildah", ["run", "--isolation", "chroot", container, "--", ...argv]);
  const kver = (await run(["ls", "/lib/modules"])).stdout.trim().split("\n")[0];
  const planned = await plannedDracut(kver);
  const out = planned.at(-1);
  const modules = planned[planned.indexOf("--add") + 1];
  const contenders = {
    bootsmith: [...planned.slice(0, -1), "/tmp/bench-bootsmith.img"],
    baseline: ["dracut", "--no-hostonly", "--force", "--kver", kver, "--add", modules, "--compress", "zstd", "/tmp/bench-baseline.img"],
  };
  console.log(`bootsmith: ${contenders.bootsmith.join(" ")} (plan writes ${out})`);
  console.log(`baseline:  ${contenders.baseline.join(" ")}`);

  const times = { bootsmith: [], baseline: [] };
  const sizes = {};
  const ratios = [];
  const loads = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? ["baseline", "bootsmith"] : ["bootsmith", "baseline"];
    const { loadStart, loadEnd } = await withHeavyLock(async () => {
      for (const name of order) {
        const t0 = process.hrtime.bigint();
        await run(contenders[name]);
        times[name].push(Number(process.hrtime.bigint() - t0) / 1e9);
        sizes[name] = Number((await run(["stat", "-c", "%s", contenders[name].at(-1)])).stdout.trim());
      }
    });
    ratios.push(times.bootsmith.at(-1) / times.baseline.at(-1));
    loads.push(`${loadStart}→${loadEnd}`);
    console.log(
      `round ${round} (load ${loads.at(-1)}): baseline ${times.baseline.at(-1).toFixed(1)} s, bootsmith ${times.bootsmith.at(-1).toFixed(1)} s, ratio ${ratios.at(-1).toFixed(2)}`,
    );
  }
  const b = median(times.bootsmith);
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(
    `median: bootsmith ${b.toFixed(1)} s (${mb(sizes.bootsmith)}), baseline ${median(times.baseline).toFixed(1)} s (${mb(sizes.baseline)}); ratio ${median(ratios).toFixed(2)} over ${rounds} rounds, load ${loads.join(", ")}`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: "dracut, Debian live initramfs: seconds", figure: `${b.toFixed(1)} s (baseline ${median(times.baseline).toFixed(1)} s, ratio ${median(ratios).toFixed(2)}, ${rounds} rounds)`, aim: "≤ 30 s", ok: b <= 30 })}`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: "dracut, Debian live initramfs: size", figure: `${mb(sizes.bootsmith)} (baseline ${mb(sizes.baseline)})`, aim: "within 2 % of the baseline", ok: sizes.bootsmith <= sizes.baseline * 1.02 })}`,
  );
} finally {
  if (container) await exec("buildah", ["rm", container], { allowFail: true });
  await rm(work, { recursive: true, force: true });
}
