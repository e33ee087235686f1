// A registry that refuses the credentials of a push, a signed push's skopeo copies, an import or
// a promotion: one explanation of where they come from and how to give them, whatever program
// (buildah, skopeo) was refused. Their own text names only the blob or manifest they were at.
import { isCommandError } from "../exec/run.js";
import { PublishError } from "./errors.js";
import type { RegistryTarget } from "./targets.js";

/** The registry a target pushes to (HOST[:PORT]), the name `buildah login` takes. */
export function registryHost(target: RegistryTarget): string {
  return target.repository.split("/")[0] ?? target.repository;
}

/**
 * A command the registry refused for its credentials, as an error that says where they come from
 * and how to give them; else undefined. `what`: what was refused ("the push", "the copy to :prod").
 */
export function refusedCredentials(error: unknown, target: RegistryTarget, what = "the push"): PublishError | undefined {
  if (!isCommandError(error)) return undefined;
  // skopeo ends its line with msg="…": the closing quote is not the registry's.
  const refusal = /(unauthorized|denied): [^\n"]*/i.exec(error.outputTail.join("\n"))?.[0];
  if (refusal === undefined) return undefined;
  const host = registryHost(target);
  const program = error.command.split(" ")[0]?.split("/").pop() ?? "buildah";
  const fix = target.authFile
    ? `the credentials in ${target.authFile} were not accepted: log in again with \`buildah login --authfile ${target.authFile} ${host}\``
    : `no --authfile was given (${program} looked in $REGISTRY_AUTH_FILE or its default auth file): write one with \`buildah login --authfile FILE ${host}\` and pass --authfile FILE (or authFile: in the recipe's publish target)`;
  return new PublishError(`${target.repository}: the registry refused ${what} (${refusal.trim()}); ${fix}`, "credentials", { cause: error });
}

/** `promise`, with a refusal of the registry's credentials explained (refusedCredentials). */
export async function explainingRefusal<T>(promise: Promise<T>, target: RegistryTarget, what?: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw refusedCredentials(error, target, what) ?? error;
  }
}
