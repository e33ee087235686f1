import { describe, expect, it } from "vitest";
import { firstLine, formatBytes, formatRate } from "../../src/core/format.js";

describe("formatBytes", () => {
  it("prints bytes below 1 KiB as they are, and binary units with one decimal above", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(165.2 * 1024 ** 2)).toBe("165.2 MiB");
    expect(formatBytes(2 * 1024 ** 3)).toBe("2.0 GiB");
    expect(formatBytes(3 * 1024 ** 4)).toBe("3.0 TiB");
    expect(formatBytes(2048 * 1024 ** 4)).toBe("2048.0 TiB");
  });

  it("prints a rate in the same units", () => {
    expect(formatRate(100 * 1024 ** 2, 0.5)).toBe("200.0 MiB/s");
  });
});

describe("firstLine", () => {
  it("is the first line that is not blank, trimmed", () => {
    expect(firstLine("\n   \n  up 3 days  \nsecond\n")).toBe("up 3 days");
  });
  it("is empty for blank output", () => {
    expect(firstLine("")).toBe("");
    expect(firstLine(" \n\t\n")).toBe("");
  });
});
