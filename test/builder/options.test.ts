// The signing key a build uses, as builder/options.ts reads it for both `plan` and `build`: a
// relative file is relative to the recipe (signing.key) or to the working directory
// (--sign-key), env: and keyring: keys pass as written, and a value that is no key is bad input
// (exit 2) before anything runs. A tool the plan runs that the host lacks stops the build first.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { loadRecipe } from "../../src/recipe/load.js";
import { blockingProblems, planOptions } from "../../src/builder/options.js";
import { toolCheck, type HostCheck, type HostFacts } from "../../src/builder/host.js";
import type { ToolFacts } from "../../src/builder/host-tools.js";
import { plan as makePlan } from "../../src/plan/planner.js";
import { EXIT, UserError } from "../../src/core/errors.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function signedRecipe(key: string) {
  const file = path.join(dir, "signed.yaml");
  writeFileSync(file, stringify({ apiVersion: "bootsmith/v1", name: "signed", packages: { manager: "apt", release: "bookworm" }, signing: { key } }));
  return loadRecipe(file, { env: {} });
}

const settings = { buildId: "test", env: {} };

describe("planOptions: image bases", () => {
  it("--refresh (build and plan) pulls them again; otherwise the local copy is used, so offline rebuilds work", () => {
    expect(planOptions(signedRecipe("keys/sign.asc"), { ...settings, refresh: true }).pullBase).toBe("always");
    expect(planOptions(signedRecipe("keys/sign.asc"), settings).pullBase).toBeUndefined();
  });
});

describe("planOptions: the signing key", () => {
  it("a relative signing.key is relative to the recipe, --sign-key to the working directory", () => {
    expect(planOptions(signedRecipe("keys/../keys/sign.asc"), settings).sign).toEqual({ key: path.join(dir, "keys/sign.asc") });
    expect(planOptions(signedRecipe("keys/sign.asc"), { ...settings, signKey: "./other.asc" }).sign).toEqual({ key: path.resolve("other.asc") });
    expect(planOptions(signedRecipe("/etc/bootsmith/sign.asc"), settings).sign).toEqual({ key: "/etc/bootsmith/sign.asc" });
  });

  it("env: and keyring: keys pass as written, with the passphrase variable", () => {
    expect(planOptions(signedRecipe("env:SIGNING_KEY"), { ...settings, signPassphraseEnv: "PASS" }).sign).toEqual({
      key: "env:SIGNING_KEY",
      passphraseEnv: "PASS",
    });
    expect(planOptions(signedRecipe("keyring:0xDEADBEEF"), settings).sign).toEqual({ key: "keyring:0xDEADBEEF" });
  });

  it("a value that is no key is bad input (exit 2), naming where it was given", () => {
    const fromRecipe = () => planOptions(signedRecipe("env:1-not-a-name"), settings);
    expect(fromRecipe).toThrow(UserError);
    expect(fromRecipe).toThrow(`${path.join(dir, "signed.yaml")}: signing.key: env:1-not-a-name: env: must name an environment variable`);
    let fromFlag: unknown;
    try {
      planOptions(signedRecipe("keys/sign.asc"), { ...settings, signKey: "keyring:not a key id" });
    } catch (error) {
      fromFlag = error;
    }
    expect(fromFlag).toBeInstanceOf(UserError);
    expect(fromFlag).toMatchObject({ exitCode: EXIT.usage, message: expect.stringMatching(/^--sign-key: keyring:not a key id: keyring: takes a key id/) });
  });
});

describe("blockingProblems: the tools the plan runs", () => {
  const check = (id: string, status: HostCheck["status"]): HostCheck => ({ id, title: id.replace(/^tool:/, ""), status, detail: "missing" });
  // Only the checks matter here; the rest of HostFacts is what detection found on a host.
  const host = (checks: HostCheck[], toolDetails: ToolFacts[] = []) => ({ checks, toolDetails }) as unknown as HostFacts;
  const recipe = (extra: Record<string, unknown>) => {
    const file = path.join(dir, "tools.yaml");
    writeFileSync(
      file,
      stringify({
        apiVersion: "bootsmith/v1",
        name: "tools",
        from: "scratch",
        packages: { manager: "apt", release: "bookworm", install: ["linux-image-amd64"] },
        ...extra,
      }),
    );
    return loadRecipe(file, { env: {} });
  };
  const planOf = (r: ReturnType<typeof recipe>) => makePlan(r, planOptions(r, settings));

  it("stops a build before it starts when a tool its plan runs is missing, optional or not", () => {
    const apt = recipe({});
    const missing = host([check("tool:mmdebstrap", "warn"), check("tool:mksquashfs", "fail"), check("tool:qemu-system-x86_64", "warn")]);
    expect(blockingProblems(missing, planOf(apt)).map((c) => c.id)).toEqual(["tool:mmdebstrap", "tool:mksquashfs"]);
    // Without the plan (doctor's view of the host), only the host-wide checks block.
    expect(blockingProblems(missing)).toEqual([]);
  });

  it("an optional tool the plan runs reads as required, naming the package to install", () => {
    const mmdebstrap: ToolFacts = { name: "mmdebstrap", package: "mmdebstrap", need: "optional", purpose: "Debian/Ubuntu recipes" };
    const missing = host([toolCheck(mmdebstrap)], [mmdebstrap]);
    // doctor's view: optional, a warning.
    expect(missing.checks[0]).toMatchObject({ status: "warn", detail: "missing (optional: Debian/Ubuntu recipes)" });
    expect(blockingProblems(missing, planOf(recipe({})))).toEqual([
      {
        id: "tool:mmdebstrap",
        title: "mmdebstrap",
        status: "fail",
        detail: "missing (required by this recipe: Debian/Ubuntu recipes)",
        fix: "apt-get install mmdebstrap",
      },
    ]);
  });

  it("does not stop a recipe that never runs the missing tool", () => {
    const noBoot = recipe({ boot: false });
    expect(blockingProblems(host([check("tool:mksquashfs", "fail")]), planOf(noBoot))).toEqual([]);
  });
});
