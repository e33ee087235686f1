// The images a rebuild leaves without a name are removed after its commit: only its own
// recipe's, only unnamed ones, never one a container uses, never a live build's: a pass run at
// each point of a planned build's last steps leaves its image. Real buildah on a storage of the
// test's own (vfs in a temporary root), so no other test's or build's image is in reach.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { MIN_AGE_MS, removeSupersededImages, supersededSummary, tidySupersededImages } from "../../src/builder/superseded-images.js";
import { buildingTag, workingContainerName } from "../../src/core/build-names.js";
import { plan, type PlanOptions } from "../../src/plan/planner.js";
import { loadRecipe } from "../../src/recipe/load.js";
import { CleanupStack } from "../../src/exec/cleanup.js";
import { silentReporter } from "../../src/exec/events.js";
import { isBuildAction, newBuildState, performBuildAction, type BuildContext } from "../../src/builder/execute.js";
import type { Step } from "../../src/steps/types.js";
import { fixedPlanOptions } from "../plan/support.js";

let work: string;
let storage: string[];
const buildah = async (...args: string[]) => (await execa("buildah", [...storage, ...args])).stdout.trim();
const ids = async () => new Set((await buildah("images", "--all", "--quiet", "--no-trunc")).split("\n").map((l) => l.replace(/^sha256:/, "")));

/** Commit an empty image labelled as recipe `recipe` under `name`; its ID. */
async function commit(recipe: string, name: string): Promise<string> {
  const container = await buildah("from", "scratch");
  await buildah("config", "--label", `io.bootsmith.recipe=${recipe}`, "--label", `io.bootsmith.test=${name}-${Math.random()}`, container);
  const id = await buildah("commit", "--quiet", container, name);
  await buildah("rm", container);
  return id;
}

/**
 * The buildah subcommands `fn` runs: a logging buildah first on PATH, which runs the real one
 * ($REAL), after `hook` (shell, given the same arguments) when there is one.
 */
async function buildahCallsOf(fn: () => Promise<unknown>, hook = ""): Promise<string[]> {
  const bin = mkdtempSync(path.join(work, "bin-"));
  const log = path.join(bin, "calls");
  const real = (await execa("sh", ["-c", "command -v buildah"])).stdout.trim();
  writeFileSync(path.join(bin, "buildah"), `#!/bin/sh\nREAL='${real}'\nprintf '%s\\n' "$*" >> '${log}'\n${hook}\nexec "$REAL" "$@"\n`, { mode: 0o755 });
  writeFileSync(log, "");
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    await fn();
  } finally {
    process.env.PATH = saved;
  }
  // Each line: the storage options, then the subcommand.
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[storage.length]!);
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-superseded-"));
  storage = ["--root", path.join(work, "root"), "--runroot", path.join(work, "runroot"), "--storage-driver", "vfs"];
});

