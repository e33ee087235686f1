// A package manager plug-in: a table of flags and functions that make plan steps (argv only).
// The planner picks one from the registry in ./index.ts by the recipe's packages.manager.
import type { Arg, PlannedCommand, Step } from "../steps/types.js";
import type { BuildahTarget } from "../steps/buildah.js";
import type { PackagesSpec, RecipeSpec } from "../recipe/schema.js";

export interface PackageContext {
  readonly spec: RecipeSpec;
  readonly packages: PackagesSpec;
  /** The container's mount point as a plan argument (runtime value). */
  readonly root: Arg;
  readonly buildah: BuildahTarget;
  readonly workDir: string;
  /** Host directory for package caches shared between builds. */
  readonly cacheDir: string;
  /** Host apt sources file(s) used when the recipe names no repositories. */
  readonly hostAptSources: readonly string[];
  /** Install with the host's package manager into the mount (scratch) or inside the image. */
  readonly installer: "host" | "image";
  /** SOURCE_DATE_EPOCH is set: leave out what the install writes that differs from build to build. */
  readonly reproducible?: boolean;
  /**
   * From scratch only: the step creating the recipe's users and groups. The plug-in runs it once
   * the base that owns /etc/passwd and /etc/group is installed and before the recipe's packages,
   * whose scriptlets would otherwise pick ids. (On a parent the planner runs it before packages.)
   */
  readonly accounts?: Step;
}

export interface PackageManagerPlugin {
  /** Steps that install the recipe's packages. */
  planInstall(ctx: PackageContext): Step[];
  /** A command printing one package per line: name, epoch, version, release, arch, license, supplier, tab-separated. */
  listPackages(ctx: PackageContext): PlannedCommand;
  /** Leftovers under the root removed before the squashfs: always, and only when empty. */
  leftovers(ctx: PackageContext): { readonly paths: readonly string[]; readonly ifEmpty: readonly string[] };
}
