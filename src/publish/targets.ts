// Where an image can be published: the recipe schema's publish targets as written (defaults not
// applied), so a target from a recipe and one the CLI builds from `--to` are the same type. The
// `type` field selects the publisher in ./index.ts.
import type { PublishTargetInput } from "../recipe/schema.js";

export { S3_LAYOUTS } from "../recipe/schema.js";

export type PublishTarget = PublishTargetInput;
export type PublishTargetType = PublishTarget["type"];
export type S3Target = Extract<PublishTarget, { readonly type: "s3" }> & {
  /**
   * Where the endpoint was given, for messages that say to check it: "--endpoint",
   * "$S3_ENDPOINT", "publish[1].endpoint at /srv/site.yaml:12:15". Not part of a recipe.
   */
  readonly endpointFrom?: string;
};
export type LocalTarget = Extract<PublishTarget, { readonly type: "local" }>;
export type RegistryTarget = Extract<PublishTarget, { readonly type: "registry" }>;
export type S3Layout = NonNullable<S3Target["layout"]>;

/** How an S3 publish checks each artifact before manifest.json (publish/s3.ts); here, away from the AWS SDK, for the CLI's checks. */
export const S3_VERIFY_MODES = ["metadata", "full"] as const;
export type S3Verify = (typeof S3_VERIFY_MODES)[number];
