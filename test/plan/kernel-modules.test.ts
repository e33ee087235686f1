// The kernel-modules step of the plan: after the kernel is selected (KVER is the image's kernel,
// never the host's) and before dracut, with every command a real one in the rendered plan.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { planWithCommands } from "../../src/plan/commands.js";
import { MODULE_SOURCE_DIR } from "../../src/plan/kernel-modules.js";
import { RECIPES_DIR, fixedPlanOptions } from "./support.js";

const recipe = loadRecipe(path.join(RECIPES_DIR, "debian-12-dkms.yaml"), { env: {} });
const planned = plan(recipe, fixedPlanOptions());

describe("kernel-modules step", () => {
  it("runs between select-kernel and the initramfs", () => {
    const ids = planned.steps.map((s) => s.id);
    expect(ids.indexOf("kernel-modules")).toBe(ids.indexOf("select-kernel") + 1);
    expect(ids.indexOf("initramfs")).toBe(ids.indexOf("kernel-modules") + 1);
  });

  it("renders real commands, all for the selected kernel $KVER", () => {
    const text = renderPlan(planned);
    const step = text.slice(text.indexOf("kernel-modules:"), text.indexOf("initramfs:"));
    expect(step).toContain('apt-get install -y --no-install-recommends linux-headers-"$KVER" kmod make v4l2loopback-dkms');
    expect(step).toContain('-- dkms autoinstall -k "$KVER"');
    expect(step).toContain(`-- make -C /lib/modules/"$KVER"/build M=${MODULE_SOURCE_DIR} modules`);
    expect(step).toContain(`-- make -C /lib/modules/"$KVER"/build M=${MODULE_SOURCE_DIR} INSTALL_MOD_DIR=extra modules_install`);
    expect(step).toContain('-- depmod -a "$KVER"');
    expect(step).toMatch(/^bootsmith rootfs check-modules "\$MNT" "\$KVER"$/m);
    expect(step).not.toMatch(/uname/);
    const json = planWithCommands(planned).steps.find((s) => s.id === "kernel-modules")!;
    expect(json.actions.every((a) => "command" in a)).toBe(true);
  });

  it("copies the module source from the recipe's directory", () => {
    const step = planned.steps.find((s) => s.id === "kernel-modules")!;
    const copy = step.actions.find((a) => a.kind === "exec" && a.command.args.includes("copy"));
    expect(copy?.kind === "exec" && copy.command.args.slice(-2)).toEqual([path.join(RECIPES_DIR, "files/hello-module"), MODULE_SOURCE_DIR]);
  });
});
