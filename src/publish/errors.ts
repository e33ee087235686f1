// Publishing errors. `PublishInputError` is the user's to fix (bad artifact directory or target:
// nothing was uploaded); `PublishError` means the publish ran and failed.

export type PublishErrorKind =
  | "credentials"
  | "access-denied"
  | "no-such-bucket"
  | "unreachable"
  | "checksum-mismatch"
  | "verify-failed"
  | "transfer-failed";

export class PublishInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PublishInputError";
  }
}

export class PublishError extends Error {
  constructor(
    message: string,
    readonly kind: PublishErrorKind,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PublishError";
  }
}
