// Credentials written into a recipe's repositories are secrets without being declared: a private
// mirror's user:password in baseurl or gpgkey, dnf's password= in a repository's content, a
// 'deb …' mirror line. They are hidden like the proxy's (plan output here; the reporters use the
// same list), while the commands still receive them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { makeRedactor } from "../../src/exec/reporters/redact.js";
import { fixedPlanOptions } from "../plan/support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DNF = [
  "name: private",
  "packages:",
  "  manager: dnf",
  '  release: "9"',
  "  install: [kernel]",
  "  repos:",
  "    - {name: site, baseurl: 'https://mirror:pa%24%24w0rd-base@repo.site/el9', gpgkey: 'https://key:gpgkey-Secret1@repo.site/key'}",
  "    - name: vendor",
  "      content: |",
  "        [vendor]",
  "        baseurl=https://vendor.example/el9",
  "        username=site",
  "        password=vendor-Secret2",
  "        proxy_password=proxy-Secret3",
  "boot: false",
].join("\n");

describe("credentials in repositories", () => {
  it("dnf: URL passwords (as written and decoded), password= and proxy_password= are secrets, hidden in the plan", () => {
    const file = path.join(dir, "dnf.yaml");
    writeFileSync(file, `${DNF}\n`);
    const recipe = loadRecipe(file, { env: {} });
    expect(recipe.secrets).toEqual(expect.arrayContaining(["pa%24%24w0rd-base", "pa$$w0rd-base", "gpgkey-Secret1", "vendor-Secret2", "proxy-Secret3"]));
    // As `bootsmith plan` prints it (cli/plan.ts): scrubbed of the recipe's secrets.
    const script = makeRedactor(recipe.secrets)(renderPlan(plan(recipe, fixedPlanOptions())));
    for (const secret of ["pa%24%24w0rd-base", "gpgkey-Secret1", "vendor-Secret2", "proxy-Secret3"]) expect(script).not.toContain(secret);
    expect(script).toContain("username=site");
  });

  it("apt: the user:password of a 'deb …' mirror line", () => {
    const file = path.join(dir, "apt.yaml");
    writeFileSync(
      file,
      "name: deb\npackages:\n  manager: apt\n  release: bookworm\n  install: [linux-image-amd64]\n  options:\n    mirror: 'deb http://u:apt-Secret4@deb.site/debian bookworm main'\nboot: false\n",
    );
    expect(loadRecipe(file, { env: {} }).secrets).toContain("apt-Secret4");
  });
});
