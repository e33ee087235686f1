// The image store for a --target: a directory or an S3 bucket (bootsmith layout); registries
// are not stores yet.
import type { PublishTarget } from "../publish/targets.js";
import { LifecycleInputError } from "./errors.js";
import type { ImageStore } from "./store.js";
import { DirStore } from "./store-dir.js";
import { S3Store } from "./store-s3.js";

export function openStore(target: PublishTarget): ImageStore {
  switch (target.type) {
    case "local": {
      return new DirStore(target);
    }
    case "s3": {
      if ((target.layout ?? "bootsmith") !== "bootsmith")
        throw new LifecycleInputError(
          `--target s3://${target.bucket}: only the bootsmith layout (<prefix><name>/<tag>/) keeps one folder per tag; image-builder's layout is not supported here`,
        );
      return new S3Store(target);
    }
    case "registry":
      throw new LifecycleInputError(`--target registry:${target.repository}: not supported yet for promote and gc (use dir: or s3://)`);
    default: {
      const never: never = target;
      throw new Error(`unknown target ${String(never)}`);
    }
  }
}
