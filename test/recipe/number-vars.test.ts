// ${NAME} in number fields: the substituted text becomes a number where the schema wants one;
// text that is not a number is reported with the field, the variable text and what it gave.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { RecipeError } from "../../src/recipe/errors.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-number-vars-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(lines: string[]): string {
  const file = path.join(dir, "r.yaml");
  writeFileSync(file, ["name: t", "from:", "  image: rockylinux:9", ...lines, "boot: false", ""].join("\n"));
  return file;
}

function loadError(file: string, vars: Record<string, string>): string {
  try {
    loadRecipe(file, { env: {}, vars });
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return (error as Error).message;
  }
  throw new Error("the recipe loaded");
}

describe("variables in number fields", () => {
  const users = ["groups:", "  - name: hpc", "    gid: ${GID}", "users:", "  - name: alice", '    uid: "${UID}"', "    group: hpc"];

  it("uid: ${UID}, quoted or not, from vars:, --var or importEnv:, is the number", () => {
    const file = recipe(["vars:", '  GID: "2000"', "importEnv: [UID]", ...users, "commands:", "  - script: id", "    timeout: ${T}"]);
    const spec = loadRecipe(file, { env: { UID: "1234" }, vars: { T: "90" } }).spec;
    expect(spec.groups[0]?.gid).toBe(2000);
    expect(spec.users[0]?.uid).toBe(1234);
    expect(spec.commands[0]?.timeout).toBe(90);
  });

  it("tlsVerify: ${TLS_VERIFY}, gpgcheck: ${CHECK}: true or false from a variable is the boolean; anything else is named", () => {
    const file = recipe(["packages:", "  manager: dnf", "  repos:", "    - name: site", "      baseurl: https://repo.local/site", "      gpgcheck: ${CHECK}"]);
    expect(loadRecipe(file, { env: {}, vars: { CHECK: "false" } }).spec.packages?.repos[0]?.gpgcheck).toBe(false);
    expect(loadRecipe(file, { env: {}, vars: { CHECK: "true" } }).spec.packages?.repos[0]?.gpgcheck).toBe(true);
    expect(loadError(file, { CHECK: "yes" })).toContain(
      `${file}:9:17: packages.repos[0].gpgcheck: must be true or false, but \${CHECK} gives "yes"; set the variable to true or false`,
    );
  });

  it("a value that is not a number: file:line, the field, the variable text and its value", () => {
    const file = recipe(["vars:", '  GID: "2000"', ...users]);
    expect(loadError(file, { UID: "alice" })).toContain(
      `${file}:11:10: users[0].uid: must be a number, but \${UID} gives "alice"; set the variable to a number`,
    );
    // the schema's own checks still apply to the number
    expect(loadError(file, { UID: "65534" })).toContain("users[0].uid: 65534 is nobody/nogroup");
    expect(loadError(file, { UID: "12.5" })).toContain("users[0].uid: must be int, not number 12.5");
  });

  it("a string field keeps the string, and a number written in quotes without variables is still an error", () => {
    const file = recipe(["tags: ['${V}']", "users:", "  - name: alice", '    uid: "1234"']);
    expect(loadError(file, { V: "1" })).toContain('users[0].uid: must be a number, not string "1234"');
    const ok = recipe(["tags: ['${V}']"]);
    expect(loadRecipe(ok, { env: {}, vars: { V: "1" } }).spec.tags).toEqual(["1"]);
  });
});
