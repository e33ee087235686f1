// A recipe's publish targets as the publishers get them from a build: an S3 target carries the
// recipe line its endpoint was written on, so "cannot reach …" sends the user to that line, not
// to an --endpoint option the build was never given.
import type { PublishTarget, S3Target } from "../publish/targets.js";
import { formatPath } from "../recipe/errors.js";
import type { LoadedRecipe } from "../recipe/load.js";
import { locateInRecipe } from "../recipe/source.js";

/** "commands[1] at /srv/site.yaml:22:5", or "… of FILE (converted)" for a converted OpenCHAMI config (its lines are not the recipe's). */
export function recipeEntryAt(recipe: Pick<LoadedRecipe, "file" | "converted">, at: readonly PropertyKey[]): string {
  const entry = formatPath(at);
  return recipe.converted ? `${entry} of ${recipe.file} (converted)` : `${entry} at ${locateInRecipe(recipe.file, at)}`;
}

/** The recipe's `publish[index]`, an S3 one told where its endpoint came from. */
export function recipePublishTarget(recipe: LoadedRecipe, index: number): PublishTarget {
  const target = recipe.spec.publish[index];
  if (target === undefined) throw new Error(`${recipe.file} has no publish[${index}]`);
  return withEndpointOrigin(recipe, index, target);
}

/** `target`, the recipe's `publish[index]` as a plan carries it, an S3 one told the line its endpoint is on. */
export function withEndpointOrigin(recipe: Pick<LoadedRecipe, "file" | "converted">, index: number, target: PublishTarget): PublishTarget {
  if (target.type !== "s3" || target.endpoint === undefined) return target;
  const told: S3Target = { ...target, endpointFrom: recipeEntryAt(recipe, ["publish", index, "endpoint"]) };
  return told;
}
