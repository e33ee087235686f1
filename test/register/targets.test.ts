import { describe, expect, it } from "vitest";
import { paramsDiff, renderDiff } from "../../src/register/diff.js";
import { fromRecipeRegistration, normalizeSelectors, validateSelectors, type RecipeRegistrationLike } from "../../src/register/targets.js";
import type { RecipeSpec } from "../../src/recipe/schema.js";

describe("diff", () => {
  it("shows params changes word by word", () => {
    expect(paramsDiff("ro root=live:http://a/r quiet", "ro root=live:http://b/r quiet x=1")).toEqual({
      removed: ["root=live:http://a/r"],
      added: ["root=live:http://b/r", "x=1"],
    });
    const changes = [
      { label: "mac 52:54:00:00:00:01", before: undefined, after: { kernel: "k2", params: "ro" } },
      { label: "nid 3", before: { kernel: "k1", params: "ro" }, after: { kernel: "k2", params: "ro" } },
      { label: "nid 4", before: { kernel: "k2", params: "ro  " }, after: { kernel: "k2", params: "ro" } },
    ];
    const text = renderDiff(changes, "dry-run");
    expect(text).toContain("+ mac 52:54:00:00:00:01: new entry");
    expect(text).toContain("~ nid 3:\n    - kernel: k1\n    + kernel: k2");
    expect(text).toContain("  nid 4: unchanged");
    expect(text).toContain("2 of 3 entries would change");
    // A real run prints the diff just before writing: not "would".
    expect(renderDiff(changes, "real").split("\n").at(-1)).toBe("changing 2 of 3 entries");
  });

  it("keeps a quoted value with spaces as one word, as the kernel parses it", () => {
    expect(paramsDiff('console=ttyS0 motd="hello big world"', 'console=ttyS0 motd="hello small world"')).toEqual({
      removed: ['motd="hello big world"'],
      added: ['motd="hello small world"'],
    });
    const text = renderDiff([{ label: "nid 1", before: { params: 'a x="1  2"' }, after: { params: 'a x="1 2"' } }], "dry-run");
    expect(text).toContain('    params:\n      - x="1  2"\n      + x="1 2"');
  });

  it("shows a change of order (the last console= is the system console), not an empty params block", () => {
    const text = renderDiff(
      [{ label: "nid 1", before: { params: "ro console=tty0 console=ttyS0" }, after: { params: "ro console=ttyS0 console=tty0" } }],
      "dry-run",
    );
    expect(text).toContain("    params (same words, new order):\n      - ro console=tty0 console=ttyS0\n      + ro console=ttyS0 console=tty0");
  });
});

describe("validateSelectors", () => {
  it("names the bad field", () => {
    expect(validateSelectors({})).toEqual(["no nodes selected: give at least one of macs, hosts or nids"]);
    expect(validateSelectors({ macs: ["52-54:00-00-00-01"] })[0]).toMatch(/^macs: "52-54:00-00-00-01" is not a MAC address/);
    expect(validateSelectors({ macs: ["52-54-00-AA-00-01", "52:54:00:aa:00:01"] })).toEqual([]);
    expect(validateSelectors({ nids: [-1] })[0]).toMatch(/^nids:/);
    expect(validateSelectors({ macs: ["52:54:00:AA:00:01"], hosts: ["x1000c0s0b0n0"], nids: [1] })).toEqual([]);
    expect(validateSelectors({ hosts: ["nid001", "Default", "52:54:00:aa:00:01"] })).toEqual([
      'hosts: "52:54:00:aa:00:01" is a MAC address: give it in macs, not as a host name',
    ]);
  });

  it("refuses a NID BSS cannot store (its nids are int32): sent, it would be refused or truncated", () => {
    expect(validateSelectors({ nids: [2147483647] })).toEqual([]);
    expect(validateSelectors({ nids: [2147483648] })).toEqual(["nids: 2147483648 is out of range: BSS stores node numbers as 32-bit integers, 0–2147483647"]);
  });
});

describe("normalizeSelectors", () => {
  it("spells every MAC as BSS stores it (lower case, colons), once", () => {
    expect(normalizeSelectors({ macs: ["52-54-00-AA-00-01", "52:54:00:aa:00:01", "52:54:00:AA:00:02"] }).macs).toEqual([
      "52:54:00:aa:00:01",
      "52:54:00:aa:00:02",
    ]);
  });
});

describe("fromRecipeRegistration", () => {
  it("splits a recipe register: entry into target, selectors and site params", () => {
    expect(
      fromRecipeRegistration({
        type: "bss",
        url: "https://bss:8443",
        macs: ["52:54:00:00:00:01"],
        hosts: [],
        nids: [3],
        params: "quiet",
        tokenEnv: "SITE_TOKEN",
      }),
    ).toEqual({
      target: { type: "bss", url: "https://bss:8443", tokenEnv: "SITE_TOKEN" },
      selectors: { macs: ["52:54:00:00:00:01"], hosts: [], nids: [3] },
      extraParams: "quiet",
    });
    // The recipe schema's output type fits (a compile-time check: the schema and this type must agree).
    const fromRecipe: (r: RecipeSpec["register"][number]) => RecipeRegistrationLike = (r) => r;
    expect(typeof fromRecipe).toBe("function");
    expect(
      fromRecipeRegistration({ type: "boot-service", url: "http://bs", name: "c", groups: ["compute"], priority: 0, legacy: false, params: "" }).target,
    ).toEqual({ type: "boot-service", url: "http://bs", name: "c", groups: ["compute"], priority: 0 });
  });
});
