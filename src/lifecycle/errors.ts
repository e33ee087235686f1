// Lifecycle (diff, export/import) errors: LifecycleInputError is the user's to fix (a missing
// directory, a bad bundle, an existing output: exit 2); LifecycleError means the operation ran
// and failed (exit 1). Either way nothing was half-published.
import { BootsmithError, EXIT, type BootsmithErrorOptions } from "../core/errors.js";

export class LifecycleInputError extends BootsmithError {
  constructor(message: string, options?: BootsmithErrorOptions) {
    super(message, EXIT.usage, options);
  }
}

export class LifecycleError extends BootsmithError {
  constructor(message: string, options?: BootsmithErrorOptions) {
    super(message, EXIT.failed, options);
  }
}
