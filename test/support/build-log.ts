// Reading a build's build.log back against its plan: the commands it ran and the runtime values
// it learnt, so tests can check that `bootsmith plan` shows exactly what `bootsmith build` runs.
import { resolveArg } from "../../src/steps/args.js";
import { renderCommand } from "../../src/exec/quote.js";
import type { Plan, RuntimeVar } from "../../src/steps/types.js";

/** `+ command` entries of build.log, in order. A quoted script spans lines: those after the first carry no timestamp. */
export function loggedCommands(log: string): string[] {
  const commands: string[] = [];
  let current: string[] | undefined;
  for (const line of log.split("\n")) {
    const stamped = /^\d{4}-\d\d-\d\dT\S+ /.test(line);
    if (stamped) {
      if (current) commands.push(current.join("\n"));
      const m = /^\S+ \[[^\]]+\] \+ (.*)$/.exec(line);
      current = m ? [m[1]!] : undefined;
    } else if (current) {
      current.push(line);
    }
  }
  if (current) commands.push(current.join("\n"));
  return commands;
}

/**
 * The runtime values the build learnt, read back from its log: KVER and KERNEL_IMAGE only when it
 * made boot artifacts, IMAGE_ID only when it committed the image, BASE_IMAGE_ID only on a base image.
 */
export function runtimeValues(log: string): Partial<Record<RuntimeVar, string>> {
  const one = (re: RegExp, what: string) => {
    const m = re.exec(log);
    if (!m) throw new Error(`build.log does not show the ${what}`);
    return m;
  };
  const kernel = / INFO kernel (\S+) \((\S+)\)$/m.exec(log);
  const baseImageId = /\[create-container\] 1> ([0-9a-f]{64})$/m.exec(log);
  const sboms = one(/ SBOM sha256 cyclonedx ([0-9a-f]{64}) spdx ([0-9a-f]{64})$/m, "SBOM digests");
  return {
    MNT: one(/\[mount\] 1> (.+)$/m, "mount point")[1]!,
    ...(kernel ? { KVER: kernel[1]!, KERNEL_IMAGE: kernel[2]! } : {}),
    ...(/\[commit\] /.test(log) ? { IMAGE_ID: one(/\[commit\] 1> (.+)$/m, "image id")[1]! } : {}),
    // On a base image: its ID, captured right after buildah from (whose own output is the container's name).
    ...(baseImageId ? { BASE_IMAGE_ID: baseImageId[1]! } : {}),
    SBOM_CDX_SHA256: sboms[1]!,
    SBOM_SPDX_SHA256: sboms[2]!,
  };
}

/** Every command of a `plan --json`, rendered as build.log shows it, with the runtime values filled in. */
export function renderedPlanCommands(plan: Plan, values: Partial<Record<RuntimeVar, string>>): string[] {
  return plan.steps.flatMap((s) =>
    s.actions.flatMap((a) =>
      "command" in a && a.command
        ? [
            renderCommand(
              a.command.file,
              a.command.args.map((x) => resolveArg(x, values)),
              a.command.env,
            ),
          ]
        : [],
    ),
  );
}
