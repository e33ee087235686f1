// A rebuild commits its image under the same names (localhost/bootsmith/NAME:TAG), so the image
// the names pointed at before is left with none: buildah keeps it, dangling, for ever. On a
// runner or head node that rebuilds every night that is a full image (often gigabytes) a night
// until the disk fills. After each commit the build removes the dangling images of its own
// recipe (by the recipe label every commit carries), and nothing else: images of other recipes
// and of other tools, and every image that still has a name, stay.
//
// Another build of the same recipe may be running on the same storage (another architecture of
// an `arches:` recipe, a rebuild started by hand), and its image must never go. Its working
// container (bootsmith-NAME-BUILDID, core/build-names.ts) exists from its start to its teardown,
// which comes after name-image (plan/planner.ts), so at every moment its image has a name or its
// container is there:
// - inside `buildah commit`, which creates the image before it names it, the image is unnamed:
//   it carries the labels the commit step put on the container (`buildah config`), so an
//   unnamed image that carries every label of a working container of the recipe stays;
// - from the commit (beside the squashfs) to name-image it is NAME:building-BUILDID, a name
//   no later build moves: it stays while the container bootsmith-NAME-BUILDID is there. A build
//   killed in between leaves that name; once its container is gone, the name goes too.
// The container is the test, not the image's age: a squashfs beside the commit may run for an
// hour, and an image committed with SOURCE_DATE_EPOCH carries that date. MIN_AGE_MS still applies
// on top, as a margin for what the containers cannot tell (a build by an earlier bootsmith on
// the same storage named its image after its teardown). A working container a killed build left
// keeps the images with its labels until it is removed (`buildah rm`). A build's own pass runs
// after its teardown: its own container would keep the image it supersedes when that carries the
// same labels (a reproducible rebuild: SOURCE_DATE_EPOCH, the same packages and SBOM sha256s).
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

/** An unnamed image or building- name younger than this stays (a margin, see above); a later build removes it. */
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
  const ctx: RunContext = { step: "remove-superseded", reporter: silentReporter, signal };
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
  const candidates = await dangling();
  // Asked after the listing: a commit whose image is listed has labelled its container before.
  const committing = candidates.length === 0 ? [] : await committingLabels(name, buildah);
  const superseded = [];
  for (const id of candidates) if (!(await isBeingCommitted(id, committing, buildah))) superseded.push(id);
  return { ...(await removeEach(superseded, dangling, buildah)), abandoned };
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

/** The build IDs of the recipe's working containers: the builds of it that run now. */
async function liveBuildIds(name: string, buildah: (...args: string[]) => Promise<string>): Promise<string[]> {
  const stdout = await buildah("containers", "--all", "--json");
  const containers = stdout.trim() === "" ? [] : ((JSON.parse(stdout) as { containername?: unknown }[] | null) ?? []);
  const prefix = workingContainerName(name, "");
  // A recipe whose name extends this one's ("a" and "a-b") matches too: more kept, never less.
  return containers.flatMap((c) => (typeof c.containername === "string" && c.containername.startsWith(prefix) ? [c.containername.slice(prefix.length)] : []));
}

/** The building- tags of the recipe's builds that run now. */
async function liveBuildingTags(name: string, buildah: (...args: string[]) => Promise<string>): Promise<Set<string>> {
  return new Set((await liveBuildIds(name, buildah)).map(buildingTag));
}

/** buildah sets its own version label on each commit: not one the container passes on. */
const BUILDAH_VERSION_LABEL = "io.buildah.version";

/**
 * The labels of the recipe's working containers whose commit step has labelled them (their
 * recipe label is NAME; before, they carry their base's): the labels of the image each commits.
 */
async function committingLabels(name: string, buildah: (...args: string[]) => Promise<string>): Promise<Record<string, string>[]> {
  const labelled: Record<string, string>[] = [];
  for (const id of await liveBuildIds(name, buildah)) {
    let labels: Record<string, string>;
    try {
      labels = await labelsOf("container", workingContainerName(name, id), buildah);
    } catch (error) {
      // Its build ended since the listing: its image is named, or it was killed.
      if (isCommandError(error) && error.processExitCode !== undefined && !(await liveBuildIds(name, buildah)).includes(id)) continue;
      throw error;
    }
    if (labels[RECIPE_LABEL] === name) labelled.push(labels);
  }
  return labelled;
}

/** Whether the unnamed image `id` carries every label of one of the `committing` containers: a commit in progress. */
async function isBeingCommitted(id: string, committing: readonly Record<string, string>[], buildah: (...args: string[]) => Promise<string>): Promise<boolean> {
  if (committing.length === 0) return false;
  const image = await labelsOf("image", id, buildah);
  return committing.some((labels) => Object.entries(labels).every(([key, value]) => key === BUILDAH_VERSION_LABEL || image[key] === value));
}

async function labelsOf(type: "container" | "image", ref: string, buildah: (...args: string[]) => Promise<string>): Promise<Record<string, string>> {
  // buildah 1.28's --format has no json function: the whole inspect output, parsed.
  const inspected = JSON.parse(await buildah("inspect", "--type", type, ref)) as { OCIv1?: { config?: { Labels?: Record<string, string> | null } } };
  return inspected.OCIv1?.config?.Labels ?? {};
}

/** The recipe's own tags, from the io.bootsmith.tags label its commit set. */
async function recipeTags(ref: string, buildah: (...args: string[]) => Promise<string>): Promise<string[]> {
  const tags = ((await labelsOf("image", ref, buildah))["io.bootsmith.tags"] ?? "").trim();
  return tags === "" ? [] : tags.split(",");
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
