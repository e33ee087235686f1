// bootsmith gc: which published tags can go, and deleting them safely. Per image name the newest
// N complete tags (by builtAt) stay, and so does any tag a boot service still points nodes at
// (its URL fragment appears in a kernel, initrd or params string) and any tag named in a
// promotion. Deleting removes manifest.json first, so a tag cut short mid-delete is incomplete,
// never complete-looking. Tags without a manifest (a publish in progress or cut short) are
// listed, not deleted: this command cannot tell which.
import type { BootReference } from "../register/register.js";
import type { ImageStore, StoredTag } from "./store.js";

export type KeepReason =
  | { readonly kind: "newest"; readonly rank: number }
  | { readonly kind: "referenced"; readonly by: readonly string[] }
  | { readonly kind: "promoted"; readonly how: string }
  /** Registry: another tag of the same digest is kept, and a registry deletes by digest. */
  | { readonly kind: "same-image"; readonly as: string };

export interface GcPlan {
  readonly keep: readonly { readonly name: string; readonly tag: string; readonly builtAt?: string; readonly reasons: readonly KeepReason[] }[];
  readonly remove: readonly { readonly name: string; readonly tag: string; readonly builtAt: string }[];
  /** Tags with artifacts but no manifest.json: left alone. */
  readonly incomplete: readonly { readonly name: string; readonly tag: string }[];
}

/** Pure: decide from the listing, the boot references and N. */
export function planGc(
  tags: readonly StoredTag[],
  references: readonly BootReference[],
  keepNewest: number,
  urlFragment: (name: string, tag: string) => string,
): GcPlan {
  const keep: GcPlan["keep"][number][] = [];
  const remove: GcPlan["remove"][number][] = [];
  const incomplete: GcPlan["incomplete"][number][] = [];
  const names = [...new Set(tags.map((t) => t.name))].sort();
  for (const name of names) {
    const mine = tags.filter((t) => t.name === name);
    const promotedTags = new Map<string, string>();
    for (const t of mine)
      for (const p of t.manifest?.promotions ?? [])
        for (const x of [p.from, p.to]) promotedTags.set(x, `${p.from} → ${p.to} ${p.at}${p.forced ? " (forced)" : ""}`);
    // Registry: a tag the build did not give the image was made by a promotion; its source is
    // kept with it below (same digest).
    for (const t of mine)
      if (t.image && !t.image.builtTags.includes(t.tag)) promotedTags.set(t.tag, `${t.tag} → ${t.image.digest.slice(0, 19)}… (not a tag the build gave it)`);
    const complete = mine.filter((t) => t.manifest ?? t.image).sort((a, b) => builtAt(b).localeCompare(builtAt(a)) || b.tag.localeCompare(a.tag));
    for (const t of mine.filter((x) => !x.manifest && !x.image)) incomplete.push({ name, tag: t.tag });
    const decided = complete.map((t, index) => {
      const reasons: KeepReason[] = [];
      if (index < keepNewest) reasons.push({ kind: "newest", rank: index + 1 });
      const fragment = urlFragment(name, t.tag);
      const by = references.filter((r) => r.strings.some((s) => s.includes(fragment))).map((r) => r.who);
      if (by.length > 0) reasons.push({ kind: "referenced", by });
      const how = promotedTags.get(t.tag);
      if (how) reasons.push({ kind: "promoted", how });
      return { t, reasons };
    });
    // Deleting a registry digest deletes every tag on it: a digest any kept tag has stays.
    for (const d of decided) {
      if (d.reasons.length > 0 || !d.t.image) continue;
      const kept = decided.find((o) => o.reasons.length > 0 && o.t.image?.digest === d.t.image!.digest && !o.reasons.some((r) => r.kind === "same-image"));
      if (kept) d.reasons.push({ kind: "same-image", as: kept.t.tag });
    }
    for (const { t, reasons } of decided) {
      if (reasons.length > 0) keep.push({ name, tag: t.tag, builtAt: builtAt(t), reasons });
      else remove.push({ name, tag: t.tag, builtAt: builtAt(t) });
    }
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
        case "promoted":
          return `promotion ${r.how}`;
        case "same-image":
          return `same image (digest) as kept tag ${r.as}`;
        default: {
          const never: never = r;
          return String(never);
        }
      }
    })
    .join(", ");
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
