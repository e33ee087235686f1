// argv builders for the buildah subcommands the plan uses. Global options (storage root,
// driver) come from host detection; isolation defaults to chroot because the default OCI
// isolation fails on hosts with hybrid cgroups.
import type { Arg, PlannedCommand } from "./types.js";

export interface BuildahTarget {
  /** Options before the subcommand, e.g. --root DIR --storage-driver overlay. */
  readonly globalArgs: readonly string[];
  readonly isolation: string;
  readonly container: string;
}

export function buildah(target: BuildahTarget, subcommand: string, args: readonly Arg[]): PlannedCommand {
  return { file: "buildah", args: [...target.globalArgs, subcommand, ...args] };
}

/** `buildah run` of an argv inside the image. */
export function runInImage(target: BuildahTarget, argv: readonly Arg[], env: Readonly<Record<string, string>> = {}, timeoutSeconds?: number): PlannedCommand {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const cmd = buildah(target, "run", ["--isolation", target.isolation, ...envArgs, target.container, "--", ...argv]);
  return timeoutSeconds === undefined ? cmd : { ...cmd, timeoutSeconds };
}

export function copyIntoImage(target: BuildahTarget, src: string, dest: string, opts: { mode?: string; owner?: string } = {}): PlannedCommand {
  return buildah(target, "copy", [...(opts.mode ? ["--chmod", opts.mode] : []), ...(opts.owner ? ["--chown", opts.owner] : []), target.container, src, dest]);
}
