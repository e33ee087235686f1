// --jobs as `bootsmith build` reads it: the digits-only reading every whole-number option uses
// (core/whole-number.ts), at least 1, and the message naming the option and what it expects.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/core/errors.js";
import { parseJobs } from "../../src/pipeline/build-graph.js";

describe("parseJobs", () => {
  it("reads a positive whole number, and defaults to the host's parallelism", () => {
    expect(parseJobs("1")).toBe(1);
    expect(parseJobs("04")).toBe(4);
    expect(parseJobs(undefined)).toBe(Math.max(1, availableParallelism()));
  });

  it.each(["0", "2.0", "0x2", "1e2", "-1", "", " 2", "two"])("refuses %j, naming the option", (value) => {
    expect(() => parseJobs(value)).toThrow(UserError);
    expect(() => parseJobs(value)).toThrow(`--jobs ${value}: expected a positive number of parallel builds`);
  });
});
