import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { quoteArg, renderCommand } from "../../src/exec/quote.js";

describe("quoteArg", () => {
  it.each([
    ["plain", "plain"],
    ["--installroot=/mnt", "--installroot=/mnt"],
    ["gcc-c++", "gcc-c++"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", `'it'\\''s'`],
  ])("%j -> %s", (input, expected) => {
    expect(quoteArg(input)).toBe(expected);
  });

  it("round-trips hostile values through a real shell", () => {
    const hostile = ["a b", "$HOME", "`id`", "x;rm -rf /", "'\"", "$(echo pwned)", "\\n", "*", "~root", "a\nb", "!x", "#c"];
    const line = renderCommand("printf", ["%s\\0", ...hostile]);
    const out = execFileSync("sh", ["-c", line], { encoding: "utf8" });
    expect(out.split("\0").slice(0, -1)).toEqual(hostile);
  });

  it("renders environment assignments before the command", () => {
    expect(renderCommand("dnf", ["install", "-y"], { HOME: "/tmp/x y" })).toBe("HOME='/tmp/x y' dnf install -y");
  });
});
