// bootsmith promote NAME:TAG --to TAG2: make TAG2 hold exactly TAG's artifacts (hard links or
// server-side copies, nothing uploaded) with a manifest that records the promotion, written
// last. Only an image whose manifest records a passed boot test is promoted, unless forced; a
// forced promotion says so in the history. A set of several architectures (`arches:`) is
// promoted whole: every architecture's manifest must record a passed boot test, each
// architecture's files and manifest are carried over, and the combined manifest comes last.
import os from "node:os";
import { sha256Bytes } from "../core/hash.js";
import { isMultiArchManifest, MANIFEST_FILE, type BootTestRecord, type Manifest, type MultiArchManifest, type PromotionRecord } from "../core/manifest.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import { parseStoredManifest, type ImageStore } from "./store.js";
import { signatureFiles, type TagCopy } from "./tag-copy.js";
import type { Signer } from "../sign/gpg.js";
import { OCI_TAG as TAG } from "../core/oci-tag.js";

export interface PromoteRequest {
  readonly name: string;
  readonly tag: string;
  readonly to: string;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: Date;
  /** Signs a signed set's SHA256SUMS again for the new tag (and, in a registry, the tag's identity). */
  readonly signer?: Signer;
}

/** The boot test that allowed a set's promotion. */
export interface PassedBootTest {
  readonly at: string;
  readonly seconds?: number;
}

export interface PromoteResult {
  /** The new tag's manifest (one architecture's set), or each architecture's under a combined one. */
  readonly manifest: Manifest;
  /** Several architectures: every architecture's new manifest, in the combined manifest's order. */
  readonly arches?: readonly { readonly manifest: Manifest; readonly bootTest?: PassedBootTest }[];
  readonly combined?: MultiArchManifest;
  readonly promotion: PromotionRecord;
  /** The boot test that allowed it (absent when forced; several architectures: in `arches`). */
  readonly bootTest?: PassedBootTest;
}

export async function promote(store: ImageStore, req: PromoteRequest): Promise<PromoteResult> {
  if (!TAG.test(req.to))
    throw new LifecycleInputError(`--to ${JSON.stringify(req.to)}: not a valid tag (letters, digits, _ . -; up to 128; not starting with . or -)`);
  if (req.to === req.tag) throw new LifecycleInputError(`--to ${req.to}: the image already has that tag`);
  const bytes = await store.readManifest(req.name, req.tag, req.signal);
  if (!bytes)
    throw new LifecycleInputError(
      `${req.name}:${req.tag}: not published in ${store.label} (no ${req.name}/${req.tag}/manifest.json: unknown, or a publish that did not finish)`,
    );
  const parsed = parseStoredManifest(bytes, `${store.label}: ${req.name}/${req.tag}/${MANIFEST_FILE}`);
  const combined = isMultiArchManifest(parsed) ? parsed : undefined;
  const sets = combined ? await readArchSets(store, req, combined) : [parsed as Manifest];
  if (!combined) checkPromotable(parsed, `${store.label}: ${req.name}/${req.tag}/${MANIFEST_FILE}`);

  // boot-test DIR records its latest run in manifest.json (bootTest.lastRun): it must have passed.
  const untested = sets.filter((set) => set.bootTest?.lastRun?.ok !== true);
  if (untested.length > 0 && !req.force) throw refusal(req, combined, untested);
  // The new tag's manifests record the promotion, so a signed set's SHA256SUMS is made and signed
  // again for it: without the key the new tag would be an unsigned set that verify refuses.
  const signed: string[] = [];
  for (const file of signatureFiles(sets, combined !== undefined)) if (await store.readSetFile(req.name, req.tag, file, req.signal)) signed.push(file);
  if (signed.length > 0 && !req.signer)
    throw new LifecycleInputError(
      `${req.name}:${req.tag} is signed (${signed.join(", ")}) and the promoted manifest records the promotion, so ${req.name}:${req.to} needs its SHA256SUMS signed again: give --sign-key KEY (the key that signed the set); nothing was promoted`,
    );

  let by: string | undefined;
  try {
    by = process.env.USER ?? os.userInfo().username;
  } catch {
    by = undefined;
  }
  const promotion: PromotionRecord = {
    from: req.tag,
    to: req.to,
    at: (req.now ?? new Date()).toISOString(),
    forced: untested.length > 0,
    ...(by ? { by } : {}),
  };
  const record = <T extends { tags: readonly string[]; promotions?: readonly PromotionRecord[] }>(m: T): T => ({
    ...m,
    tags: [...new Set([...m.tags, req.to])],
    promotions: [...(m.promotions ?? []), promotion],
  });
  const promotedSets = sets.map(record);
  const promotedCombined = combined ? record(combined) : undefined;
  const copy: TagCopy = {
    // Under a combined manifest each architecture's files are in its folder.
    artifacts: promotedSets.flatMap((set) =>
      Object.values(set.artifacts)
        .filter((r) => r !== undefined)
        .map((r) => (combined ? { ...r, file: `${set.arch}/${r.file}` } : r)),
    ),
    sets: promotedSets,
    ...(promotedCombined ? { combined: promotedCombined } : {}),
    ...(signed.length > 0 && req.signer ? { signer: req.signer } : {}),
    ...(sets[0]!.tags.includes(req.to) ? {} : { addedTag: req.to }),
  };
  await store.copyTag(req.name, req.tag, req.to, copy, req.signal);
  const first = promotedSets[0]!;
  if (!promotedCombined) {
    const test = passed(first.bootTest?.lastRun);
    return { manifest: first, promotion, ...(test ? { bootTest: test } : {}) };
  }
  const arches = promotedSets.map((set) => {
    const test = passed(set.bootTest?.lastRun);
    return { manifest: set, ...(test ? { bootTest: test } : {}) };
  });
  return { manifest: first, promotion, combined: promotedCombined, arches };
}

