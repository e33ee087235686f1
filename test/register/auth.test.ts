// Where the bearer token comes from: a target that names its variable must find it set, instead
// of falling back to another source's (possibly another cluster's) token.
import { describe, expect, it } from "vitest";
import { resolveToken } from "../../src/register/auth.js";
import { UserError } from "../../src/core/errors.js";

const URL = "https://bss.example:8443";
const base = { configPaths: [] as string[] };

describe("resolveToken", () => {
  it("takes the named variable's token, and says where it came from", () => {
    const r = resolveToken(URL, { ...base, tokenEnv: "SITE_TOKEN", env: { SITE_TOKEN: "t-site", BSS_TOKEN: "t-bss" } });
    expect(r).toMatchObject({ token: "t-site", source: "$SITE_TOKEN" });
  });

  it("refuses a named variable that is unset or empty (exit 2), rather than use $BSS_TOKEN", () => {
    for (const env of [{ BSS_TOKEN: "t-bss" }, { SITE_TOKEN: "", BSS_TOKEN: "t-bss" }]) {
      let error: unknown;
      try {
        resolveToken(URL, { ...base, tokenEnv: "SITE_TOKEN", env });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).exitCode).toBe(2);
      expect((error as Error).message).toBe(
        `register to ${URL}: the token variable it names, $SITE_TOKEN (tokenEnv / --token-env), is not set or empty: export SITE_TOKEN=<token>, or leave tokenEnv out to use $BSS_TOKEN or the ochami cluster's token`,
      );
    }
  });

  it("--token wins over the named variable, set or not; without a named one $BSS_TOKEN is used", () => {
    expect(resolveToken(URL, { ...base, token: "t-flag", tokenEnv: "SITE_TOKEN", env: {} })).toMatchObject({ token: "t-flag", source: "--token" });
    expect(resolveToken(URL, { ...base, env: { BSS_TOKEN: "t-bss" } })).toMatchObject({ token: "t-bss", source: "$BSS_TOKEN" });
    expect(resolveToken(URL, { ...base, env: {} })).toMatchObject({ source: "none" });
  });
});
