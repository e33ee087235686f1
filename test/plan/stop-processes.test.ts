// The plan stops what the steps left running in the image (builder/image-processes.ts) after the
// last step that runs a program in it and before the root is cleaned, squashed or committed; the
// mount's undo does the same first on the failure path. For every example recipe and a layer
// with neither packages nor a package list.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import type { Plan } from "../../src/steps/types.js";
import { RECIPES_DIR, fixedPlanOptions } from "./support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-stop-processes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What may still run once the processes are stopped: programs that only read the root, or change the container's metadata. */
function onlyReadsTheRoot(file: string, args: readonly unknown[]): boolean {
  if (file === "mksquashfs") return true;
  const sub = args.find((a) => typeof a === "string" && ["config", "commit", "tag", "rmi", "umount", "rm"].includes(a));
  return file === "buildah" && sub !== undefined && !args.includes("run");
}

function checkPlan(p: Plan): void {
  const ids = p.steps.map((s) => s.id);
  const at = ids.indexOf("stop-processes");
  expect(ids.filter((id) => id === "stop-processes")).toHaveLength(1);
  expect(p.steps[at]!.actions).toEqual([{ kind: "stop-processes", root: [{ var: "MNT" }] }]);
  for (const later of ["clean-leftovers", "identity", "squashfs", "commit", "teardown"])
    if (ids.includes(later)) expect(ids.indexOf(later)).toBeGreaterThan(at);
  for (const step of p.steps.slice(at + 1))
    for (const a of step.actions) if (a.kind === "exec") expect(onlyReadsTheRoot(a.command.file, a.command.args), `${step.id}: ${a.command.file}`).toBe(true);
  const mount = p.steps.find((s) => s.id === "mount")!.actions[0]!;
  expect(mount.kind === "exec" && mount.undo?.stopProcessesIn).toEqual([{ var: "MNT" }]);
  expect(renderPlan(p)).toContain(`#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount ${p.container}`);
}

describe("stop-processes in the plan", () => {
  for (const file of readdirSync(RECIPES_DIR).filter((f) => f.endsWith(".yaml"))) {
    it(`${file}: after the last program run in the image, before the root is cleaned, squashed and committed`, () => {
      checkPlan(plan(loadRecipe(path.join(RECIPES_DIR, file), { env: {} }), fixedPlanOptions()));
    });
  }

  it("a layer on an image without packages: (nothing lists packages) stops them before its identity", () => {
    const file = path.join(dir, "plain.yaml");
    writeFileSync(file, 'name: plain\nfrom: {image: "docker.io/library/debian:12"}\ncommands:\n  - script: "gpg --import /key.asc"\nboot: false\n');
    const p = plan(loadRecipe(file, { env: {} }), fixedPlanOptions());
    expect(p.steps.map((s) => s.id)).not.toContain("list-packages");
    checkPlan(p);
  });
});
