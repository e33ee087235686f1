// Which of a bundle's tags `bootsmith import` points at the bundle's build. A bundle carries
// every tag its build had (`1`, `latest`, maybe `prod` after a promotion); importing an old
// bundle must not move a moving tag back to an old build. A tag is published when the target
// does not have it, holds the same build, or holds a strictly older one; a tag holding a newer
// build, a different build of the same time, or one whose age is unknown is kept unless the admin
// asked for the rollback (`--replace-newer`). Times are compared at the precision they carry: an
// image config's created time has nanoseconds (Date keeps milliseconds), and a build with
// SOURCE_DATE_EPOCH is created at that second, the same for every build of it, so equal times
// say nothing about which build is newer.

/** What a target's tag holds now: the same build as the bundle's, or one built at `builtAt` (unknown when absent). */
export interface HeldBuild {
  readonly same: boolean;
  readonly builtAt?: string;
}

export interface KeptTag {
  readonly tag: string;
  /** When the build the tag keeps pointing at was built (undefined: unknown). */
  readonly builtAt?: string;
  /** That build is known to be newer than the bundle's; else its age is unknown or the same. */
  readonly newer: boolean;
}

export interface TagChoice {
  readonly publish: readonly string[];
  readonly kept: readonly KeptTag[];
}

export async function chooseImportTags(
  tags: readonly string[],
  /** Absent in an older bootsmith's or a hand-written manifest: then no tag the target holds is known to be older. */
  bundleBuiltAt: string | undefined,
  held: (tag: string) => Promise<HeldBuild | undefined>,
  replaceNewer: boolean,
): Promise<TagChoice> {
  const publish: string[] = [];
  const kept: KeptTag[] = [];
  for (const tag of tags) {
    // A rollback moves every tag: what the target holds is not read.
    const current = replaceNewer ? undefined : await held(tag);
    // A build of unknown age is kept, like gc keeps a tag without builtAt.
    if (current === undefined || current.same || compareTimes(current.builtAt, bundleBuiltAt) === "older") publish.push(tag);
    else
      kept.push({
        tag,
        ...(current.builtAt !== undefined ? { builtAt: current.builtAt } : {}),
        newer: compareTimes(current.builtAt, bundleBuiltAt) === "newer",
      });
  }
  return { publish, kept };
}

/** What the kept tags hold, said no stronger than the times allow. */
function keptHold(kept: readonly KeptTag[]): string {
  return kept.every((k) => k.newer) ? "a newer build than this bundle's" : "another build, not known to be older than this bundle's";
}

/** The note for the tags left alone. */
export function keptTagsNote(kept: readonly KeptTag[], bundleBuiltAt: string | undefined): string {
  const order = (k: KeptTag) => compareTimes(k.builtAt, bundleBuiltAt);
  const which = kept
    .map(
      (k) =>
        `${k.tag} (${k.builtAt ? `built ${k.builtAt}${order(k) === "same" ? ", the same time as this bundle's build" : ""}` : "built at an unknown time"})`,
    )
    .join(", ");
  const holds = kept.length === 1 ? "the target's tag holds" : "the target's tags hold";
  return `kept ${which}: ${holds} ${keptHold(kept)} (${typeof bundleBuiltAt === "string" ? `built ${bundleBuiltAt}` : "built at an unknown time"}); pass --replace-newer to point ${kept.length === 1 ? "it" : "them"} at this bundle's build (a rollback)`;
}

/** The summary when every tag was kept: why nothing was published to `to`. */
export function nothingPublishedSummary(kept: readonly KeptTag[], to: string): string {
  return `nothing published to ${to}: every tag holds ${keptHold(kept)} (--replace-newer to move them)`;
}

/** How time `a` stands to time `b` (RFC 3339), to the nanosecond; undefined when either is not a time. */
function compareTimes(a: string | undefined, b: string | undefined): "older" | "same" | "newer" | undefined {
  const x = a === undefined ? undefined : nanoseconds(a);
  const y = b === undefined ? undefined : nanoseconds(b);
  if (x === undefined || y === undefined) return undefined;
  return x < y ? "older" : x === y ? "same" : "newer";
}

/** An RFC 3339 time as nanoseconds since 1970: Date.parse for the whole seconds and the offset, the fraction's digits as written. */
function nanoseconds(time: string): bigint | undefined {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(time);
  const seconds = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? "").padEnd(9, "0").slice(0, 9));
}
