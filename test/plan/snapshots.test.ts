// Plan snapshots: for every example recipe, the rendered bash and the JSON plan with fixed
// options. Update after an intended planner change with
//   npx vitest run test/plan/snapshots.test.ts -u
// and review the diff of test/plan/__snapshots__/.
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { planWithCommands } from "../../src/plan/commands.js";
import { RECIPES_DIR, fixedPlanOptions, normalize } from "./support.js";

const recipes = readdirSync(RECIPES_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("plan snapshots", () => {
  it("covers every example recipe", () => {
    expect(recipes.length).toBeGreaterThanOrEqual(4);
  });

  for (const file of recipes) {
    const name = path.basename(file, ".yaml");
    const recipe = loadRecipe(path.join(RECIPES_DIR, file), { env: {} });
    const digests = [recipe.inputDigest, ...(recipe.parent ? [recipe.parent.inputDigest] : [])];

    it(`${name}: rendered bash`, async () => {
      const text = normalize(renderPlan(plan(recipe, fixedPlanOptions())), digests);
      await expect(text).toMatchFileSnapshot(`__snapshots__/${name}.plan.sh`);
    });

    it(`${name}: JSON plan (as plan --json prints it: every action with its command)`, async () => {
      const json = normalize(`${JSON.stringify(planWithCommands(plan(recipe, fixedPlanOptions())), null, 2)}\n`, digests);
      await expect(json).toMatchFileSnapshot(`__snapshots__/${name}.plan.json`);
    });

    it(`${name}: the plan is a pure function of recipe and options`, () => {
      expect(plan(recipe, fixedPlanOptions())).toEqual(plan(loadRecipe(path.join(RECIPES_DIR, file), { env: {} }), fixedPlanOptions()));
      expect(recipe.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it("--no-publish leaves out publish and register steps", () => {
    const recipe = loadRecipe(path.join(RECIPES_DIR, "rocky-9-live.yaml"), { env: {} });
    const ids = (publish: boolean) => plan(recipe, fixedPlanOptions({ publish })).steps.map((s) => s.id);
    expect(ids(true).filter((id) => /^(publish|register)-/.test(id))).toEqual(["publish-1-s3", "register-1-bss"]);
    expect(ids(false).filter((id) => /^(publish|register)-/.test(id))).toEqual([]);
  });

  it("SOURCE_DATE_EPOCH reaches mksquashfs and buildah commit", () => {
    const recipe = loadRecipe(path.join(RECIPES_DIR, "debian-12-live.yaml"), { env: {} });
    const text = renderPlan(plan(recipe, fixedPlanOptions({ sourceDateEpoch: 1700000000 })));
    expect(text).toMatch(/^SOURCE_DATE_EPOCH=1700000000 timeout 3600 mksquashfs /m);
    expect(text).toMatch(/^IMAGE_ID=\$\(buildah commit --quiet --format oci --timestamp 1700000000 /m);
  });
});
