// Out-of-tree kernel modules for the SELECTED kernel (the one the boot artifacts are made from):
// the step runs after select-kernel, so KVER is the image's kernel, and everything runs inside the
// image, where `uname -r` would still be the build host's kernel; nothing here asks for it.
// Headers come from the image's own apt (linux-headers-KVER, matching linux-image-KVER), DKMS
// builds with `dkms autoinstall -k KVER`, a source directory with kbuild's
// `make -C /lib/modules/KVER/build M=DIR`; then depmod and the vermagic check. It runs before
// the initramfs, so dracut can include the modules (boot.initramfs.drivers).
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import type { KernelModulesSpec } from "../recipe/schema.js";
import { copyIntoImage, runInImage, type BuildahTarget } from "../steps/buildah.js";
import { concat } from "../steps/args.js";
import type { Action, Step } from "../steps/types.js";
import { APT_ENV } from "../pkg/apt.js";

const MNT = { var: "MNT" } as const;
const KVER = { var: "KVER" } as const;
/** Where a `build:` source directory is copied inside the image (and built, by kbuild's M=). */
export const MODULE_SOURCE_DIR = "/usr/src/bootsmith-module";

export function kernelModulesStep(
  recipe: LoadedRecipe,
  modules: KernelModulesSpec,
  target: BuildahTarget,
  timeouts: { readonly packages: number; readonly command: number },
): Step {
  const options = aptOptions(recipe);
  const packages = [
    concat("linux-headers-", KVER),
    // depmod; kbuild's make (DKMS packages depend on make themselves).
    "kmod",
    ...(modules.build ? ["make"] : []),
    ...modules.dkms,
  ];
  const actions: Action[] = [
    // The lists may be gone (mmdebstrap removes them) or stale: the headers must be findable.
    { kind: "exec", command: runInImage(target, ["apt-get", ...options, "update"], APT_ENV, timeouts.packages) },
    { kind: "exec", command: runInImage(target, ["apt-get", "install", "-y", ...options, ...packages], APT_ENV, timeouts.packages) },
  ];
  if (modules.dkms.length > 0) {
    // The packages' postinst builds for the kernels whose headers are installed (and tries the
    // host's uname -r, which has none); autoinstall makes sure KVER is done, or fails.
    actions.push({ kind: "exec", command: runInImage(target, ["dkms", "autoinstall", "-k", [KVER]], {}, timeouts.command) });
  }
  if (modules.build) {
    const source = recipe.kernelModuleSource;
    if (!source) throw new Error("internal: kernelModules.build has no resolved source directory");
    const kbuild = ["make", "-C", concat("/lib/modules/", KVER, "/build"), `M=${MODULE_SOURCE_DIR}`, ...modules.build.make];
    actions.push(
      { kind: "exec", command: runInImage(target, ["rm", "-rf", MODULE_SOURCE_DIR]) },
      { kind: "exec", command: copyIntoImage(target, source, MODULE_SOURCE_DIR) },
      { kind: "exec", command: runInImage(target, [...kbuild, "modules"], {}, timeouts.command) },
      // kbuild takes the release from the headers' own kernel.release: /lib/modules/KVER/extra.
      { kind: "exec", command: runInImage(target, [...kbuild, "INSTALL_MOD_DIR=extra", "modules_install"], {}, timeouts.command) },
    );
  }
  actions.push(
    { kind: "exec", command: runInImage(target, ["depmod", "-a", [KVER]], {}, timeouts.command) },
    { kind: "check-kernel-modules", root: [MNT], kver: [KVER] },
  );
  const what = [...(modules.dkms.length > 0 ? [`DKMS ${modules.dkms.join(", ")}`] : []), ...(modules.build ? [path.basename(modules.build.src)] : [])];
  return { id: "kernel-modules", title: `Build kernel modules for the selected kernel: ${what.join("; ")}`, actions, produces: [] };
}

/** The recipe's apt options: recommends and proxy apply here too. */
function aptOptions(recipe: LoadedRecipe): string[] {
  const o = recipe.spec.packages?.options;
  return [...(o?.weakDeps ? [] : ["--no-install-recommends"]), ...(o?.proxy ? ["-o", `Acquire::http::Proxy=${o.proxy}`] : [])];
}
