// A rebuild commits its image under the same names (localhost/bootsmith/NAME:TAG), so the image
// the names pointed at before is left with none: buildah keeps it, dangling, for ever. On a
// runner or head node that rebuilds every night that is a full image (often gigabytes) a night
// until the disk fills. After each commit the build removes the dangling images of its own
// recipe (by the recipe label every commit carries), and nothing else: images of other recipes
// and of other tools, and every image that still has a name, stay.
import { RECIPE_LABEL } from "../core/manifest.js";
import { isCommandError, run, type RunContext } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";

export interface SupersededImages {
  /** Image IDs removed. */
  readonly removed: readonly string[];
  /** Image IDs still there: a container (another build on it, a left-over one) uses them. */
  readonly kept: readonly string[];
}

/**
 * An unnamed image younger than this stays: a commit creates its image before it names it, and
 * another build of the same recipe (another architecture of an `arches:` recipe, on the same
 * storage) may be in that moment. A later build removes it.
 */
export const MIN_AGE_MS = 5 * 60 * 1000;

/**
 * Remove the images built from recipe NAME that have no name left and are older than `minAgeMs`.
 * `storage`: buildah's global options (the build's --root, --runroot, --storage-driver). A
 * failure to list or remove is the caller's to report: housekeeping never fails a build that
 * made its image.
 */
export async function removeSupersededImages(
  name: string,
  storage: readonly string[],
  signal?: AbortSignal,
  { minAgeMs = MIN_AGE_MS, now = Date.now() }: { minAgeMs?: number; now?: number } = {},
): Promise<SupersededImages> {
  // Quiet and silent: the listing is not a step of the plan, and rmi prints a line per image.
  const ctx: RunContext = { step: "commit", reporter: silentReporter, signal };
  const list = async () => {
    const filters = ["--filter", "dangling=true", "--filter", `label=${RECIPE_LABEL}=${name}`];
    // --all: a superseded parent that a child image was built on counts as an intermediate image
    // and is hidden without it; removing it keeps the layers the child uses.
    const { stdout } = await run({ file: "buildah", args: [...storage, "images", "--all", "--json", "--no-trunc", ...filters] }, ctx, { quiet: true });
    const images = stdout.trim() === "" ? [] : ((JSON.parse(stdout) as { id?: unknown; createdatraw?: unknown }[] | null) ?? []);
    const ids = images
      .filter((i) => typeof i.id === "string" && !(now - Date.parse(String(i.createdatraw)) < minAgeMs))
      .map((i) => String(i.id).replace(/^sha256:/, ""));
    return [...new Set(ids)];
  };
  const dangling = await list();
  if (dangling.length === 0) return { removed: [], kept: [] };
  try {
    await run({ file: "buildah", args: [...storage, "rmi", ...dangling] }, ctx, { quiet: true });
    return { removed: dangling, kept: [] };
  } catch (error) {
    // buildah removes what it can and exits non-zero for the rest (an image a container uses).
    if (!isCommandError(error) || error.processExitCode === undefined) throw error;
    const left = new Set(await list());
    return { removed: dangling.filter((id) => !left.has(id)), kept: dangling.filter((id) => left.has(id)) };
  }
}

/**
 * Remove them as housekeeping: the one line a build and `bootsmith artifacts remove-superseded`
 * print (undefined when there was nothing to remove), or a warning when listing or removing
 * failed. Only an interruption (`signal` aborted) throws.
 */
export async function tidySupersededImages(
  name: string,
  storage: readonly string[],
  signal?: AbortSignal,
): Promise<{ level: "info" | "warn"; text: string } | undefined> {
  try {
    const summary = supersededSummary(name, await removeSupersededImages(name, storage, signal));
    return summary === undefined ? undefined : { level: "info", text: summary };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { level: "warn", text: `could not remove earlier unnamed images of ${name}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The line that says what was removed and what stays; undefined when there was nothing to remove. */
export function supersededSummary(name: string, result: SupersededImages): string | undefined {
  const parts: string[] = [];
  if (result.removed.length > 0) parts.push(`removed ${result.removed.length} earlier image(s) of ${name} that no name pointed at`);
  if (result.kept.length > 0)
    parts.push(`${result.kept.length} unnamed image(s) of ${name} stay while a container uses them (${result.kept.map((id) => id.slice(0, 12)).join(", ")})`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}
