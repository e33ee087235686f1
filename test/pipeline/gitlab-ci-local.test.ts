// A generated child pipeline run for real by gitlab-ci-local (shell executor, shell isolation,
// no network): the parent's job, then both children's on its image; the failing child fails the
// pipeline, the other passes, and the reports are where GitLab would look for them. Then a recipe
// with arches: and a child layer on runners that share no buildah storage (each job its own):
// the architectures push their images to docker-registry, the join lists them, the child's jobs
// pull the parent's image by digest (ci pull). That recipe signs: the jobs take the key from a
// File variable and ci push / ci join sign the sets again after recording the digests.
//
// gitlab-ci-local is a pinned devDependency (4.72.0: 4.75 needs Node 22) and needs rsync
// (scripts/setup.sh installs both); GITLAB_CI_LOCAL may name another copy.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { addAarch64Packages, buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { fixtureRecipe } from "../support/fixture-build.js";
import type { MultiArchManifest } from "../../src/core/manifest.js";
import { bootsmith, CLI, REPO_ROOT } from "../support/cli.js";
import { registryTags, startRegistry } from "../publish/support/registry.js";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { missingPrerequisites } from "../support/prerequisites.js";
import { makeTestKey } from "../support/gpg-keys.js";
import { randomBytes } from "node:crypto";
import { removeRunRoots, storageArgsOf } from "../support/storage-root.js";

const GCL = process.env.GITLAB_CI_LOCAL ?? path.join(REPO_ROOT, "node_modules/.bin/gitlab-ci-local");
const skip = missingPrerequisites("gitlab-ci-local.test", [
  { need: GCL, present: existsSync(GCL), install: "npm ci (gitlab-ci-local is a devDependency)" },
  { need: "rsync", present: ["/usr/bin/rsync", "/bin/rsync"].some(existsSync), install: "apt-get install rsync (scripts/setup.sh does)" },
]);
const MULTI = "gcl-multiarch";
const PASSPHRASE = `Wombat-${randomBytes(4).toString("hex")}`;
const CHILD = "gcl-multiarch-child";
const IMAGES = ["graph-base:1", "graph-child-ok:1", "graph-child-fails:1"];
let work: string;
let repo: FixtureRepo;

