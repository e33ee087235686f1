// What every publisher takes and gives back; ./index.ts maps each target type to one.
import type { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import type { ArtifactSet } from "./artifacts.js";
import type { ArtifactTransfer, TransferListener } from "./progress.js";
import type { PublishTarget } from "./targets.js";
import type { PublishedImage } from "../core/published-image.js";

export interface PublishOptions {
  /** Commands run (registry) and messages; default silent. */
  readonly reporter?: Reporter;
  /** Called once per object as it is uploaded, copied or skipped. */
  readonly onTransfer?: TransferListener;
  /** Interrupts transfers; partial uploads are still aborted/removed. */
  readonly signal?: AbortSignal;
  /**
   * The caller's cleanup stack: open multipart uploads and staging directories are registered
   * while they exist, so a caller that unwinds on a signal (without waiting for this publish to
   * reject) still removes them.
   */
  readonly cleanup?: CleanupStack;
}

export interface PublishOutcome {
  /** One per manifest tag, the primary (first) tag first. */
  readonly images: readonly PublishedImage[];
  readonly transfers: readonly ArtifactTransfer[];
}

export type Publisher<T extends PublishTarget, O extends PublishOptions = PublishOptions> = (
  set: ArtifactSet,
  target: T,
  options?: O,
) => Promise<PublishOutcome>;
