// bootsmith promote NAME:TAG --to TAG2: make TAG2 hold exactly TAG's artifacts (hard links or
// server-side copies, nothing uploaded) with a manifest that records the promotion, written
// last. Only an image whose manifest records a passed boot test is promoted, unless forced; a
// forced promotion says so in the history.
import os from "node:os";
import { isMultiArchManifest, multiArchMessage, type Manifest, type PromotionRecord } from "../core/manifest.js";
import { LifecycleError, LifecycleInputError } from "./errors.js";
import type { ImageStore } from "./store.js";
import { OCI_TAG as TAG } from "../core/oci-tag.js";

export interface PromoteRequest {
  readonly name: string;
  readonly tag: string;
  readonly to: string;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: Date;
}

export interface PromoteResult {
  readonly manifest: Manifest;
  readonly promotion: PromotionRecord;
  /** The boot test that allowed it (absent when forced). */
  readonly bootTest?: { readonly at: string; readonly seconds?: number };
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
  const parsed: unknown = JSON.parse(bytes.toString("utf8"));
  if (isMultiArchManifest(parsed))
    throw new LifecycleInputError(
      multiArchMessage(
        `${req.name}:${req.tag} in ${store.label}`,
        parsed,
        "promote copies one set's files, and a set of several architectures is not promoted yet; build the recipe with the new tag, or promote each architecture's set published on its own",
      ),
    );
  const manifest = parsed as Manifest;
  // boot-test DIR records its latest run in manifest.json (bootTest.lastRun): it must have passed.
  const lastRun = manifest.bootTest?.lastRun;
  const passed = lastRun?.ok === true ? lastRun : undefined;
  if (!passed && !req.force) {
    const tried = lastRun
      ? ` (the last boot test, ${lastRun.at}, failed${
          lastRun.checks.some((c) => c.status === "fail")
            ? `: ${lastRun.checks
                .filter((c) => c.status === "fail")
                .map((c) => `${c.name} ${c.status}`)
                .join(", ")}`
            : ""
        })`
      : " (no boot test on record)";
    throw new LifecycleError(
      `refusing to promote ${req.name}:${req.tag} to ${req.to}: its manifest records no passed boot test${tried}. Run \`bootsmith boot-test DIR\` on the build and publish it again (the result goes into manifest.json), or pass --force (recorded in the promotion history)`,
    );
  }
  let by: string | undefined;
  try {
    by = process.env.USER ?? os.userInfo().username;
  } catch {
    by = undefined;
  }
  const promotion: PromotionRecord = { from: req.tag, to: req.to, at: (req.now ?? new Date()).toISOString(), forced: !passed, ...(by ? { by } : {}) };
  const promoted: Manifest = { ...manifest, tags: [...new Set([...manifest.tags, req.to])], promotions: [...(manifest.promotions ?? []), promotion] };
  await store.copyTag(req.name, req.tag, req.to, promoted, Buffer.from(`${JSON.stringify(promoted, null, 2)}\n`), req.signal);
  return {
    manifest: promoted,
    promotion,
    ...(passed ? { bootTest: { at: passed.at, ...(passed.totalSeconds !== undefined ? { seconds: passed.totalSeconds } : {}) } } : {}),
  };
}
