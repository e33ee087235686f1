// `--to` strings → targets, for the CLI (recipes give targets as YAML objects instead).
//   s3://BUCKET[/PREFIX]      dir:PATH      registry:HOST[:PORT]/REPO
import { PublishInputError } from "./errors.js";
import { S3_BUCKET, S3_EMPTY_SEGMENT, s3PrefixFix } from "../recipe/schema.js";
import type { LocalTarget, PublishTarget, RegistryTarget, S3Layout, S3Target } from "./targets.js";

export interface TargetSpecOptions {
  readonly endpoint?: string;
  /** Where `endpoint` was given ("--endpoint", "$S3_ENDPOINT"), for messages. */
  readonly endpointFrom?: string;
  readonly region?: string;
  readonly publicBase?: string;
  readonly layout?: S3Layout;
  readonly caFile?: string;
  readonly tlsVerify?: boolean;
  readonly authFile?: string;
  /** Registry: where image signatures are written (registries.d lookaside-staging). */
  readonly lookaside?: string;
  /** S3 key prefix: replaces the PREFIX of s3://BUCKET/PREFIX (a recipe's `prefix:`); see s3KeyPrefix. */
  readonly prefix?: string;
  readonly forcePathStyle?: boolean;
}

export const TARGET_SPEC_FORMS = ["s3://BUCKET[/PREFIX]", "dir:PATH", "registry:HOST[:PORT]/REPOSITORY"] as const;

/**
 * `option` is where the user gave the spec, for messages: publish's and import's "--to" (the
 * default), promote's "--target", or null for a positional (gc's TARGET, an s3:// image of diff,
 * inspect or export), which the message names by its value alone.
 */
export function parseTargetSpec(spec: string, options: TargetSpecOptions = {}, option: string | null = "--to"): PublishTarget {
  const given = option === null ? spec : `${option} ${spec}`;
  if (spec.startsWith("s3://")) {
    const rest = spec.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    let prefix = slash < 0 ? "" : rest.slice(slash + 1);
    if (options.prefix !== undefined && prefix !== "") throw new PublishInputError(`${given} and --prefix ${options.prefix}: give the prefix one way`);
    if (!S3_BUCKET.test(bucket)) {
      throw new PublishInputError(`${given}: ${JSON.stringify(bucket)} is not a valid bucket name (3–63 lowercase letters, digits, dots, hyphens)`);
    }
    const fixed = s3PrefixFix(prefix);
    if (fixed !== undefined)
      throw new PublishInputError(
        `the prefix ${JSON.stringify(prefix)} of ${given} ${S3_EMPTY_SEGMENT}: write ${option === null ? "" : `${option} `}s3://${bucket}/${fixed}`,
      );
    const fixedOption = options.prefix === undefined ? undefined : s3PrefixFix(options.prefix);
    if (fixedOption !== undefined)
      throw new PublishInputError(`the prefix ${JSON.stringify(options.prefix)} of --prefix ${S3_EMPTY_SEGMENT}: write --prefix ${fixedOption}`);
    const layout = options.layout ?? "bootsmith";
    // Kept as given: s3KeyPrefix (layout.ts) makes it a folder in the bootsmith layout, as it does a recipe's prefix:.
    if (options.prefix !== undefined) prefix = options.prefix;
    const target: S3Target = {
      type: "s3",
      bucket,
      layout,
      ...(prefix ? { prefix } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint, ...(options.endpointFrom ? { endpointFrom: options.endpointFrom } : {}) } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.publicBase ? { publicBase: options.publicBase } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    };
    return target;
  }
  if (spec.startsWith("dir:")) {
    const dir = spec.slice("dir:".length);
    if (dir === "") throw new PublishInputError(`${given}: give a directory, e.g. dir:/srv/boot`);
    const target: LocalTarget = { type: "local", dir, ...(options.publicBase ? { publicBase: options.publicBase } : {}) };
    return target;
  }
  if (spec.startsWith("registry:")) {
    const repository = spec.slice("registry:".length).replace(/^docker:\/\//, "");
    const target: RegistryTarget = {
      type: "registry",
      repository,
      ...(options.tlsVerify !== undefined ? { tlsVerify: options.tlsVerify } : {}),
      ...(options.authFile ? { authFile: options.authFile } : {}),
      ...(options.lookaside ? { lookaside: options.lookaside } : {}),
    };
    return target;
  }
  throw new PublishInputError(`${option === null ? "" : `${option} `}${JSON.stringify(spec)}: expected one of ${TARGET_SPEC_FORMS.join(", ")}`);
}
