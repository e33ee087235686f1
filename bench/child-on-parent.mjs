#!/usr/bin/env node
// Benchmark: a layer rebuilt on its parent's committed image vs the parent and the layer built
// from scratch. The parent is a real Debian 12 minbase (mmdebstrap with the host's apt sources,
// plus a few packages); the child adds packages with apt-get inside the image and a file.
// Aim: child alone ≤ 0.2 × (parent + child). Not a timed test: run by hand (as root, after
// `npm run build`), or from scripts/bench.mjs:
//
//   node bench/child-on-parent.mjs [--rounds 2]
//
// The last line is `BENCH-RESULT {json}`. Uses images localhost/bootsmith/bench-cop-*, removed at the end.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(repo, "dist/cli/main.js");
const { values } = parseArgs({ options: { rounds: { type: "string", default: "2" } } });
const rounds = Math.max(1, Number(values.rounds));

const PARENT = `apiVersion: bootsmith/v1
name: bench-cop-base
tags: ["1"]
from: scratch
packages:
  manager: apt
  release: bookworm
  install: [systemd-sysv, iproute2, procps, kmod, udev, curl, ca-certificates]
boot: false
`;
const CHILD = `apiVersion: bootsmith/v1
name: bench-cop-child
tags: ["1"]
from:
  recipe: base.yaml
packages:
  manager: apt
  install: [less, jq]
files:
  - dest: /etc/motd
    content: "compute layer\\n"
boot: false
`;

function bootsmith(args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, CI: "true" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolvePromise(seconds);
      else reject(new Error(`bootsmith ${args.join(" ")} exited ${code}\n${stderr.slice(-3000)}`));
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = await mkdtemp(join(tmpdir(), "bootsmith-bench-cop-"));
try {
  await writeFile(join(work, "base.yaml"), PARENT);
  await writeFile(join(work, "child.yaml"), CHILD);
  const scratch = [];
  const layer = [];
  for (let round = 1; round <= rounds; round++) {
    const parent = await bootsmith(["build", "base.yaml", "--no-publish", "--out", join(work, "out-base")], work);
    const child = await bootsmith(["build", "child.yaml", "--no-publish", "--out", join(work, "out-child")], work);
    scratch.push(parent + child);
    // The child again, on the parent's committed image: the parent's steps are not re-run.
    const again = await bootsmith(["build", "child.yaml", "--no-publish", "--out", join(work, "out-child")], work);
    layer.push(again);
    console.log(
      `round ${round}: parent ${parent.toFixed(1)} s + child ${child.toFixed(1)} s = ${(parent + child).toFixed(1)} s; child on parent ${again.toFixed(1)} s`,
    );
  }
  const ratio = median(layer) / median(scratch);
  console.log(
    `median child on parent ${median(layer).toFixed(1)} s, parent + child from scratch ${median(scratch).toFixed(1)} s: ratio ${ratio.toFixed(2)} (aim ≤ 0.2)`,
  );
  console.log(
    `BENCH-RESULT ${JSON.stringify({ name: "child rebuilt on its parent vs parent + child from scratch (Debian)", figure: `${median(layer).toFixed(1)} s / ${median(scratch).toFixed(1)} s = ${ratio.toFixed(2)}`, aim: "≤ 0.2", ok: ratio <= 0.2 })}`,
  );
} finally {
  for (const image of ["bench-cop-base:1", "bench-cop-child:1"]) {
    await new Promise((r) => spawn("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { stdio: "ignore" }).on("close", r));
  }
  await rm(work, { recursive: true, force: true });
}
