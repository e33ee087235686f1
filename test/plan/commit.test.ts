// The commit step and its absence: a build that nothing needs an image from (a graph build's leaf,
// or --no-commit) has no buildah commit, removes an earlier image of its name instead, and
// records in the manifest step that it committed none; a registry target refuses that.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { UserError } from "../../src/core/errors.js";
import { fixedPlanOptions } from "./support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-commit-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(extra = ""): string {
  const file = path.join(dir, `r-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: leaf\ntags: ["1", latest]\nfrom:\n  image: localhost/x:1\nboot:\n  kernel: newest\n${extra}`);
  return file;
}

describe("plan option commit", () => {
  it("by default commits the container beside the squashfs, names it after the squashfs, and the manifest records the image id", () => {
    const p = plan(loadRecipe(recipe(), { env: {} }), fixedPlanOptions());
    const ids = p.steps.map((s) => s.id);
    expect(ids).not.toContain("forget-image");
    // The squashfs runs beside the commit; name-image waits for it, and names the image while the
    // working container is still there (its building- name is safe from other builds until then).
    expect(ids.slice(ids.indexOf("squashfs"), ids.indexOf("manifest") + 1)).toEqual(["squashfs", "commit", "name-image", "teardown", "manifest"]);
    expect(p.steps.find((s) => s.id === "squashfs")!.besideUntil).toBe("name-image");
    expect(renderPlan(p)).toMatch(/# \[\d+\/\d+\] name-image: .*\nwait "\$SQUASHFS_PID"\nbuildah tag /);
    const script = renderPlan(p);
    expect(script).toMatch(/^IMAGE_ID=\$\(buildah commit --quiet --format oci \S+ localhost\/bootsmith\/leaf:building-\S+\)$/m);
    // Until named, the image is removed when the build fails.
    const commit = p.steps.find((s) => s.id === "commit")!.actions.at(-1)!;
    expect(commit.kind === "exec" && commit.undo?.command.args).toEqual(["rmi", expect.stringMatching(/^localhost\/bootsmith\/leaf:building-/)]);
    expect(script).toMatch(/^buildah tag localhost\/bootsmith\/leaf:building-\S+ localhost\/bootsmith\/leaf:1 localhost\/bootsmith\/leaf:latest$/m);
    expect(script).toMatch(/^buildah rmi localhost\/bootsmith\/leaf:building-\S+$/m);
    expect(script).toMatch(/bootsmith artifacts write-manifest .* --image-id "\$IMAGE_ID" --base-image-id "\$BASE_IMAGE_ID"$/m);
    // The base image's ID as the container was made from it: a parent rebuilt later is seen.
    expect(script).toMatch(/^BASE_IMAGE_ID=\$\(buildah inspect --type container --format '\{\{\.FromImageID\}\}' bootsmith-leaf-/m);
    // After the teardown (a working container keeps the images that carry its labels): the
    // images earlier builds of the recipe left without a name go.
    expect(p.steps.find((s) => s.id === "teardown")!.actions.at(-1)).toEqual({ kind: "remove-superseded", recipe: "leaf", storage: [] });
    expect(p.steps.flatMap((s) => s.actions).filter((a) => a.kind === "remove-superseded")).toHaveLength(1);
    expect(script).toMatch(/^bootsmith artifacts remove-superseded leaf$/m);
  });

  it("labels: the recipe's own org.opencontainers.image.title wins over the default (the recipe's name), once", () => {
    const labelsOf = (file: string) => {
      const config = plan(loadRecipe(file, { env: {} }), fixedPlanOptions())
        .steps.find((s) => s.id === "commit")!
        .actions.find((a) => a.kind === "exec" && a.command.args.includes("config"));
      const args = config?.kind === "exec" ? config.command.args : [];
      return args.flatMap((a, i) => (args[i - 1] === "--label" && typeof a === "string" ? [a] : []));
    };
    const titled = labelsOf(recipe('labels:\n  org.opencontainers.image.title: "Compute node, site A"\n  org.example.role: compute\n'));
    expect(titled.filter((l) => l.startsWith("org.opencontainers.image.title="))).toEqual(["org.opencontainers.image.title=Compute node, site A"]);
    expect(titled).toContain("org.example.role=compute");
    expect(labelsOf(recipe()).filter((l) => l.startsWith("org.opencontainers.image.title="))).toEqual(["org.opencontainers.image.title=leaf"]);
  });

  it("without boot artifacts (no squashfs): commits under the recipe's name, tags it, as one step", () => {
    const file = path.join(dir, "base.yaml");
    writeFileSync(file, `name: base\ntags: ["1", latest]\nfrom:\n  image: localhost/x:1\nboot: false\n`);
    const p = plan(loadRecipe(file, { env: {} }), fixedPlanOptions());
    expect(p.steps.map((s) => s.id)).not.toContain("name-image");
    const script = renderPlan(p);
    expect(script).toMatch(/^IMAGE_ID=\$\(buildah commit --quiet --format oci \S+ localhost\/bootsmith\/base:1\)$/m);
    expect(script).toMatch(/^buildah tag localhost\/bootsmith\/base:1 localhost\/bootsmith\/base:latest$/m);
    expect(p.steps.find((s) => s.id === "teardown")!.actions.at(-1)).toEqual({ kind: "remove-superseded", recipe: "base", storage: [] });
    expect(p.steps.flatMap((s) => s.actions).filter((a) => a.kind === "remove-superseded")).toHaveLength(1);
  });

  it("commit: false: no buildah commit or config, an earlier image of each tag removed, the manifest told", () => {
    const p = plan(loadRecipe(recipe(), { env: {} }), fixedPlanOptions({ commit: false }));
    const ids = p.steps.map((s) => s.id);
    expect(ids).not.toContain("commit");
    // Where the commit was: after the squashfs, before the container goes.
    expect(ids.slice(ids.indexOf("squashfs"), ids.indexOf("teardown") + 1)).toEqual(["squashfs", "forget-image", "teardown"]);
    const script = renderPlan(p);
    expect(script).not.toMatch(/buildah (commit|config)/);
    expect(script).toContain("buildah rmi localhost/bootsmith/leaf:1 localhost/bootsmith/leaf:latest || case $? in 125) ;; *) false ;; esac");
    expect(p.steps.find((s) => s.id === "forget-image")!.actions.at(-1)).toEqual({ kind: "remove-superseded", recipe: "leaf", storage: [] });
    expect(script).toMatch(/bootsmith artifacts write-manifest .* --not-committed --base-image-id "\$BASE_IMAGE_ID"$/m);
    expect(script).not.toMatch(/(^|[^_])IMAGE_ID/m);
  });

  it("commit: false with a registry target is bad input naming the target", () => {
    const file = recipe("publish:\n  - type: local\n    dir: /srv/x\n  - type: registry\n    repository: registry.local:5000/hpc/leaf\n");
    expect(() => plan(loadRecipe(file, { env: {} }), fixedPlanOptions({ commit: false }))).toThrow(UserError);
    expect(() => plan(loadRecipe(file, { env: {} }), fixedPlanOptions({ commit: false, publish: false }))).toThrow(
      /publish\[1\] is a registry target, which pushes the committed image/,
    );
  });
});
