// The images a rebuild leaves without a name are removed after its commit: only its own
// recipe's, only unnamed ones, never one a container uses. Real buildah on a storage of the
// test's own (vfs in a temporary root), so no other test's or build's image is in reach.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { MIN_AGE_MS, removeSupersededImages, supersededSummary, tidySupersededImages } from "../../src/builder/superseded-images.js";

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
    expect(await removeSupersededImages("t", storage)).toEqual({ removed: [], kept: [] });
    const later = { now: Date.now() + MIN_AGE_MS + 1000 };
    const result = await removeSupersededImages("t", storage, undefined, later);
    expect(result).toEqual({ removed: [superseded], kept: [inUse] });
    const left = await ids();
    expect(left.has(superseded)).toBe(false);
    for (const id of [current, stillNamed, otherRecipes, inUse, current2]) expect(left.has(id), id).toBe(true);
    expect(supersededSummary("t", result)).toBe(
      `removed 1 earlier image(s) of t that no name pointed at; 1 unnamed image(s) of t stay while a container uses them (${inUse.slice(0, 12)})`,
    );

    // Once the container is gone, the next build's pass removes it; then there is nothing to do.
    await buildah("rm", container);
    expect(await removeSupersededImages("t", storage, undefined, later)).toEqual({ removed: [inUse], kept: [] });
    expect(await removeSupersededImages("t", storage, undefined, later)).toEqual({ removed: [], kept: [] });
    expect(supersededSummary("t", { removed: [], kept: [] })).toBeUndefined();
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
