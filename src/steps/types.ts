// The plan: pure data describing exactly what `build` will do. `bootsmith plan` renders it,
// tests compare it, the executor runs it. Nothing here touches the file system or processes.
import type { GroupSpec, PublishTarget, Registration, ScanSeverity, UserSpec } from "../recipe/schema.js";

/** Values only known while building, filled in by the executor. */
export type RuntimeVar = "MNT" | "KVER" | "KERNEL_IMAGE" | "IMAGE_ID" | "BASE_IMAGE_ID" | "SBOM_CDX_SHA256" | "SBOM_SPDX_SHA256";
export type ArgPart = string | { readonly var: RuntimeVar };
/** One argv word: a literal, or literals and runtime values concatenated. */
export type Arg = string | readonly ArgPart[];

export interface PlannedCommand {
  readonly file: string;
  readonly args: readonly Arg[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutSeconds?: number;
  /** Exit codes other than 0 that are not failures (oscap: 2 = the scan ran and some rule failed). */
  readonly acceptExitCodes?: readonly number[];
  /** Whose output vocabulary explains a failure (the executor shows those lines first, with a hint). */
  readonly diagnose?: "dracut" | "ansible";
  /** Output that does not fail the command but must not pass silently (rpm: a failed scriptlet, after which dnf goes on). */
  readonly warnOn?: "rpm-scriptlets";
}

/** Outputs kept from a command, for the manifest. */
export type CaptureName = "MNT" | "PACKAGES" | "IMAGE_ID" | "BASE_IMAGE_ID";

export type Action =
  /**
   * Run a program. `undo` is pushed on the cleanup stack once the command succeeded; `saveTo`
   * keeps its standard output in a file (a later step, run by hand, reads it from there).
   */
  | {
      readonly kind: "exec";
      readonly command: PlannedCommand;
      readonly capture?: CaptureName;
      readonly saveTo?: string;
      readonly undo?: Undo;
    }
  /** Run a registered undo now and drop it from the cleanup stack (orderly teardown). */
  | { readonly kind: "release"; readonly undoId: string }
  /** Write a file on the host (work directory), e.g. inline recipe content before `buildah copy`. */
  | { readonly kind: "write-file"; readonly path: string; readonly content: string; readonly mode: number }
  /**
   * Add users and groups with fixed ids to the image's /etc/passwd, group, shadow and gshadow
   * (files under `root`, never the host's). `base` names where existing entries came from, for
   * clash errors (the parent image or the base packages). `recipe` and `vars` are what
   * `bootsmith rootfs accounts` reads the same users and groups from.
   */
  | {
      readonly kind: "create-accounts";
      readonly root: Arg;
      readonly groups: readonly GroupSpec[];
      readonly users: readonly UserSpec[];
      readonly base: string;
      readonly recipe: string;
      readonly vars: Readonly<Record<string, string>>;
    }
  /**
   * Check that the users and groups files: owner: names exist in the image (before files are
   * copied): `owners` by index in files:; `recipe` and `vars` are what `bootsmith rootfs
   * check-owners` reads them from, and where errors point.
   */
  | {
      readonly kind: "check-owners";
      readonly root: Arg;
      readonly owners: readonly { readonly index: number; readonly owner: string }[];
      readonly recipe: string;
      readonly vars: Readonly<Record<string, string>>;
    }
  /** Pick the kernel under the image root: sets KVER and KERNEL_IMAGE, and records it (with its squashfs compressors) in `record`. */
  | { readonly kind: "select-kernel"; readonly root: Arg; readonly version: string; readonly record: string }
  /** Copy a file out of the image root into the output directory; `path` is resolved inside the root. */
  | { readonly kind: "copy-out"; readonly root: Arg; readonly path: Arg; readonly to: string }
  /**
   * Check the out-of-tree modules under `root`/lib/modules/KVER (updates/, extra/): at least one,
   * each built for KVER (vermagic) and listed in modules.dep.
   */
  | { readonly kind: "check-kernel-modules"; readonly root: Arg; readonly kver: Arg }
  /** Check that the initramfs holds the chosen kernel's modules (lib/modules/KVER). */
  | { readonly kind: "verify-initramfs"; readonly file: string; readonly kver: Arg }
  /**
   * Stop the processes whose root directory is inside `root` (a step started them in the image
   * and left them running: gpg-agent, a daemon a scriptlet started): SIGTERM, then SIGKILL; each
   * is reported as a warning naming the step that started it.
   */
  | { readonly kind: "stop-processes"; readonly root: Arg }
  /** Remove build leftovers (empty resolv.conf written by buildah run, caches, logs) before squashing. */
  | { readonly kind: "clean-leftovers"; readonly root: Arg; readonly paths: readonly string[]; readonly ifEmpty: readonly string[] }
  /**
   * Before the squashfs: write the SBOMs from the saved package list and the image's os-release,
   * put the manifest so far (no rootfs digest) into the image as /usr/lib/bootsmith/manifest.json
   * and IMAGE_ID/IMAGE_VERSION into its os-release, so a booted node can say what it runs. The
   * SBOMs are copied into the image too; their sha256s become SBOM_CDX_SHA256/SBOM_SPDX_SHA256
   * (image labels at commit).
   */
  | {
      readonly kind: "image-identity";
      readonly root: Arg;
      readonly dir: string;
      readonly id: string;
      readonly version: string;
      readonly recipe: string;
      readonly vars: Readonly<Record<string, string>>;
      readonly kernelRecord?: string;
      readonly packages?: string;
      readonly scanRecord?: string;
    }
  /**
   * Judge an OpenSCAP scan from its XCCDF results (`before`: the first scan's, when remediation
   * ran): record the counts in `record` for the manifest, and fail the build past the threshold.
   */
  | {
      readonly kind: "scan-verdict";
      readonly dir: string;
      readonly results: string;
      readonly before?: string;
      readonly profile: string;
      readonly datastream: string;
      readonly failOn: { readonly severity: ScanSeverity; readonly max: number };
      readonly files: readonly string[];
      readonly record: string;
    }
  /**
   * Remove the images recipe `recipe` built earlier that no name points at any more (the commit
   * moved them to the new image). `storage`: buildah global options of the build.
   */
  | { readonly kind: "remove-superseded"; readonly recipe: string; readonly storage: readonly string[] }
  /** Write SHA256SUMS over the artifacts and manifest.json and sign it (SHA256SUMS.sig) with `key` (a file, env:NAME or keyring:KEYID). */
  | { readonly kind: "sign"; readonly dir: string; readonly key: string; readonly passphraseEnv?: string }
  /**
   * Hash the artifacts and write manifest.json, from the recipe (reloaded with its --var values),
   * the committed image id, the kernel record and the package list the earlier steps saved.
   */
  | {
      readonly kind: "write-manifest";
      readonly dir: string;
      readonly recipe: string;
      readonly vars: Readonly<Record<string, string>>;
      /** The committed image's id; absent when the plan commits no image (recorded as such). */
      readonly imageId?: Arg;
      /** The base image's id as the working container was made from it; absent from scratch. */
      readonly baseImageId?: Arg;
      readonly kernelRecord?: string;
      readonly packages?: string;
      readonly scanRecord?: string;
    }
  /**
   * Publish the output directory; the primary tag's PublishedImage is kept in `record`. `storage`:
   * buildah global options, for a registry push; `sign`: the build's key, which signs a registry image.
   */
  | {
      readonly kind: "publish";
      readonly target: PublishTarget;
      /** Which of the recipe's publish: entries `target` is (its index), so an error can name that entry's line. */
      readonly entry: number;
      readonly dir: string;
      readonly record: string;
      readonly storage: readonly string[];
      readonly sign?: { readonly key: string; readonly passphraseEnv?: string };
    }
  /** Register the image a publish step recorded in `source`, with the recipe's params template. */
  | { readonly kind: "register"; readonly registration: Registration; readonly source: string; readonly paramsTemplate: string };

/**
 * What undoes an action on the failure path (a failed step, Ctrl-C), and what a `release` runs in
 * the orderly teardown. `stopProcessesIn`: on the failure path only, first stop the processes
 * whose root is in that directory (stop-processes), which would keep it busy: the steps after
 * the last one that ran programs in the image never ran.
 */
export interface Undo {
  readonly id: string;
  readonly command: PlannedCommand;
  readonly stopProcessesIn?: Arg;
}

export type StepId = string;

export interface Step {
  readonly id: StepId;
  readonly title: string;
  readonly actions: readonly Action[];
  /** Artifacts this step leaves in the output directory. */
  readonly produces: readonly string[];
  /**
   * Set: the step starts and the steps after it run beside it, up to the step named here, which
   * first waits for it to end (the squashfs beside the commit: both only read the finished root).
   * Such a step captures no runtime value and registers no undo: nothing after it reads its result
   * before the join. `bootsmith plan` renders it as `… &` and `wait`.
   */
  readonly besideUntil?: StepId;
  /** The recipe entry the step carries out (["commands", 1], ["packages"]): a failure of the step names it with its line. */
  readonly recipePath?: readonly (string | number)[];
}

export interface Plan {
  readonly recipe: { readonly name: string; readonly tags: readonly string[]; readonly file: string; readonly inputDigest: string };
  readonly container: string;
  /** Local image the build commits, and its extra tags. */
  readonly image: string;
  readonly outDir: string;
  readonly workDir: string;
  readonly packageManager: string;
  readonly steps: readonly Step[];
}
