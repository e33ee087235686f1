import { afterEach, describe, expect, it, vi } from "vitest";
import { inCi, mainJobArtifacts, MissingPrerequisiteError, missingPrerequisites } from "./prerequisites.js";

const qemu = { need: "qemu-system-x86_64", present: false, install: "apt-get install qemu-system-x86" };
afterEach(() => vi.restoreAllMocks());

describe("missingPrerequisites", () => {
  it("fails in CI, naming what is missing and how to install it", () => {
    expect(() => missingPrerequisites("qemu-boot.test", [qemu, { ...qemu, need: "ok", present: true }], { CI: "true" })).toThrow(
      new MissingPrerequisiteError("qemu-boot.test", [qemu]),
    );
    expect(() => missingPrerequisites("x", [qemu], { CI: "1" })).toThrow(
      "x: missing in CI, where nothing may be skipped: qemu-system-x86_64 (apt-get install qemu-system-x86)",
    );
  });

  it("skips outside CI and says what to install", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(missingPrerequisites("qemu-boot.test", [qemu], { CI: "" })).toBe(true);
    expect(warn).toHaveBeenCalledWith("SKIPPED qemu-boot.test: needs qemu-system-x86_64 (apt-get install qemu-system-x86)");
  });

  it("runs when everything is present, in CI or not", () => {
    expect(missingPrerequisites("t", [{ ...qemu, present: true }], { CI: "true" })).toBe(false);
    expect(missingPrerequisites("t", [], {})).toBe(false);
  });

  it("reads CI as vitest does", () => {
    expect([undefined, "", "0", "false", "FALSE"].map((CI) => inCi({ CI }))).toEqual([false, false, false, false, false]);
    expect(["true", "1", "yes"].map((CI) => inCi({ CI }))).toEqual([true, true, true]);
  });
});

describe("mainJobArtifacts", () => {
  it("is missing without BOOTSMITH_TEST_ARTIFACTS or without its files", () => {
    expect(mainJobArtifacts(["vmlinuz"], {})).toMatchObject({ present: false, need: "BOOTSMITH_TEST_ARTIFACTS (the main job's vmlinuz)" });
    expect(mainJobArtifacts(["vmlinuz", "tsconfig.json"], { BOOTSMITH_TEST_ARTIFACTS: "test" })).toMatchObject({
      present: false,
      need: "vmlinuz in BOOTSMITH_TEST_ARTIFACTS=test",
    });
    expect(mainJobArtifacts(["tsconfig.json"], { BOOTSMITH_TEST_ARTIFACTS: "test" })).toMatchObject({ present: true, dir: "test" });
  });
});
