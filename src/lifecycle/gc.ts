// bootsmith gc: which published tags can go, and deleting them safely. Per image name the newest
// N complete tags (by builtAt) stay, and so does any tag a boot service still points nodes at
// (a kernel, initrd or params string names it: the store says how, for sure or maybe; a maybe
// keeps the tag too, saying why) and any tag named in a
// promotion. Deleting removes manifest.json first, so a tag cut short mid-delete is incomplete,
// never complete-looking. Tags without a manifest (a publish in progress or cut short) are
// listed, not deleted: this command cannot tell which.
import { ARCHES } from "../core/arch.js";
import type { BootReference } from "../register/register.js";
import type { ImageStore, ReferenceMatch, StoredTag } from "./store.js";

/** How a boot reference string names a stored tag (ImageStore.matchReference). */
export type ReferenceMatcher = (reference: string, tag: StoredTag) => ReferenceMatch | undefined;

export type KeepReason =
  | { readonly kind: "newest"; readonly rank: number }
  | { readonly kind: "referenced"; readonly by: readonly string[] }
  /** A boot reference that may name it: gc cannot tell for sure, so it keeps it. */
  | { readonly kind: "maybe-referenced"; readonly by: readonly string[]; readonly why: string }
  | { readonly kind: "promoted"; readonly how: string }
  /** Registry: another tag of the same digest is kept, and a registry deletes by digest. */
  | { readonly kind: "same-image"; readonly as: string }
  /** Registry: a kept manifest list names an image of this set; deleting it would leave the list naming nothing. */
  | { readonly kind: "listed"; readonly list: string }
  /** A manifest without builtAt (written by hand, or damaged) cannot be ranked: gc never deletes what it cannot date. */
  | { readonly kind: "undated" };

/**
 * Where a registry tag belongs in a multi-architecture set (a recipe with `arches:`): the set is
 * its manifest list <tag> and the per-architecture images <tag>-<arch>, kept or deleted whole.
 */
export interface SetPart {
  /** The set's tag (the manifest list's). */
  readonly set?: string;
  /** This tag is the set's manifest list. */
  readonly list?: boolean;
}

export interface GcPlan {
  readonly keep: readonly ({ readonly name: string; readonly tag: string; readonly builtAt?: string; readonly reasons: readonly KeepReason[] } & SetPart)[];
  /** In deletion order: a set's manifest list before its images. */
  readonly remove: readonly ({ readonly name: string; readonly tag: string; readonly builtAt: string } & SetPart)[];
  /** Tags with artifacts but no manifest.json: left alone. */
  readonly incomplete: readonly { readonly name: string; readonly tag: string }[];
}

const OCI_ARCHES = Object.values(ARCHES).map((a) => a.oci);

/**
 * The set a registry tag belongs to: a per-architecture image <tag>-<arch> that the build gave
 * <tag> (label io.bootsmith.tags) is part of set <tag>, whether or not the list exists (yet, or
 * any more); every other tag is a set of its own.
 */
function setOf(t: StoredTag): string {
  const image = t.image;
  if (!image || image.platforms || image.builtTags.includes(t.tag)) return t.tag;
  const base = OCI_ARCHES.map((arch) => (t.tag.endsWith(`-${arch}`) ? t.tag.slice(0, -arch.length - 1) : undefined)).find((b) => b !== undefined);
  return base !== undefined && image.builtTags.includes(base) ? base : t.tag;
}

/** A set of tags decided together (see setOf), with the reasons it is kept. */
interface TagSet {
  readonly name: string;
  readonly tag: string;
  /** The list first, then its images: the order they are deleted in. */
  readonly members: readonly StoredTag[];
  readonly reasons: KeepReason[];
  /** Another image name than `only`: not decided in this run, so everything it holds stays. */
  readonly outside: boolean;
}

/**
 * Pure: decide from the listing, the boot references and N. Tags are decided in sets (a
 * directory or S3 tag, or a single-architecture registry image, is a set of one): per image name
 * the newest N sets stay, and any set one of whose tags is referenced or promoted. Then, for a
 * registry (deletes go by digest, repository-wide), a set stays while any of its digests is a
 * kept tag's, or is an image a kept manifest list names, until nothing more changes. `only`:
 * decide that image name's sets; the other tags listed (a registry's, of any name) only protect.
 */
