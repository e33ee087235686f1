// Publishing errors. `PublishInputError` is the user's to fix (bad artifact directory or target:
// nothing was uploaded); `PublishError` means the publish ran and failed.
import { BootsmithError, EXIT } from "../core/errors.js";

export type PublishErrorKind = "credentials" | "access-denied" | "no-such-bucket" | "unreachable" | "checksum-mismatch" | "verify-failed" | "transfer-failed";

export class PublishInputError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "PublishInputError";
  }
}

export class PublishError extends BootsmithError {
  constructor(
    message: string,
    readonly kind: PublishErrorKind,
    options?: ErrorOptions,
  ) {
    super(message, EXIT.failed, options);
    this.name = "PublishError";
  }
}
