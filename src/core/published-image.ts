// What publishing hands to boot registration: where each artifact of one image now lives, as
// the URLs nodes will fetch.
import type { ArtifactRole } from "./manifest.js";

export interface PublishedImage {
  readonly name: string;
  readonly tag: string;
  /** Which publisher made it ("s3", "local", "registry"). */
  readonly target: string;
  /** One architecture's set of a recipe built for several (manifest.json `arches`): which one. */
  readonly arch?: string;
  /** URL a node fetches, per artifact role present in the image. */
  readonly urls: Partial<Record<ArtifactRole, string>>;
  readonly manifestUrl?: string;
  /**
   * The kernel command line template the build recorded (manifest.params), so that
   * `bootsmith register` of this record (or of `publish --json` piped in) renders the same params.
   */
  readonly paramsTemplate?: string;
  /** A signed set: where SHA256SUMS and SHA256SUMS.sig are served (register --verify-key reads them). */
  readonly sumsUrl?: string;
  readonly signatureUrl?: string;
  /** Registry target: the pushed image, `<repository>:<tag>` and its manifest digest. */
  readonly image?: { readonly ref: string; readonly digest: string };
}