afterAll(async () => {
  await execa("buildah", [...storage, "rm", "--all"]).catch(() => {});
  await execa("buildah", [...storage, "rmi", "--all", "--force"]).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

describe("removeSupersededImages", () => {
  it("removes the recipe's unnamed images once old enough, and nothing named, in use or of another recipe", { timeout: 120_000 }, async () => {
    const superseded = await commit("t", "localhost/bootsmith/t:1");
    const current = await commit("t", "localhost/bootsmith/t:1");
    const stillNamed = await commit("t", "localhost/bootsmith/t:0.9");
    const otherRecipes = await commit("other", "localhost/bootsmith/other:1");
    await commit("other", "localhost/bootsmith/other:1");
    // A container built on the image keeps it when a rebuild moves its name away.
    const inUse = await commit("t", "localhost/bootsmith/t:2");
    const container = await buildah("from", "localhost/bootsmith/t:2");
    const current2 = await commit("t", "localhost/bootsmith/t:2");

    // Younger than MIN_AGE_MS: a commit of another build of the recipe may not have named it yet.
    expect(await removeSupersededImages("t", storage)).toEqual({ removed: [], kept: [], abandoned: [] });
    const later = { now: Date.now() + MIN_AGE_MS + 1000 };
    const result = await removeSupersededImages("t", storage, undefined, later);
    expect(result).toEqual({ removed: [superseded], kept: [inUse], abandoned: [] });
    const left = await ids();
    expect(left.has(superseded)).toBe(false);
    for (const id of [current, stillNamed, otherRecipes, inUse, current2]) expect(left.has(id), id).toBe(true);
    expect(supersededSummary("t", result)).toBe(
      `removed 1 earlier image(s) of t that no name pointed at; 1 unnamed image(s) of t stay while a container uses them (${inUse.slice(0, 12)})`,
    );

    // Once the container is gone, the next build's pass removes it; then there is nothing to do.
    await buildah("rm", container);
    expect(await removeSupersededImages("t", storage, undefined, later)).toEqual({ removed: [inUse], kept: [], abandoned: [] });
    expect(await removeSupersededImages("t", storage, undefined, later)).toEqual({ removed: [], kept: [], abandoned: [] });
    expect(supersededSummary("t", { removed: [], kept: [], abandoned: [] })).toBeUndefined();
  });

  it("removes the building- names that killed builds of the recipe left, never a live build's or a recipe tag", { timeout: 120_000 }, async () => {
    // As the planner names them: the commit beside the squashfs, killed before name-image.
    const stale = await commit("u", `localhost/bootsmith/u:${buildingTag("20261201010101-dead01")}`);
    // A build of the same recipe running now: its working container is there.
    const live = await commit("u", `localhost/bootsmith/u:${buildingTag("20261202020202-a11ve1")}`);
    const liveContainer = await buildah("from", "--name", workingContainerName("u", "20261202020202-a11ve1"), "scratch");
    // Killed after name-image tagged it, before it dropped the building name: the image stays under its tag.
    const named = await commit("u", "localhost/bootsmith/u:7");
    await buildah("tag", "localhost/bootsmith/u:7", `localhost/bootsmith/u:${buildingTag("20261130000000-beef01")}`);
    const otherRecipe = await commit("other-u", `localhost/bootsmith/other-u:${buildingTag("20261201010101-dead02")}`);
    // A recipe may call a tag of its own building-…: the image's io.bootsmith.tags label says so.
    const container = await buildah("from", "scratch");
    await buildah("config", "--label", "io.bootsmith.recipe=u", "--label", "io.bootsmith.tags=building-site", container);
    const ownTag = await buildah("commit", "--quiet", container, "localhost/bootsmith/u:building-site");
    await buildah("rm", container);

    await removeSupersededImages("u", storage);
    expect((await ids()).has(stale), "younger than MIN_AGE_MS: left alone").toBe(true);
    const later = { now: Date.now() + MIN_AGE_MS + 1000 };
    const result = await removeSupersededImages("u", storage, undefined, later);
    const left = await ids();
    expect(left.has(stale), "the killed build's image is gone").toBe(false);
    expect([...result.abandoned].sort()).toEqual(
      [`localhost/bootsmith/u:${buildingTag("20261130000000-beef01")}`, `localhost/bootsmith/u:${buildingTag("20261201010101-dead01")}`].sort(),
    );
    for (const id of [live, named, otherRecipe, ownTag]) expect(left.has(id), id).toBe(true);
    const names = await buildah("images", "--format", "{{.Name}}:{{.Tag}}");
    expect(names).not.toContain("beef01");
    expect(names).toContain("localhost/bootsmith/u:7");
    expect(supersededSummary("u", result)).toBe("removed 2 building- name(s) of u that builds killed before naming their image left");
    await buildah("rm", liveContainer);
  });

  it("lists the storage once when no unnamed image is old enough to go, as in most rebuilds", { timeout: 60_000 }, async () => {
    const superseded = await commit("v", "localhost/bootsmith/v:1");
    await commit("v", "localhost/bootsmith/v:1");
    expect(await buildahCallsOf(() => removeSupersededImages("v", storage))).toEqual(["images"]);
    expect((await ids()).has(superseded), "younger than MIN_AGE_MS").toBe(true);
    // Old enough: buildah's own dangling listing decides, no working container of the recipe
    // is committing it, and the image goes.
    const later = { now: Date.now() + MIN_AGE_MS + 1000 };
    let result: unknown;
    expect(await buildahCallsOf(async () => (result = await removeSupersededImages("v", storage, undefined, later)))).toEqual([
      "images",
      "images",
      "containers",
      "rmi",
    ]);
    expect(result).toEqual({ removed: [superseded], kept: [], abandoned: [] });
  });

  it("goes on when a working container of the recipe is gone by the time it is inspected: that build is over", { timeout: 60_000 }, async () => {
    const superseded = await commit("y", "localhost/bootsmith/y:1");
    await commit("y", "localhost/bootsmith/y:1");
    const ended = workingContainerName("y", "20261203070707-ended1");
    await buildah("from", "--name", ended, "scratch");
    const later = { now: Date.now() + MIN_AGE_MS + 1000 };
    let result: unknown;
    // The build removes its container just as the pass asks for the container's labels.
    const removeFirst = `case "$*" in *"inspect --type container ${ended}") "$REAL" ${storage.join(" ")} rm ${ended} >/dev/null;; esac`;
    const calls = await buildahCallsOf(async () => (result = await removeSupersededImages("y", storage, undefined, later)), removeFirst);
    expect(calls).toEqual(["images", "images", "containers", "inspect", "containers", "rmi"]);
    expect(result).toEqual({ removed: [superseded], kept: [], abandoned: [] });
  });

  it("fails, for the caller to report, when buildah cannot list the storage", async () => {
    await expect(removeSupersededImages("t", ["--storage-driver", "no-such-driver", "--root", path.join(work, "bad")])).rejects.toThrow(/buildah/);
  });

  it("as housekeeping: a failure is a warning naming the recipe, nothing to remove is nothing to say, an interruption throws", async () => {
    const bad = ["--storage-driver", "no-such-driver", "--root", path.join(work, "bad")];
    const outcome = await tidySupersededImages("t", bad);
    expect(outcome?.level).toBe("warn");
    expect(outcome?.text).toMatch(/^could not remove earlier unnamed images of t: .*buildah/s);
    expect(await tidySupersededImages("t", storage)).toBeUndefined();
    const stopped = new AbortController();
    stopped.abort();
    await expect(tidySupersededImages("t", storage, stopped.signal)).rejects.toThrow();
  });
});

/**
 * A build of recipe `live` (boot artifacts: its squashfs runs beside the commit) on the test's
 * storage, planned as `bootsmith build` plans it, its steps performed as executePlan performs
 * them. A test runs the container and its mount, then the steps from the commit on: the package,
 * kernel, identity and squashfs steps are left out (the image needs no content here; the SBOM
 * sha256s the commit labels are given).
 */
function liveBuild(buildId: string, options: Partial<PlanOptions> = {}) {
  const file = path.join(work, "live.yaml");
  writeFileSync(
    file,
    "apiVersion: bootsmith/v1\nname: live\ntags: ['1', latest]\nfrom: scratch\npackages: { manager: dnf, release: '9', repos: [{ name: r, baseurl: 'file:///none' }], install: [x] }\nboot: { kernel: newest }\n",
  );
  const recipe = loadRecipe(file, { env: {} });
  const steps = plan(
    recipe,
    fixedPlanOptions({
      buildId,
      buildah: { globalArgs: storage, isolation: "chroot" },
      outDir: path.join(work, "out"),
      workDir: path.join(work, "work"),
      ...options,
    }),
  ).steps;
  const ctx: BuildContext = { recipe, reporter: silentReporter, cleanup: new CleanupStack(), tools: {} };
  const state = newBuildState();
  state.values.SBOM_CDX_SHA256 = "c".repeat(64);
  state.values.SBOM_SPDX_SHA256 = "d".repeat(64);
  const ids = steps.map((s) => s.id);
  return {
    state,
    cleanup: ctx.cleanup,
    step: (id: string) => steps[ids.indexOf(id)]!,
    /** The steps from `first` up to, not including, `end`. */
    steps: (first: string, end: string) => steps.slice(ids.indexOf(first), ids.indexOf(end)),
    perform: async (step: Step, actions = step.actions) => {
      for (const action of actions) if (isBuildAction(action)) await performBuildAction(action, step, ctx, state);
    },
  };
}

describe("a live build's last steps against remove-superseded passes of other builds", () => {
  it("keeps the build's image at every point from its commit on; it ends under the recipe's tags", { timeout: 120_000 }, async () => {
    const build = liveBuild("20261203030303-a11ve2");
    const passes: string[] = [];
    try {
      for (const step of build.steps("create-container", "configure-repos")) await build.perform(step);
      for (const step of build.steps("commit", "manifest")) {
        await build.perform(step);
        // Another build's pass at this exact point; as when the squashfs beside the commit ran
        // for longer than MIN_AGE_MS, so the image's age protects nothing.
        await removeSupersededImages("live", storage, undefined, { now: Date.now() + MIN_AGE_MS + 1000 });
        passes.push(step.id);
        expect((await ids()).has(build.state.values.IMAGE_ID!), `the live build's image, after a pass at the end of ${step.id}`).toBe(true);
      }
    } finally {
      await build.cleanup.unwind();
    }
    expect(passes).toEqual(["commit", "name-image", "teardown"]);
    expect((await buildah("images", "--format", "{{.Name}}:{{.Tag}}", "--filter", "label=io.bootsmith.recipe=live")).split("\n").sort()).toEqual([
      "localhost/bootsmith/live:1",
      "localhost/bootsmith/live:latest",
    ]);
  });

  it(
    "keeps an image a live build is committing, dated by SOURCE_DATE_EPOCH and not named yet, while its working container is there",
    { timeout: 120_000 },
    async () => {
      // An earlier build's image of the recipe, its names moved on: the same pass removes it.
      const superseded = await commit("live", "localhost/bootsmith/live:1");
      await commit("live", "localhost/bootsmith/live:1");
      const build = liveBuild("20261203040404-a11ve3", { sourceDateEpoch: 1_700_000_000 });
      let unnamed: string;
      try {
        await build.perform(build.step("create-container"));
        const commitStep = build.step("commit");
        const [config, commitImage] = commitStep.actions;
        await build.perform(commitStep, [config!]);
        // buildah commit creates the image, then names it: run it without the name to stop in
        // between, where another build's pass may list it.
        if (commitImage?.kind !== "exec") throw new Error("the commit step's second action is the commit");
        expect(commitImage.command.args).toContain("--timestamp");
        unnamed = (await buildah(...commitImage.command.args.slice(storage.length, -1).map(String))).replace(/^sha256:/, "");
        expect(await buildah("inspect", "--type", "image", "--format", "{{.OCIv1.Created}}", unnamed)).toMatch(/^2023-11-14/);

        // Dated 2023, so older than MIN_AGE_MS: the working container is what keeps it.
        await removeSupersededImages("live", storage);
        expect((await ids()).has(unnamed), "the image being committed, after a pass").toBe(true);
        const later = { now: Date.now() + MIN_AGE_MS + 1000 };
        expect((await removeSupersededImages("live", storage, undefined, later)).removed).toEqual([superseded]);
        expect((await ids()).has(unnamed), "the image being committed, after a pass that removed an earlier one").toBe(true);
      } finally {
        // The build killed before buildah named its image: its container goes (its cleanup).
        await build.cleanup.unwind();
      }
      expect((await removeSupersededImages("live", storage)).removed).toEqual([unnamed]);
    },
  );

  it(
    "a reproducible rebuild's own pass, after its teardown, removes the image it superseded though it carries the same labels",
    { timeout: 120_000 },
    async () => {
      // SOURCE_DATE_EPOCH and the same packages: the same labels, SBOM sha256s included; other
      // bytes in the root (an rpm database's install times): another image.
      const build = async (buildId: string, content: string) => {
        const b = liveBuild(buildId, { sourceDateEpoch: 1_700_000_000 });
        try {
          for (const step of b.steps("create-container", "configure-repos")) await b.perform(step);
          writeFileSync(path.join(b.state.values.MNT!, "content"), content);
          for (const step of b.steps("commit", "manifest")) await b.perform(step);
        } finally {
          await b.cleanup.unwind();
        }
        return b.state.values.IMAGE_ID!;
      };
      const first = await build("20261203050505-a11ve4", "first");
      const second = await build("20261203060606-a11ve5", "second");
      expect(second).not.toBe(first);
      const left = await ids();
      expect(left.has(first), "the superseded image").toBe(false);
      expect(left.has(second)).toBe(true);
    },
  );
});
