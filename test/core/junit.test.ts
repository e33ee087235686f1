import { describe, expect, it } from "vitest";
import { junitXml } from "../../src/core/junit.js";

describe("junitXml", () => {
  it("writes passed, failed, errored and skipped cases with counts, times and escaped text", () => {
    const xml = junitXml("suite <1>", [
      { name: "a", seconds: 1.5, status: "passed", body: "out & about" },
      { name: "b", seconds: 2, status: "failed", message: 'exit "3"', body: "x < y\u0007" },
      { name: "c", seconds: 0, status: "error" },
      { name: "d", seconds: 0, status: "skipped", message: "n/a" },
    ]);
    expect(xml).toContain(`<testsuite name="suite &lt;1&gt;" tests="4" failures="1" errors="1" skipped="1" time="3.500">`);
    expect(xml).toContain(`<testcase classname="suite &lt;1&gt;" name="a" time="1.500">\n      <system-out>out &amp; about</system-out>`);
    expect(xml).toContain(`<failure message="exit &quot;3&quot;">x &lt; y</failure>`);
    expect(xml).toContain(`<error message="did not finish"></error>`);
    expect(xml).toContain(`<skipped message="n/a"/>`);
  });
});
