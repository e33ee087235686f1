// A rebuild commits its image under the same names (localhost/bootsmith/NAME:TAG), so the image
// the names pointed at before is left with none: buildah keeps it, dangling, for ever. On a
// runner or head node that rebuilds every night that is a full image (often gigabytes) a night
// until the disk fills. After each commit the build removes the dangling images of its own
// recipe (by the recipe label every commit carries), and nothing else: images of other recipes
// and of other tools, and every image that still has a name, stay.
//
// A build killed (SIGKILL, power loss) between its commit beside the squashfs and name-image
// leaves its image under localhost/bootsmith/NAME:building-BUILDID, a name no later build moves.
// Such a name goes too once the build that owns it is over: its working container
// (bootsmith-NAME-BUILDID, core/build-names.ts) exists from the build's start to its teardown,
// and the teardown comes after name-image (plan/planner.ts), so a live build's building- name
// always has its container. The container is the test, not the image's age: a squashfs beside
// the commit may run for an hour, and an image committed with SOURCE_DATE_EPOCH carries that date.
import { RECIPE_LABEL } from "../core/manifest.js";
import { BUILDING_TAG_PREFIX, buildingTag, workingContainerName } from "../core/build-names.js";
import { isCommandError, run, type RunContext } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";

export interface SupersededImages {
  /** Image IDs removed. */
  readonly removed: readonly string[];
  /** Image IDs still there: a container (another build on it, a left-over one) uses them. */
  readonly kept: readonly string[];
  /** building- names removed: builds of the recipe that are over (killed) left them. */
  readonly abandoned: readonly string[];
}

interface ListedImage {
  readonly id?: unknown;
  readonly names?: unknown;
  readonly createdatraw?: unknown;
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
  const buildah = async (...args: string[]) => (await run({ file: "buildah", args: [...storage, ...args] }, ctx, { quiet: true })).stdout;
  const oldEnough = (i: ListedImage) => !(now - Date.parse(String(i.createdatraw)) < minAgeMs);
  const images = async (...filters: string[]): Promise<ListedImage[]> => {
    // --all: a superseded parent that a child image was built on counts as an intermediate image
    // and is hidden without it; removing it keeps the layers the child uses.
    const stdout = await buildah(
      "images",
      "--all",
      "--json",
      "--no-trunc",
      "--filter",
      `label=${RECIPE_LABEL}=${name}`,
      ...filters.flatMap((f) => ["--filter", f]),
    );
    return stdout.trim() === "" ? [] : ((JSON.parse(stdout) as ListedImage[] | null) ?? []);
  };

  const abandonedNames = async (listed?: readonly ListedImage[]) => {
    const candidates = (listed ?? (await images())).filter(oldEnough).flatMap((i) => (Array.isArray(i.names) ? i.names.map(String) : []));
    const building = candidates.filter((n) => tagOf(n).startsWith(BUILDING_TAG_PREFIX));
    if (building.length === 0) return [];
    const live = await liveBuildingTags(name, buildah);
    const over = building.filter((n) => !live.has(tagOf(n)));
    // A recipe may name a tag of its own building-…: the tags its commit recorded stay.
    const own = new Set<string>();
    for (const n of over) for (const tag of await recipeTags(n, buildah)) own.add(tag);
    return over.filter((n) => !own.has(tagOf(n)));
  };
  const labelled = await images();
  const abandoned = (await removeEach(await abandonedNames(labelled), () => abandonedNames(), buildah)).removed;
  // buildah's dangling (no name and no child image) is a subset of unnamed. When the listing
  // above shows no unnamed image old enough and no name was just removed, there is none to list:
  // the usual rebuild then runs one listing here, not two (~0.1 s each).
  if (abandoned.length === 0 && !labelled.some((i) => isUnnamed(i) && oldEnough(i))) return { removed: [], kept: [], abandoned };

  const dangling = async () => {
    const ids = (await images("dangling=true")).filter((i) => typeof i.id === "string" && oldEnough(i)).map((i) => String(i.id).replace(/^sha256:/, ""));
    return [...new Set(ids)];
  };
  return { ...(await removeEach(await dangling(), dangling, buildah)), abandoned };
}

/** buildah rmi of each of `refs`; which went, and which stay (`list` again after a partial failure). */
async function removeEach(
  refs: readonly string[],
  list: () => Promise<string[]>,
  buildah: (...args: string[]) => Promise<string>,
): Promise<{ removed: string[]; kept: string[] }> {
  if (refs.length === 0) return { removed: [], kept: [] };
  try {
    await buildah("rmi", ...refs);
    return { removed: [...refs], kept: [] };
  } catch (error) {
    // buildah removes what it can and exits non-zero for the rest (an image a container uses).
    if (!isCommandError(error) || error.processExitCode === undefined) throw error;
    const left = new Set(await list());
    return { removed: refs.filter((r) => !left.has(r)), kept: refs.filter((r) => left.has(r)) };
  }
}

function isUnnamed(image: ListedImage): boolean {
  return !Array.isArray(image.names) || image.names.length === 0;
}

function tagOf(ref: string): string {
  return ref.slice(ref.lastIndexOf(":") + 1);
}

/** The building- tags of the recipe's builds that run now: those whose working container exists. */
async function liveBuildingTags(name: string, buildah: (...args: string[]) => Promise<string>): Promise<Set<string>> {
  const stdout = await buildah("containers", "--all", "--json");
  const containers = stdout.trim() === "" ? [] : ((JSON.parse(stdout) as { containername?: unknown }[] | null) ?? []);
  const prefix = workingContainerName(name, "");
  // A recipe whose name extends this one's ("a" and "a-b") matches too: more kept, never less.
  return new Set(
    containers.flatMap((c) =>
      typeof c.containername === "string" && c.containername.startsWith(prefix) ? [buildingTag(c.containername.slice(prefix.length))] : [],
    ),
  );
}

/** The recipe's own tags, from the io.bootsmith.tags label its commit set. */
async function recipeTags(ref: string, buildah: (...args: string[]) => Promise<string>): Promise<string[]> {
  const tags = await buildah("inspect", "--type", "image", "--format", '{{index .OCIv1.Config.Labels "io.bootsmith.tags"}}', ref);
  return tags.trim() === "" ? [] : tags.trim().split(",");
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
  if (result.abandoned.length > 0)
    parts.push(`removed ${result.abandoned.length} building- name(s) of ${name} that builds killed before naming their image left`);
  if (result.removed.length > 0) parts.push(`removed ${result.removed.length} earlier image(s) of ${name} that no name pointed at`);
  if (result.kept.length > 0)
    parts.push(`${result.kept.length} unnamed image(s) of ${name} stay while a container uses them (${result.kept.map((id) => id.slice(0, 12)).join(", ")})`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}
