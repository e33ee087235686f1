// Where the planner puts users and groups with fixed ids: after whatever provides the account
// files and before the recipe's packages, for each way packages get installed.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import type { Plan } from "../../src/steps/types.js";
import { RECIPES_DIR, fixedPlanOptions } from "./support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-plan-accounts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const accounts = { groups: [{ name: "munge", gid: 991 }], users: [{ name: "munge", uid: 991, group: "munge", system: true }] };

function planOf(recipe: Record<string, unknown>): Plan {
  const file = path.join(dir, "recipe.yaml");
  writeFileSync(file, stringify({ apiVersion: "bootsmith/v1", name: "accounts", ...accounts, ...recipe }));
  return plan(loadRecipe(file, { env: {} }), fixedPlanOptions());
}
const ids = (p: Plan) => p.steps.map((s) => s.id);
const argvOf = (p: Plan, id: string) =>
  p.steps.find((s) => s.id === id)!.actions.flatMap((a) => (a.kind === "exec" ? [a.command.args.filter((x) => typeof x === "string").join(" ")] : []));

describe("plan: users and groups with fixed ids", () => {
  it("dnf from scratch: the package providing /etc/passwd, the accounts, then the packages", () => {
    const p = planOf({ packages: { manager: "dnf", release: "9", repos: [{ name: "baseos", baseurl: "https://example.org/9/" }], install: ["munge"] } });
    expect(ids(p).slice(2, 6)).toEqual(["configure-repos", "install-account-files", "create-accounts", "install-packages"]);
    expect(argvOf(p, "install-account-files").join("\n")).toMatch(/ install \/etc\/passwd \/etc\/group$/);
  });

  it("apt from scratch: mmdebstrap's Essential base without the recipe's packages, the accounts, then apt-get inside", () => {
    const p = planOf({ packages: { manager: "apt", release: "bookworm", install: ["munge"] } });
    expect(ids(p).slice(2, 5)).toEqual(["install-base", "create-accounts", "install-packages"]);
    expect(argvOf(p, "install-base").join("\n")).not.toContain("--include");
    expect(argvOf(p, "install-packages").join("\n")).toContain("apt-get install -y --no-install-recommends munge");
  });

  it("on a parent: the accounts are the first step after mounting", () => {
    writeFileSync(
      path.join(dir, "parent.yaml"),
      stringify({
        name: "parent",
        packages: { manager: "dnf", release: "9", repos: [{ name: "b", baseurl: "https://example.org/" }], install: ["bash"] },
        boot: false,
      }),
    );
    const p = planOf({ from: { recipe: "parent.yaml" }, packages: { manager: "dnf", install: ["munge"] } });
    expect(ids(p).slice(2, 4)).toEqual(["create-accounts", "install-packages"]);
    const action = p.steps[2]!.actions[0]!;
    expect(action.kind === "create-accounts" && action.base).toBe("the parent image localhost/bootsmith/parent:latest");
  });

  it("no accounts, no step", () => {
    expect(ids(plan(loadRecipe(path.join(RECIPES_DIR, "rocky-9-live.yaml"), { env: {} }), fixedPlanOptions()))).not.toContain("create-accounts");
  });
});
