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
  const cmd = buildahRun(target, [], argv, env);
  return timeoutSeconds === undefined ? cmd : { ...cmd, timeoutSeconds };
}

/** A host directory bind-mounted into the container for one `buildah run` (--volume HOST:IMAGE). */
export interface RunMount {
  readonly host: string;
  readonly image: string;
}

/** `buildah run` of an argv inside the image, with host directories mounted for the command only. */
export function runInImageWithMounts(
  target: BuildahTarget,
  mounts: readonly RunMount[],
  argv: readonly Arg[],
  env: Readonly<Record<string, string>> = {},
): PlannedCommand {
  return buildahRun(
    target,
    mounts.flatMap((m) => ["--volume", `${m.host}:${m.image}`]),
    argv,
    env,
  );
}

/** Whether buildah's --volume HOST:IMAGE[:OPTIONS] syntax can carry this path as it is. */
export function mountablePath(p: string): boolean {
  return !/[:,]/.test(p);
}

function buildahRun(target: BuildahTarget, runArgs: readonly string[], argv: readonly Arg[], env: Readonly<Record<string, string>>): PlannedCommand {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  return buildah(target, "run", ["--isolation", target.isolation, ...runArgs, ...envArgs, target.container, "--", ...argv]);
}

export function copyIntoImage(target: BuildahTarget, src: string, dest: string, opts: { mode?: string; owner?: string } = {}): PlannedCommand {
  return buildah(target, "copy", [...(opts.mode ? ["--chmod", opts.mode] : []), ...(opts.owner ? ["--chown", opts.owner] : []), target.container, src, dest]);
}
