// Counts typed on a command line (--keep 3, --jobs 2, --nid 17): one reading for every option
// that takes a whole number, whichever layer parses it.

/**
 * A whole-number option's value (`--keep 3`), or undefined when it is not one. Digits only:
 * Number() would also read 0x2, 1e2, 2.0 or an empty string as a number, and a nightly job
 * with a mistyped value would run with another count than the one its author meant.
 */
export function wholeNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
