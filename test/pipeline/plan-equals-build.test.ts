// plan = build: a real build of the fixture recipe with fixed-id accounts (buildah, host dnf on
// the fixture RPM repository, dracut, mksquashfs, a local publish) logs every command it runs in
// build.log as `+ …`; `bootsmith plan --json` for the same recipe, build id and host settings
// must list the same commands in the same order, once the runtime values the build learnt
// (mount point, kernel, image id) are filled in. The bash form of the same plan must parse (bash -n).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import { loggedCommands, renderedPlanCommands, runtimeValues } from "../support/build-log.js";
import type { Plan } from "../../src/steps/types.js";
import type { Manifest } from "../../src/core/manifest.js";
import { execa } from "execa";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/build");
const BUILD_ID = "plan-equals-build";
/** How long the process a recipe command leaves in the image would run: the build stops it long before. */
const DAEMON_SECONDS = 900;
let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let recipe: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-plan-build-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = buildEnv(work);
  // The fixture recipe plus users and groups with fixed ids (site.conf owned by one of them), a
  // directory with a mode (staged on the host), a publish step (to a local directory), so the
  // accounts, owner check, staging and publish are compared too, and a command that leaves a
  // process running in the image (as gpg --import leaves gpg-agent), which the build stops.
  recipe = path.join(work, "fixture-live.yaml");
  writeFileSync(
    recipe,
    [
      readFileSync(path.join(FIXTURES, "fixture-live.yaml"), "utf8")
        .replace('    mode: "0600"\n', '    mode: "0600"\n    owner: munge:munge\n  - dest: /etc/fixture/site.d/\n    src: site.d\n    mode: "0640"\n')
        .replace("commands:\n", `commands:\n  - name: leaves a daemon\n    script: "sleep ${DAEMON_SECONDS} </dev/null >/dev/null 2>&1 &"\n`),
      "groups:\n  - { name: munge, gid: 991, system: true }",
      "users:\n  - { name: munge, uid: 991, group: munge, system: true }",
      `publish:\n  - type: local\n    dir: ${path.join(work, "published")}\n`,
    ].join("\n"),
  );
  copyFileSync(path.join(FIXTURES, "site.conf"), path.join(work, "site.conf"));
  mkdirSync(path.join(work, "site.d", "conf"), { recursive: true });
  writeFileSync(path.join(work, "site.d", "conf", "role"), "compute\n");
}, 300_000);

afterAll(async () => {
  await removeImages(["fixture-live:1", "fixture-live:latest"]);
  rmSync(work, { recursive: true, force: true });
});

/** Whether process `pid` runs a command line starting with `argv` (NUL-separated). */
function runs(pid: number, argv: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith(argv);
  } catch {
    return false; // gone
  }
}

