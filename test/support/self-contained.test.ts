// A plain `git clone` runs the suite: no test, benchmark or script reads a file outside the
// repository (such as a ../shared checkout beside it), and the helpers they run are tracked.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./cli.js";
import { CEPH_TOOL } from "../publish/support/ceph.js";

const tracked = execFileSync("git", ["-C", REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" })
  .split("\0")
  .filter(Boolean);
const code = tracked.filter((f) => /^(test|bench|scripts|\.ci|src)\//.test(f) && /\.(ts|mjs|js|sh)$/.test(f) && f !== "test/support/self-contained.test.ts");

describe("the repository is self-contained", () => {
  it("no code names a path outside the repository", () => {
    const outside = code.filter((f) => /\.\.\/shared\b|\/work\//.test(readFileSync(path.join(REPO_ROOT, f), "utf8")));
    expect(outside).toEqual([]);
  });

  it("the Ceph S3 tool the S3 tests start is part of the repository", () => {
    expect(path.relative(REPO_ROOT, CEPH_TOOL)).toBe("test/support/ceph-s3.sh");
    expect(tracked).toContain("test/support/ceph-s3.sh");
  });
});
