// The publishers, keyed by target type. The mapped type makes a target type without a publisher
// (or a publisher for a type that no longer exists) a compile error, and PUBLISH_TARGET_TYPES
// comes from this table: there is no second list of names.
import { loadArtifactSet, type ArtifactSet } from "./artifacts.js";
import { publishToLocal } from "./local.js";
import type { PublishOptions, PublishOutcome } from "./publisher.js";
import { publishToRegistry, type RegistryPublishOptions } from "./registry.js";
// The S3 publisher is loaded when a target needs it: the AWS SDK takes ~0.3 s to load, which
// every build without an S3 target would otherwise pay at start-up.
import type { S3PublishOptions } from "./s3.js";
import type { PublishTarget, PublishTargetType } from "./targets.js";

export interface PublishRunOptions extends PublishOptions {
  /** Extra settings for S3 targets (client, part size, queue size). */
  readonly s3?: Omit<S3PublishOptions, keyof PublishOptions>;
  /** Extra settings for registry targets (buildah storage options, manifest recording). */
  readonly registry?: Omit<RegistryPublishOptions, keyof PublishOptions>;
}

type PublisherTable = {
  readonly [K in PublishTargetType]: (set: ArtifactSet, target: Extract<PublishTarget, { type: K }>, options: PublishRunOptions) => Promise<PublishOutcome>;
};

export const publishers: PublisherTable = {
  s3: async (set, target, options) => (await import("./s3.js")).publishToS3(set, target, { ...options, ...options.s3 }),
  local: (set, target, options) => publishToLocal(set, target, options),
  registry: (set, target, options) => publishToRegistry(set, target, { ...options, ...options.registry }),
};

export const PUBLISH_TARGET_TYPES = Object.keys(publishers) as readonly PublishTargetType[];

/** Publish one artifact directory (or an already loaded set) to one target. */
export async function publish(source: string | ArtifactSet, target: PublishTarget, options: PublishRunOptions = {}): Promise<PublishOutcome> {
  const set = typeof source === "string" ? await loadArtifactSet(source) : source;
  // TypeScript cannot correlate target.type with the entry's parameter type; the table's type
  // guarantees each entry takes its own target.
  const publisher = publishers[target.type] as (set: ArtifactSet, target: PublishTarget, options: PublishRunOptions) => Promise<PublishOutcome>;
  return publisher(set, target, options);
}

/**
 * Publish to several targets (a recipe's `publish:` list). Registries go first: they record the
 * pushed digests in manifest.json, which the other targets then publish.
 */
export async function publishAll(dir: string, targets: readonly PublishTarget[], options: PublishRunOptions = {}): Promise<PublishOutcome[]> {
  const order = [...targets.keys()].sort((a, b) => Number(targets[b]!.type === "registry") - Number(targets[a]!.type === "registry"));
  const outcomes = new Array<PublishOutcome>(targets.length);
  for (const index of order) outcomes[index] = await publish(await loadArtifactSet(dir), targets[index]!, options);
  return outcomes;
}

export { writePublishedRecord } from "./record.js";
export { loadArtifactSet, type ArtifactSet, type LocalArtifact } from "./artifacts.js";
export { PublishError, PublishInputError, type PublishErrorKind } from "./errors.js";
export { formatTransfer, type ArtifactTransfer, type TransferAction, type TransferListener } from "./progress.js";
export type { PublishOptions, PublishOutcome } from "./publisher.js";
export type { RegistryPublishOptions } from "./registry.js";
export type { S3PublishOptions } from "./s3.js";
export { S3_VERIFY_MODES, type S3Verify } from "./targets.js";
export type { S3ClientOptions, S3Credentials } from "./s3-client.js";
export type { LocalTarget, PublishTarget, PublishTargetType, RegistryTarget, S3Layout, S3Target } from "./targets.js";
export { S3_LAYOUTS } from "./targets.js";
export type { PublishedImage } from "../core/published-image.js";
