// The image store for a --target: a directory, an S3 bucket (bootsmith layout) or a registry
// repository (whose boot-test records are the builds' artifact directories under `artifacts`).
import type { PublishTarget } from "../publish/targets.js";
import { LifecycleInputError } from "./errors.js";
import type { ImageStore } from "./store.js";
import { DirStore } from "./store-dir.js";
import { S3Store } from "./store-s3.js";
import { RegistryStore } from "./store-registry.js";

export interface OpenStoreOptions {
  /** Registry targets: where the builds' artifact directories are (ROOT/NAME/TAG); default ./artifacts. */
  readonly artifacts?: string;
}

export function openStore(target: PublishTarget, options: OpenStoreOptions = {}): ImageStore {
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
      return new RegistryStore(target, { artifacts: options.artifacts ?? "artifacts" });
    default: {
      const never: never = target;
      throw new Error(`unknown target ${String(never)}`);
    }
  }
}
