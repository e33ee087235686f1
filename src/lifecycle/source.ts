// Where an image's artifact set is read from, for diff and export: a local artifact directory
// (`build`'s output, or a directory target's <dir>/<name>/<tag>), `dir:` the same, or an S3
// image `s3://BUCKET/[PREFIX/]NAME/TAG` (bootsmith layout), fetched into a temporary directory
// and checked against the manifest's sha256s.
import { existsSync } from "node:fs";
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
  if (spec.startsWith("registry:") || spec.startsWith("docker://"))
    throw new LifecycleInputError(
      `${spec}: a registry image carries the image, not its boot artifacts (no rootfs.squashfs); give the artifact directory or s3:// image (bootsmith diff reads registry images directly; export adds the OCI image with --with-image)`,
    );
  if (/^[a-z0-9]+:\/\//.test(spec)) {
    throw new LifecycleInputError(`${spec}: not a source bootsmith can read yet; give one of ${SOURCE_FORMS.join(", ")}`);
  }
  const dir = path.resolve(spec.startsWith("dir:") ? spec.slice("dir:".length) : spec);
  return { dir, close: async () => {} };
}

/** `NAME:TAG`, as images are named everywhere else (OCI tag grammar for the tag). */
const IMAGE_REF = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,127}):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;

export function parseImageRef(spec: string): { name: string; tag: string } | undefined {
  const m = IMAGE_REF.exec(spec);
  return m ? { name: m[1]!, tag: m[2]! } : undefined;
}

/**
 * A source as the user wrote it, with `NAME:TAG` resolved: under `--from` (a `dir:ROOT` or
 * `s3://BUCKET[/PREFIX]` target, the image being ROOT/NAME/TAG) or else in `build`'s default
 * output directory ./artifacts/NAME/TAG. An existing path always wins over a ref.
 */
export function resolveSourceSpec(spec: string, from?: string): string {
  const ref = existsSync(spec) ? undefined : parseImageRef(spec);
  if (!ref) {
    if (from !== undefined) throw new LifecycleInputError(`--from ${from}: only with NAME:TAG, not with ${spec}`);
    return spec;
  }
  if (from === undefined) return path.join("artifacts", ref.name, ref.tag);
  if (from.startsWith("s3://")) return `${from.replace(/\/+$/, "")}/${ref.name}/${ref.tag}`;
  if (from.startsWith("dir:")) return path.join(from.slice("dir:".length), ref.name, ref.tag);
  throw new LifecycleInputError(`--from ${from}: expected dir:ROOT or s3://BUCKET[/PREFIX] (where ${spec} was published)`);
}