function passed(run: BootTestRecord | undefined): PassedBootTest | undefined {
  return run?.ok === true ? { at: run.at, ...(run.totalSeconds !== undefined ? { seconds: run.totalSeconds } : {}) } : undefined;
}

/** Each architecture's manifest under a combined one, checked to be the one it lists. */
async function readArchSets(store: ImageStore, req: PromoteRequest, combined: MultiArchManifest): Promise<Manifest[]> {
  const sets: Manifest[] = [];
  for (const [arch, entry] of Object.entries(combined.arches)) {
    const where = `${req.name}/${req.tag}/${entry.manifest.file}`;
    const bytes = await store.readSetFile(req.name, req.tag, entry.manifest.file, req.signal);
    if (!bytes) throw new LifecycleError(`${where} in ${store.label}: missing, though the combined manifest lists it (${arch}); nothing was promoted`);
    if (sha256Bytes(bytes) !== entry.manifest.sha256)
      throw new LifecycleError(
        `${where} in ${store.label} is not the manifest the combined one lists for ${arch} (sha256 ${entry.manifest.sha256.slice(0, 12)}…): publish ${req.name}:${req.tag} again; nothing was promoted`,
      );
    const set = parseStoredManifest(bytes, `${store.label}: ${where}`) as Manifest;
    checkPromotable(set, `${store.label}: ${where}`);
    if (set.arch !== arch) throw new LifecycleError(`${where} in ${store.label} says arch ${set.arch}, not ${arch}; nothing was promoted`);
    sets.push(set);
  }
  return sets;
}

/**
 * The fields promote reads and copies, checked before anything is made: a manifest edited by
 * hand is refused naming the file and the field, not a TypeError's stack trace.
 */
function checkPromotable(value: unknown, where: string): void {
  const refuse = (what: string) =>
    new LifecycleInputError(`${where}: ${what} (edited by hand, or not a bootsmith manifest?): publish the tag again from its build; nothing was promoted`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw refuse("expected a JSON object");
  const m = value as { tags?: unknown; artifacts?: unknown; promotions?: unknown };
  if (!Array.isArray(m.tags) || !m.tags.every((t) => typeof t === "string")) throw refuse("tags must be a list of tags");
  if (typeof m.artifacts !== "object" || m.artifacts === null || Array.isArray(m.artifacts))
    throw refuse("artifacts must be an object (role → file, sha256, size)");
  for (const [role, r] of Object.entries(m.artifacts as Record<string, unknown>)) {
    const a = r as { file?: unknown; sha256?: unknown; size?: unknown } | null;
    if (typeof a?.file !== "string" || typeof a.sha256 !== "string" || typeof a.size !== "number")
      throw refuse(`artifacts.${role} must have file, sha256 and size`);
  }
  if (m.promotions !== undefined && !Array.isArray(m.promotions)) throw refuse("promotions must be a list");
}

/** Why a set without a passed boot test is refused, and what to run. */
function why(set: Manifest): string {
  const lastRun = set.bootTest?.lastRun;
  if (!lastRun) return "no boot test on record";
  if (typeof lastRun !== "object") return `bootTest.lastRun is ${JSON.stringify(lastRun)}, not a boot-test record`;
  const checks: BootTestRecord["checks"] = Array.isArray(lastRun.checks) ? lastRun.checks : [];
  const failed = checks.filter((c) => c.status === "fail");
  return `the last boot test, ${lastRun.at}, failed${failed.length > 0 ? `: ${failed.map((c) => `${c.name} ${c.status}`).join(", ")}` : ""}`;
}

function refusal(req: PromoteRequest, combined: MultiArchManifest | undefined, untested: readonly Manifest[]): LifecycleError {
  if (!combined)
    return new LifecycleError(
      `refusing to promote ${req.name}:${req.tag} to ${req.to}: its manifest records no passed boot test (${why(untested[0]!)}). Run \`bootsmith boot-test DIR\` on the build and publish it again (the result goes into manifest.json), or pass --force (recorded in the promotion history)`,
    );
  const names = untested.map((set) => set.arch).join(", ");
  return new LifecycleError(
    [
      `refusing to promote ${req.name}:${req.tag} to ${req.to}: built for ${Object.keys(combined.arches).join(", ")}, every architecture's manifest must record a passed boot test, and ${names} ${untested.length === 1 ? "does" : "do"} not:`,
      ...untested.map((set) => `  ${set.arch}: ${why(set)}; run \`bootsmith boot-test artifacts/${req.name}/${req.tag}/${set.arch}\``),
      `(artifacts: the build's --out.) Then publish artifacts/${req.name}/${req.tag} again (boot-test refreshes its combined manifest), or pass --force (recorded in the promotion history)`,
    ].join("\n"),
  );
}
