// Errors of the registration stage, one class with a `kind` so the CLI can map them to exit
// codes and messages without string matching.
import { BootsmithError, EXIT } from "../core/errors.js";

export type RegistrationErrorKind =
  /** Bad input (selectors, params, target): nothing was contacted. Exit 2. */
  | "invalid"
  /** 401/403 from the boot service. */
  | "unauthorized"
  /** The boot service refused the request (400, 404, 409, 422 …). */
  | "rejected"
  /** Network failure or persistent 5xx after retries. */
  | "unavailable"
  /** An artifact URL the params point at does not answer 2xx to HEAD: nothing was written. */
  | "artifact-missing"
  /** register --verify-key: the published set does not verify (signature, sha256 or size): nothing was written. */
  | "verify-failed"
  /** Rollback found nothing to restore, or the state changed since registration. */
  | "state";

export class RegistrationError extends BootsmithError {
  constructor(
    readonly kind: RegistrationErrorKind,
    message: string,
    options?: ErrorOptions & { readonly status?: number; readonly detail?: string },
  ) {
    super(message, kind === "invalid" ? EXIT.usage : EXIT.failed, options);
    this.name = "RegistrationError";
    this.status = options?.status;
    this.detail = options?.detail;
  }
  readonly status: number | undefined;
  readonly detail: string | undefined;
}
