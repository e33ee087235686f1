// Which of a bundle's tags `bootsmith import` points at the bundle's build. A bundle carries
// every tag its build had (`1`, `latest`, maybe `prod` after a promotion); importing an old
// bundle must not move a moving tag back to an old build. A tag is published when the target
// does not have it, holds the same build, or holds an older one; a tag holding a newer build
// (or one whose age is unknown) is kept unless the admin asked for the rollback
// (`--replace-newer`).

/** What a target's tag holds now: the same build as the bundle's, or one built at `builtAt` (unknown when absent). */
export interface HeldBuild {
  readonly same: boolean;
  readonly builtAt?: string;
}

export interface KeptTag {
  readonly tag: string;
  /** When the build the tag keeps pointing at was built (undefined: unknown). */
  readonly builtAt?: string;
}

export interface TagChoice {
  readonly publish: readonly string[];
  readonly kept: readonly KeptTag[];
}

export async function chooseImportTags(
  tags: readonly string[],
  bundleBuiltAt: string,
  held: (tag: string) => Promise<HeldBuild | undefined>,
  replaceNewer: boolean,
): Promise<TagChoice> {
  const publish: string[] = [];
  const kept: KeptTag[] = [];
  const bundleTime = Date.parse(bundleBuiltAt);
  for (const tag of tags) {
    // A rollback moves every tag: what the target holds is not read.
    const current = replaceNewer ? undefined : await held(tag);
    const heldTime = current?.builtAt === undefined ? Number.NaN : Date.parse(current.builtAt);
    // NaN compares false: a build of unknown age is kept, like gc keeps a tag without builtAt.
    if (current === undefined || current.same || heldTime <= bundleTime) publish.push(tag);
    else kept.push({ tag, ...(current.builtAt !== undefined ? { builtAt: current.builtAt } : {}) });
  }
  return { publish, kept };
}

/** The note for the tags left alone. */
export function keptTagsNote(kept: readonly KeptTag[], bundleBuiltAt: string): string {
  const which = kept.map((k) => `${k.tag} (${k.builtAt ? `built ${k.builtAt}` : "built at an unknown time"})`).join(", ");
  return `kept ${which}: the target's tag holds a newer build than this bundle's (built ${bundleBuiltAt}); pass --replace-newer to point it at this bundle's build (a rollback)`;
}