/** Plan (JSON and bash), then build, with the same arguments; the build's logged commands and the plan's, runtime values filled in. */
async function planAndBuild(out: string, extra: readonly string[]) {
  const args = [recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--build-id", BUILD_ID, ...extra];
  const planned = await bootsmith(["plan", ...args, "--json"], { env });
  expect(planned.exitCode, planned.stderr).toBe(0);
  const built = await bootsmith(["build", ...args, "--progress", "plain"], { env });
  expect(built.exitCode, built.stderr).toBe(0);
  const log = readFileSync(path.join(out, "build.log"), "utf8");
  const values = runtimeValues(log);
  return { logged: loggedCommands(log), rendered: renderedPlanCommands(JSON.parse(planned.stdout) as Plan, values) };
}

describe("bootsmith plan shows exactly what bootsmith build runs", () => {
  it("same commands, same order, for the fixture recipe on this host", { timeout: 600_000 }, async () => {
    const out = path.join(work, "out");
    const args = [recipe, "--var", `REPO_URL=${repo.baseurl}`, "--out", out, "--build-id", BUILD_ID];
    const planned = await bootsmith(["plan", ...args, "--json"], { env });
    expect(planned.exitCode, planned.stderr).toBe(0);
    const script = await bootsmith(["plan", ...args], { env });
    expect(script.exitCode, script.stderr).toBe(0);
    expect(() => execFileSync("bash", ["-n"], { input: script.stdout })).not.toThrow();

    const built = await bootsmith(["build", ...args, "--progress", "plain"], { env });
    expect(built.exitCode, built.stderr).toBe(0);
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    const values = runtimeValues(log);
    expect(values.KVER).toBeDefined();

    const plan = JSON.parse(planned.stdout) as Plan & { host: string[] };
    // Host settings: the same storage options as the build's buildah calls (from detection here).
    expect(plan.host[0]).toMatch(/^host: buildah --root \S+ --runroot \S+ --storage-driver \S+, buildah run --isolation \S+$/);
    const rendered = renderedPlanCommands(plan, values);
    expect(loggedCommands(log)).toEqual(rendered);
    // The process command-1 left in the image was stopped before the squashfs and the teardown,
    // and is reported with its pid, command line and step.
    const stopped = [
      ...log.matchAll(/ WARN \[stop-processes\] stopped a process left running in the image by step (\S+) \((SIGTERM|SIGKILL)\): pid (\d+) \((.*)\)$/gm),
    ];
    expect(stopped.map((m) => [m[1], m[4]])).toEqual([["command-1", `sleep ${DAEMON_SECONDS}`]]);
    expect(runs(Number(stopped[0]![3]), `sleep\0${DAEMON_SECONDS}`)).toBe(false);
    // mode: "0640" on a directory src: its files get it, its directories 0750 (not 0640, which
    // no one but root could enter).
    const { stdout: listing } = await execa("unsquashfs", ["-lls", "-d", "", path.join(out, "rootfs.squashfs"), "etc/fixture"]);
    expect(listing).toMatch(/^drwxr-x--- \S+ +\d+ \S+ \S+ \/etc\/fixture\/site\.d\/conf$/m);
    expect(listing).toMatch(/^-rw-r----- \S+ +\d+ \S+ \S+ \/etc\/fixture\/site\.d\/conf\/role$/m);
    // owner: munge:munge on /etc/fixture/site.conf: the file is munge's, the directory buildah
    // made for it root's (buildah copy --chown alone gave it to munge).
    expect(listing).toMatch(/^-rw------- 991\/991 +\d+ \S+ \S+ \/etc\/fixture\/site\.conf$/m);
    expect(listing).toMatch(/^drwxr-xr-x root\/root +\d+ \S+ \S+ \/etc\/fixture$/m);
    // Every kind of step bootsmith performs itself was compared, not only external programs.
    for (const sub of [
      "bootsmith rootfs accounts",
      "bootsmith rootfs check-owners",
      "bootsmith rootfs select-kernel",
      "bootsmith rootfs copy-out",
      "bootsmith rootfs stop-processes",
      "bootsmith rootfs clean",
      "bootsmith artifacts verify-initramfs",
      "bootsmith artifacts write-manifest",
      "bootsmith publish",
    ]) {
      expect(
        rendered.some((c) => c.startsWith(sub)),
        sub,
      ).toBe(true);
    }
    expect(
      rendered.filter((c) => c.startsWith("buildah ")).every((c) => c.startsWith(`buildah ${plan.host[0]!.slice("host: buildah ".length).split(",")[0]}`)),
    ).toBe(true);
  });

  it("--no-commit: the same, with no buildah commit, the earlier image removed, the manifest told", { timeout: 600_000 }, async () => {
    const out = path.join(work, "out-no-commit");
    // Without the publish target: a local one would do, but the first test's publish dir is taken.
    const { logged, rendered } = await planAndBuild(out, ["--no-commit", "--no-publish"]);
    expect(logged).toEqual(rendered);
    expect(rendered.some((c) => / (commit|config) /.test(c) && c.startsWith("buildah "))).toBe(false);
    expect(
      rendered.some((c) => c.startsWith("buildah ") && c.includes(" rmi localhost/bootsmith/fixture-live:1 localhost/bootsmith/fixture-live:latest")),
    ).toBe(true);
    expect(rendered.some((c) => c.startsWith("bootsmith artifacts write-manifest") && c.endsWith("--not-committed"))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
    expect(manifest.image).toEqual({ ref: "localhost/bootsmith/fixture-live:1", committed: false });
    // The first test's image of that name is gone: nothing can take it for this build's.
    const inspect = await execa("buildah", ["inspect", "--type", "image", "localhost/bootsmith/fixture-live:1"], { reject: false, env });
    expect(inspect.exitCode).not.toBe(0);
    expect(inspect.stderr).toMatch(/image not known/);
  });
});
