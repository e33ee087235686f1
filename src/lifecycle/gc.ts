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
  | { readonly kind: "promoted"; readonly how: string };

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
    const complete = mine.filter((t) => t.manifest).sort((a, b) => b.manifest!.builtAt.localeCompare(a.manifest!.builtAt) || b.tag.localeCompare(a.tag));
    for (const t of mine.filter((x) => !x.manifest)) incomplete.push({ name, tag: t.tag });
    complete.forEach((t, index) => {
      const reasons: KeepReason[] = [];
      if (index < keepNewest) reasons.push({ kind: "newest", rank: index + 1 });
      const fragment = urlFragment(name, t.tag);
      const by = references.filter((r) => r.strings.some((s) => s.includes(fragment))).map((r) => r.who);
      if (by.length > 0) reasons.push({ kind: "referenced", by });
      const how = promotedTags.get(t.tag);
      if (how) reasons.push({ kind: "promoted", how });
      if (reasons.length > 0) keep.push({ name, tag: t.tag, builtAt: t.manifest!.builtAt, reasons });
      else remove.push({ name, tag: t.tag, builtAt: t.manifest!.builtAt });
    });
  }
  return { keep, remove, incomplete };
}

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
