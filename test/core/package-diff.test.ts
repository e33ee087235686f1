// The package comparison `bootsmith diff`, the nightly refresh's changelog and `build --locked`
// share: added, removed, changed (multi-version packages such as kernels compared as sets), and
// the markdown changelog the refresh writes from it.
import { describe, expect, it } from "vitest";
import { changelogMarkdown } from "../../src/pipeline/changelog.js";
import { diffPackages, isEmpty, packageDiffSummary } from "../../src/core/package-diff.js";

const pkg = (name: string, version: string, release = "1.el9", arch = "x86_64", epoch?: string) => ({
  name,
  version,
  release,
  arch,
  ...(epoch ? { epoch } : {}),
});

describe("diffPackages", () => {
  it("added, removed and changed, by name and arch; epochs shown when not 0", () => {
    const before = [
      pkg("bash", "5.1.8"),
      pkg("openssl", "3.0.7", "24.el9", "x86_64", "1"),
      pkg("old", "1"),
      pkg("kernel", "5.14.0", "427.el9"),
      pkg("glibc", "2.34", "100.el9", "i686"),
    ];
    const after = [
      pkg("bash", "5.1.8"),
      pkg("openssl", "3.0.7", "27.el9", "x86_64", "1"),
      pkg("new", "2"),
      pkg("kernel", "5.14.0", "427.el9"),
      pkg("kernel", "5.14.0", "503.el9"),
      pkg("glibc", "2.34", "100.el9", "i686"),
    ];
    const log = diffPackages(before, after);
    expect(log.added).toEqual([{ name: "new", arch: "x86_64", to: "2-1.el9" }]);
    expect(log.removed).toEqual([{ name: "old", arch: "x86_64", from: "1-1.el9" }]);
    expect(log.changed).toEqual([
      { name: "kernel", arch: "x86_64", from: "5.14.0-427.el9", to: "5.14.0-427.el9, 5.14.0-503.el9" },
      { name: "openssl", arch: "x86_64", from: "1:3.0.7-24.el9", to: "1:3.0.7-27.el9" },
    ]);
    expect(packageDiffSummary(log)).toBe("packages: 2 changed, 1 added, 1 removed");
    const md = changelogMarkdown("base", { builtAt: "2026-01-01T00:00:00Z" }, { builtAt: "2026-01-02T00:00:00Z" }, log);
    expect(md).toContain("# base: packages 2026-01-01T00:00:00Z → 2026-01-02T00:00:00Z");
    expect(md).toContain("## Changed\n\n- kernel.x86_64 5.14.0-427.el9 → 5.14.0-427.el9, 5.14.0-503.el9\n- openssl.x86_64 1:3.0.7-24.el9 → 1:3.0.7-27.el9");
    expect(md).toContain("## Removed\n\n- old.x86_64 1-1.el9");
  });

  it("the same list in another order is no change", () => {
    const list = [pkg("a", "1"), pkg("b", "2")];
    const log = diffPackages(list, [...list].reverse());
    expect(isEmpty(log)).toBe(true);
    expect(packageDiffSummary(log)).toBe("no package changed");
  });
});
