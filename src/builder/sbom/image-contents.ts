// What an image holds besides the packages its database lists, for the SBOMs: the kernel modules
// built in it (kernelModules: DKMS or a source tree). Read from the finished root: the hashes are
// those of what ships. A layer holds its parents' modules too, so the whole chain of recipes is
// walked, the root-most first.
import type { RunContext } from "../../exec/run.js";
import type { LoadedRecipe } from "../../recipe/load.js";
import { outOfTreeModules } from "../kernel-modules.js";

export interface SbomModule {
  /** Module name (modinfo's name, else the file's). */
  readonly name: string;
  /** modinfo's version (MODULE_VERSION), else its srcversion (a digest of the source). */
  readonly version?: string;
  /** The kernel release it was built for (the selected kernel: vermagic was checked against it). */
  readonly kernel: string;
  readonly vermagic?: string;
  /** The module's path in the image, /lib/modules/KVER/…. */
  readonly path: string;
  readonly sha256: string;
  /** modinfo's license, as the module declares it. */
  readonly license?: string;
  /** How it got there. */
  readonly origin: string;
}

export interface ImageContents {
  readonly modules: readonly SbomModule[];
}

export const NO_CONTENTS: ImageContents = { modules: [] };

/** The recipe and its parents, the root-most first. */
function chainOf(recipe: LoadedRecipe): LoadedRecipe[] {
  const chain: LoadedRecipe[] = [];
  for (let r: LoadedRecipe | undefined = recipe; r; r = r.parent) chain.unshift(r);
  return chain;
}

export async function imageContents(root: string, recipe: LoadedRecipe, kernel: string | undefined, ctx: RunContext): Promise<ImageContents> {
  return { modules: kernel ? await builtModules(root, chainOf(recipe), kernel, ctx) : [] };
}

async function builtModules(root: string, chain: readonly LoadedRecipe[], kver: string, ctx: RunContext): Promise<SbomModule[]> {
  // The nearest layer that built each kind: DKMS installs under updates/, kbuild's
  // INSTALL_MOD_DIR=extra under extra/ (plan/kernel-modules.ts).
  const dkms = chain.findLast((r) => (r.spec.kernelModules?.dkms.length ?? 0) > 0);
  const build = chain.findLast((r) => r.spec.kernelModules?.build !== undefined);
  return (await outOfTreeModules(root, kver, ctx)).map((m): SbomModule => {
    const under = m.file.split("/")[0];
    const origin =
      under === "updates" && dkms
        ? `built in the image by DKMS (dkms autoinstall -k ${kver}) from ${dkms.spec.kernelModules!.dkms.join(", ")} (kernelModules.dkms of recipe ${dkms.spec.name})`
        : under === "extra" && build
          ? `built in the image from the source ${build.spec.kernelModules!.build!.src} with kbuild against linux-headers-${kver} (kernelModules.build of recipe ${build.spec.name})`
          : `found under /lib/modules/${kver}/${under}: installed by a package or a command, not by a kernelModules step`;
    const version = m.modinfo.get("version") ?? m.modinfo.get("srcversion");
    const vermagic = m.modinfo.get("vermagic")?.trim();
    const license = m.modinfo.get("license");
    return {
      name: m.modinfo.get("name") ?? m.name,
      ...(version ? { version } : {}),
      kernel: kver,
      ...(vermagic ? { vermagic } : {}),
      path: `/lib/modules/${kver}/${m.file}`,
      sha256: m.sha256,
      ...(license ? { license } : {}),
      origin,
    };
  });
}
