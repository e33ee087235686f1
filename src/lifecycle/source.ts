// Where an image's artifact set is read from, for diff and export: a local artifact directory
// (`build`'s output, or a directory target's <dir>/<name>/<tag>), `dir:` the same, or an S3
// image `s3://BUCKET/[PREFIX/]NAME/TAG` (bootsmith layout), fetched into a temporary directory
// and checked against the manifest's sha256s.
import path from "node:path";
import { LifecycleInputError } from "./errors.js";
import type { OpenedSource, SourceOptions } from "./source-types.js";

export type { OpenedSource, SourceOptions } from "./source-types.js";

export const SOURCE_FORMS = ["DIR (with manifest.json)", "dir:DIR", "s3://BUCKET/[PREFIX/]NAME/TAG"] as const;

export async function openSource(spec: string, options: SourceOptions = {}): Promise<OpenedSource> {
  if (spec.startsWith("s3://")) {
    const { fetchS3Image } = await import("./s3-source.js");
    return fetchS3Image(spec, options);
  }
  if (/^[a-z0-9]+:\/\//.test(spec) || spec.startsWith("registry:")) {
    throw new LifecycleInputError(`${spec}: not a source bootsmith can read yet; give one of ${SOURCE_FORMS.join(", ")}`);
  }
  const dir = path.resolve(spec.startsWith("dir:") ? spec.slice("dir:".length) : spec);
  return { dir, close: async () => {} };
}
