// Option values as typed on the command line. A count that Number() would read from another
// spelling (0x2, 1e2, 2.0) is refused: a nightly job with a mistyped --keep must stop, not run
// with a number its author did not write.
import { describe, expect, it } from "vitest";
import { wholeNumber } from "../../src/core/whole-number.js";

describe("wholeNumber", () => {
  it.each([
    ["0", 0],
    ["3", 3],
    ["0042", 42],
  ])("reads %j as %d", (value, n) => {
    expect(wholeNumber(value)).toBe(n);
  });

  it.each(["0x2", "1e2", "2.0", "-1", " 3", "3 ", "", "+3", "three"])("refuses %j", (value) => {
    expect(wholeNumber(value)).toBeUndefined();
  });

  it("is undefined when the option was not given", () => {
    expect(wholeNumber(undefined)).toBeUndefined();
  });
});
