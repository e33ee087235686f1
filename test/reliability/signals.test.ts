// SIGTERM, SIGINT and SIGHUP (the ssh session to the head node dropped) at many points of a real
// fixture build: as each step starts (seen in the --json events), the build is signalled. Every
// time: exit 143 (SIGTERM), 130 (SIGINT) or 129 (SIGHUP), the working container and its mount
// gone, no manifest or artifacts in --out, the build lock released, so the same command can simply
// be run again (and then succeeds). The recipe's first command leaves a process running in the
// image (as gpg --import leaves gpg-agent): signalled at any later step, the build leaves it
// running on the host neither.
// test/build/build-dnf.test.ts covers SIGINT during a long command; test/exec/signals.test.ts
// the handler itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT, startBootsmith } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { LOCK_FILE } from "../../src/builder/output-lock.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import { INTERRUPT_EXIT_CODES, type InterruptSignal } from "../../src/exec/signals.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/build");
/** The process the recipe's first command leaves in the image: `sleep DAEMON_SECONDS`. */
const DAEMON_SECONDS = 901;
let RECIPE: string;
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-signals-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  RECIPE = path.join(work, "fixture-live.yaml");
  writeFileSync(
    RECIPE,
    readFileSync(path.join(FIXTURES, "fixture-live.yaml"), "utf8").replace(
      "commands:\n",
      `commands:\n  - name: leaves a daemon\n    script: "sleep ${DAEMON_SECONDS} </dev/null >/dev/null 2>&1 &"\n`,
    ),
  );
  copyFileSync(path.join(FIXTURES, "site.conf"), path.join(work, "site.conf"));
}, 300_000);

/** Processes on this host running `sleep DAEMON_SECONDS` (the recipe's daemon, left by a build). */
function daemonsLeft(): string[] {
  return readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8") === `sleep\0${DAEMON_SECONDS}\0`;
    } catch {
      return false; // gone
    }
  });
}

afterAll(async () => {
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

const POINTS: readonly [string, InterruptSignal][] = [
  ["create-container", "SIGTERM"],
  ["install-packages", "SIGTERM"],
  ["copy-files", "SIGINT"],
  // From here on, command-1 has left its process in the image.
  ["command-2", "SIGHUP"],
  ["initramfs", "SIGINT"],
  ["squashfs", "SIGTERM"],
  ["commit", "SIGTERM"],
];

describe("a build signalled as a step starts", () => {
  it.each(POINTS)("at %s, %s: cleaned up, nothing that looks finished, and a rerun builds", { timeout: 120_000 }, async (step, signal) => {
    const before = await snapshotHost("bootsmith-fixture-");
    const out = path.join(work, `out-${step}`);
    const args = ["build", RECIPE, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--no-publish"];
    const child = startBootsmith([...args, "--json"], { env });
    const marker = `"type":"step-start","step":"${step}"`;
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(marker)) resolve();
      });
      child.stdout.on("end", () => reject(new Error(`the build ended before step ${step} started:\n${seen.slice(-3000)}`)));
    });
    child.kill(signal);
    const result = await child;
    expect(result.exitCode, String(result.all).slice(-3000)).toBe(INTERRUPT_EXIT_CODES[signal]);
    for (const f of ["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs", LOCK_FILE]) expect(existsSync(path.join(out, f)), f).toBe(false);
    expect(await snapshotHost("bootsmith-fixture-")).toEqual(before);
    expect(daemonsLeft()).toEqual([]);

    const rerun = await bootsmith([...args, "--progress", "plain"], { env });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(existsSync(path.join(out, "manifest.json"))).toBe(true);
    expect(daemonsLeft()).toEqual([]);
  });
});