describe.skipIf(skip)("a generated child pipeline under gitlab-ci-local", () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "bootsmith-gcl-"));
    repo = await buildFixtureRepo(path.join(work, "repo"));
    for (const image of IMAGES) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
  }, 300_000);

  afterAll(async () => {
    for (const image of IMAGES) await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
    // each job's runner storage (work/runners/JOB) got a run root under /run from bootsmith
    const runners = work ? path.join(work, "runners") : undefined;
    if (runners && existsSync(runners)) removeRunRoots(readdirSync(runners).map((job) => path.join(runners, job)));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("runs the jobs in needs order; the failing child fails alone; dotenv and junit reports exist", { timeout: 600_000 }, async () => {
    const project = path.join(work, "project");
    cpSync(path.join(REPO_ROOT, "test/fixtures/graph"), path.join(project, "recipes"), { recursive: true });
    const run = await generateAndRun(project, ["--build-arg=--no-publish"]);
    const out = run.all ?? "";
    expect(run.exitCode, out).not.toBe(0);
    expect(out).toMatch(/PASS\s+build:graph-base/);
    expect(out).toMatch(/PASS\s+build:graph-child-ok/);
    expect(out).toMatch(/FAIL\s+build:graph-child-fails/);
    // The child ran after its parent (needs:), on the parent's committed image.
    const parentDone = out.indexOf("build:graph-base        finished");
    const childStarted = out.indexOf("build:graph-child-ok    starting");
    expect(parentDone, out).toBeGreaterThan(-1);
    expect(childStarted, out).toBeGreaterThan(parentDone);
    // Reports, copied back to the project directory by gitlab-ci-local as GitLab would collect them.
    const env = readFileSync(path.join(project, "artifacts/graph-base/1/image.env"), "utf8");
    expect(env).toContain("IMAGE_REF=localhost/bootsmith/graph-base:1");
    expect(readFileSync(path.join(project, "artifacts/graph-child-ok/1/image.env"), "utf8")).toContain("IMAGE_REF=localhost/bootsmith/graph-child-ok:1");
    expect(JSON.parse(readFileSync(path.join(project, "artifacts/graph-child-ok/1/manifest.json"), "utf8"))).toMatchObject({ name: "graph-child-ok" });
    expect(readFileSync(path.join(project, "artifacts/graph-child-ok/1/junit.xml"), "utf8")).toContain(
      '<testcase classname="graph-child-ok:1" name="command-1: Run: mark"',
    );
  });

  it(
    "a recipe with arches: on runners that share no storage, each architecture pushes its image, the join lists them and publishes once, a child pulls its parent by digest",
    { timeout: 600_000 },
    async () => {
      await addAarch64Packages(repo);
      const project = path.join(work, "multi");
      const published = path.join(work, "multi-published");
      const registry = await startRegistry(work);
      try {
        const repository = `${registry.address}/bootsmith/${MULTI}`;
        mkdirSync(path.join(project, "recipes"), { recursive: true });
        writeFileSync(
          path.join(project, "recipes", `${MULTI}.yaml`),
          fixtureRecipe({
            name: MULTI,
            packageGroups: [],
            install: ["fixture-base", "fixture-kernel", "fixture-dracut"],
            keys: {
              arches: ["x86_64", "aarch64"],
              publish: [
                { type: "local", dir: published },
                { type: "registry", repository, tlsVerify: false, lookaside: path.join(work, "lookaside") },
              ],
              // A developer's key file, absent on the runners: the jobs sign with the File variable's key.
              signing: { key: "keys/developer.asc" },
            },
          }),
        );
        // A layer on it: each architecture's job builds on the parent's image of that architecture.
        writeFileSync(
          path.join(project, "recipes", `${CHILD}.yaml`),
          `name: ${CHILD}\ntags: ["1"]\nfrom: {recipe: ${MULTI}.yaml}\ncommands:\n  - {name: mark, script: "echo child > /etc/child-mark"}\nboot: false\n`,
        );
        // The signing key as a GitLab CI/CD File variable (gitlab-ci-local makes a variable whose
        // value is a file path one of type File) and its passphrase as an ordinary one.
        const key = await makeTestKey(work, "gcl-site", PASSPHRASE);
        writeFileSync(
          path.join(project, ".gitlab-ci-local-variables.yml"),
          stringifyYaml({ BOOTSMITH_SIGN_KEY_FILE: key.secretFile, BOOTSMITH_SIGN_PASSPHRASE: PASSPHRASE }),
        );
        // Each job is its own runner: its own buildah storage, as a runner's environment would set it.
        const runners = path.join(work, "runners");
        const run = await generateAndRun(project, [], {
          sharedStorage: false,
          perJob: (job) => ({ BOOTSMITH_STORAGE_ROOT: path.join(runners, job.replace(/[^a-z0-9_.-]/gi, "_")), BOOTSMITH_STORAGE_DRIVER: "vfs" }),
        });
        const out = run.all ?? "";
        expect(run.exitCode, out).toBe(0);
        for (const job of [
          `build:${MULTI}@x86_64`,
          `build:${MULTI}@aarch64`,
          `join:${MULTI}`,
          `build:${CHILD}@x86_64`,
          `build:${CHILD}@aarch64`,
          `join:${CHILD}`,
        ])
          expect(out).toMatch(new RegExp(`PASS\\s+${job}`));
        // The join started after both architectures finished (needs:).
        const joinStarted = out.search(new RegExp(`join:${MULTI}\\s+starting`));
        expect(joinStarted, out).toBeGreaterThan(-1);
        for (const arch of ["x86_64", "aarch64"]) {
          const finished = out.search(new RegExp(`build:${MULTI}@${arch}\\s+finished`));
          expect(finished, out).toBeGreaterThan(-1);
          expect(finished).toBeLessThan(joinStarted);
        }

        // The registry: each architecture's own tag and, from the join, one list naming exactly the digests the architectures' manifests recorded.
        expect((await registryTags(repository)).sort()).toEqual(["1", "1-amd64", "1-arm64"]);
        const combined = JSON.parse(readFileSync(path.join(project, "artifacts", MULTI, "1", "manifest.json"), "utf8")) as MultiArchManifest;
        const { stdout } = await execa("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${repository}:1`]);
        const index = JSON.parse(stdout) as { manifests: { digest: string; platform: { architecture: string; os: string } }[] };
        const recorded = (arch: "x86_64" | "aarch64", tag: string) =>
          combined.arches[arch]!.image.pushed?.find((p) => p.ref === `${repository}:${tag}`)?.digest;
        expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture} ${m.digest}`).sort()).toEqual([
          `linux/amd64 ${recorded("x86_64", "1-amd64")}`,
          `linux/arm64 ${recorded("aarch64", "1-arm64")}`,
        ]);
        // The combined manifest records the list too, and the directory target got it, written by the join.
        expect(recorded("aarch64", "1")).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(JSON.parse(readFileSync(path.join(published, MULTI, "1", "manifest.json"), "utf8"))).toEqual(combined);
        for (const arch of ["x86_64", "aarch64"]) expect(existsSync(path.join(published, MULTI, "1", arch, "rootfs.squashfs"))).toBe(true);

        // Nothing was shared: each architecture's runner holds its own image only, the child's runner the parent's image it pulled, the join's none.
        const images = async (job: string) => {
          const root = path.join(runners, job.replace(/[^a-z0-9_.-]/gi, "_"));
          const listed = await execa("buildah", [...storageArgsOf(root), "images", "--format", "{{.Name}}:{{.Tag}}"]);
          return listed.stdout.split("\n").filter(Boolean).sort();
        };
        expect(await images(`build:${MULTI}@x86_64`)).toEqual([`localhost/bootsmith/${MULTI}:1-amd64`]);
        expect(await images(`build:${MULTI}@aarch64`)).toEqual([`localhost/bootsmith/${MULTI}:1-arm64`]);
        expect(await images(`join:${MULTI}`)).toEqual([]);
        expect(await images(`build:${CHILD}@aarch64`)).toContain(`localhost/bootsmith/${MULTI}:1-arm64`);
        expect(await images(`build:${CHILD}@x86_64`)).toContain(`localhost/bootsmith/${MULTI}:1-amd64`);
        // ci pull: by the digest the parent's aarch64 manifest artifact records, into the storage the child's build then used.
        expect(out).toContain(
          `pulled ${repository}@${recorded("aarch64", "1-arm64")} (from artifacts/${MULTI}/1/aarch64/manifest.json) as localhost/bootsmith/${MULTI}:1-arm64`,
        );
        const childArm = JSON.parse(readFileSync(path.join(project, "artifacts", CHILD, "1", "aarch64", "manifest.json"), "utf8")) as { arch: string };
        expect(childArm.arch).toBe("aarch64");
        expect(readFileSync(path.join(project, "artifacts", CHILD, "1", "manifest.json"), "utf8")).toContain('"kind": "multi-arch"');

        // Signed by every job with the File variable's key, signed again by ci push and the join
        // after they recorded the digests: the sets, the combined directory and the published one verify.
        expect(readFileSync(path.join(project, "child.yml"), "utf8")).toContain('${BOOTSMITH_SIGN_KEY_FILE:+--sign-key "$BOOTSMITH_SIGN_KEY_FILE"}');
        expect(out).not.toContain("not recorded");
        for (const dir of [path.join(project, "artifacts", MULTI, "1"), path.join(published, MULTI, "1")]) {
          const verified = await bootsmith(["verify", dir, "--key", key.publicFile]);
          expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
          expect(verified.stdout + verified.stderr).toContain(key.fingerprint);
        }
        expect(out).not.toContain(PASSPHRASE);
        expect(out).not.toContain(key.secretArmored.split("\n")[3]!);
      } finally {
        await registry.stop();
      }
    },
  );
});

/**
 * `ci gitlab recipes` in `project`, committed with its recipes (gitlab-ci-local reads the git
 * tree), then run by gitlab-ci-local on this host. By default shared storage: the runner is this
 * host, so a job finds the images earlier jobs committed in place. `perJob` adds variables to each
 * job, as a runner's own environment would (e.g. its own buildah storage).
 */
async function generateAndRun(
  project: string,
  extra: readonly string[],
  runners: { sharedStorage: boolean; perJob?: (job: string) => Record<string, string> } = { sharedStorage: true },
) {
  const generated = await bootsmith(
    ["ci", "gitlab", "recipes", "--var", `REPO_URL=${repo.baseurl}`, "--bootsmith", `node ${CLI}`, "--image", "unused:1", ...extra],
    {
      cwd: project,
    },
  );
  expect(generated.exitCode, generated.stderr).toBe(0);
  const pipeline = parseYaml(generated.stdout) as Record<string, { extends?: string; variables?: Record<string, string> }>;
  for (const [name, job] of Object.entries(pipeline))
    if (job.extends === ".bootsmith-build" && runners.perJob) job.variables = { ...job.variables, ...runners.perJob(name) };
  writeFileSync(path.join(project, "child.yml"), stringifyYaml(pipeline));
  const git = (...args: string[]) => execa("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "recipes and child pipeline");
  return execa(
    GCL,
    [
      "--file",
      "child.yml",
      "--force-shell-executor",
      "--shell-isolation",
      "--variable",
      `BOOTSMITH_SHARED_STORAGE=${runners.sharedStorage ? "1" : "0"}`,
      "--variable",
      `BOOTSMITH_WORK_DIR=${path.join(work, "work")}`,
    ],
    { cwd: project, reject: false, all: true, env: { CI: "" } },
  );
}