export function planGc(
  tags: readonly StoredTag[],
  references: readonly BootReference[],
  keepNewest: number,
  matchReference: ReferenceMatcher,
  only?: string,
): GcPlan {
  const incomplete: GcPlan["incomplete"][number][] = [];
  const sets: TagSet[] = [];
  const names = [...new Set(tags.map((t) => t.name))].sort();
  for (const name of names) {
    const mine = tags.filter((t) => t.name === name);
    const outside = only !== undefined && name !== only;
    const promotedTags = new Map<string, string>();
    for (const t of mine)
      for (const p of t.manifest?.promotions ?? [])
        for (const x of [p.from, p.to]) promotedTags.set(x, `${p.from} → ${p.to} ${p.at}${p.forced ? " (forced)" : ""}`);
    // Registry: a tag the build did not give the image was made by a promotion (not one of a
    // set's <tag>-<arch> images); its source is kept with it below (same digest).
    for (const t of mine)
      if (t.image && !t.image.builtTags.includes(t.tag) && setOf(t) === t.tag)
        promotedTags.set(t.tag, `${t.tag} → ${t.image.digest.slice(0, 19)}… (not a tag the build gave it)`);
    if (!outside) for (const t of mine.filter((x) => !x.manifest && !x.image)) incomplete.push({ name, tag: t.tag });
    const bySet = new Map<string, StoredTag[]>();
    for (const t of mine.filter((x) => x.manifest ?? x.image)) bySet.set(setOf(t), [...(bySet.get(setOf(t)) ?? []), t]);
    const newest = (members: readonly StoredTag[]) => members.map(builtAt).sort().at(-1)!;
    const ranked = [...bySet]
      .map(([tag, members]) => ({ tag, members, builtAt: newest(members) }))
      .sort((a, b) => b.builtAt.localeCompare(a.builtAt) || b.tag.localeCompare(a.tag));
    for (const [index, { tag, members, builtAt: when }] of ranked.entries()) {
      const reasons: KeepReason[] = [];
      if (when === "") reasons.push({ kind: "undated" });
      else if (index < keepNewest) reasons.push({ kind: "newest", rank: index + 1 });
      const sure = new Set<string>();
      const maybe = new Map<string, string>();
      for (const r of references)
        for (const s of r.strings)
          for (const t of members) {
            const match = matchReference(s, t);
            if (match?.sure) sure.add(r.who);
            else if (match && !maybe.has(r.who)) maybe.set(r.who, match.why);
          }
      if (sure.size > 0) reasons.push({ kind: "referenced", by: [...sure] });
      const unsure = [...maybe].filter(([who]) => !sure.has(who));
      if (unsure.length > 0) reasons.push({ kind: "maybe-referenced", by: unsure.map(([who]) => who), why: unsure[0]![1] });
      const how = members.map((t) => promotedTags.get(t.tag)).find((h) => h !== undefined);
      if (how) reasons.push({ kind: "promoted", how });
      const ordered = [...members].sort((a, b) => Number(b.tag === tag) - Number(a.tag === tag) || a.tag.localeCompare(b.tag));
      sets.push({ name, tag, members: ordered, reasons, outside });
    }
  }
  // Deleting a registry digest deletes every tag on it, and leaves any list naming it broken:
  // a set with a digest a kept tag has, or a kept list names, stays (which may keep more).
  const kept = (set: TagSet) => set.outside || set.reasons.length > 0;
  for (let changed = true; changed;) {
    changed = false;
    const keptTags = sets.filter(kept).flatMap((set) => set.members.map((t) => ({ t })));
    for (const set of sets.filter((x) => !kept(x))) {
      const digests = new Set(set.members.flatMap((t) => (t.image ? [t.image.digest] : [])));
      const same = keptTags.find((k) => k.t.image && digests.has(k.t.image.digest));
      const list = keptTags.find((k) => k.t.image?.platforms?.some((p) => digests.has(p.digest)));
      if (same) set.reasons.push({ kind: "same-image", as: same.t.name === set.name ? same.t.tag : `${same.t.name}:${same.t.tag}` });
      else if (list) set.reasons.push({ kind: "listed", list: list.t.name === set.name ? list.t.tag : `${list.t.name}:${list.t.tag}` });
      changed ||= set.reasons.length > 0;
    }
  }
  const keep: GcPlan["keep"][number][] = [];
  const remove: GcPlan["remove"][number][] = [];
  for (const set of sets.filter((x) => !x.outside))
    for (const t of set.members) {
      const part: SetPart = set.members.length > 1 || t.image?.platforms ? { set: set.tag, ...(t.image?.platforms ? { list: true } : {}) } : {};
      if (set.reasons.length > 0) keep.push({ name: set.name, tag: t.tag, builtAt: builtAt(t), reasons: set.reasons, ...part });
      else remove.push({ name: set.name, tag: t.tag, builtAt: builtAt(t), ...part });
    }
  return { keep, remove, incomplete };
}

const builtAt = (t: StoredTag) => t.manifest?.builtAt ?? t.image?.builtAt ?? "";

export function describeReasons(reasons: readonly KeepReason[]): string {
  return reasons
    .map((r) => {
      switch (r.kind) {
        case "newest":
          return `newest #${r.rank}`;
        case "referenced":
          return `in use by ${r.by.join("; ")}`;
        case "maybe-referenced":
          return `maybe in use by ${r.by.join("; ")} (${r.why}; kept to be safe)`;
        case "promoted":
          return `promotion ${r.how}`;
        case "same-image":
          return `same image (digest) as kept tag ${r.as}`;
        case "listed":
          return `an image of it is in kept list ${r.list}`;
        case "undated":
          return "its manifest has no builtAt, so its age is unknown";
        default: {
          const never: never = r;
          return String(never);
        }
      }
    })
    .join(", ");
}

/** What a removed tag is in its set, for the dry run: "  (manifest list of 2-amd64, 2-arm64)", "  (arm64 image of set 2)"; "" alone. */
export function describeSetPart(remove: GcPlan["remove"], r: GcPlan["remove"][number]): string {
  if (r.set === undefined) return "";
  if (r.list) {
    const images = remove.filter((o) => o.name === r.name && o.set === r.set && !o.list).map((o) => o.tag);
    return `  (manifest list${images.length > 0 ? ` of ${images.join(", ")}` : ""})`;
  }
  return `  (${r.tag.slice(r.set.length + 1)} image of set ${r.set})`;
}

/** Delete the plan's tags one by one (each: manifest first); returns those deleted. */
export async function applyGc(store: ImageStore, plan: GcPlan, signal?: AbortSignal, onDeleted?: (name: string, tag: string) => void): Promise<number> {
  let deleted = 0;
  for (const t of plan.remove) {
    signal?.throwIfAborted();
    await store.deleteTag(t.name, t.tag, signal);
    deleted++;
    onDeleted?.(t.name, t.tag);
  }
  return deleted;
}
