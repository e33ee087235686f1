// A content: apt source with a gpgkey, as the real apt-get reads it: the deb822 file bootsmith
// plans for mmdebstrap (from scratch) names the key in each stanza, and apt verifies the
// repository's InRelease with it. No buildah: apt-get update runs on the host against a signed
// file: repository (test/support/apt-repo.ts) with its own state, sources and (empty) trusted
// keyrings, so only the key the source names can verify it.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { buildAptRepo, type AptRepo } from "../support/apt-repo.js";
import { fixedPlanOptions } from "../plan/support.js";

let dir: string;
let repo: AptRepo;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "bootsmith-apt-content-key-"));
  repo = await buildAptRepo(path.join(dir, "repo"), ["hello-fixture"]);
  copyFileSync(repo.publicKey, path.join(dir, "site.asc"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The source file the plan hands mmdebstrap for a content: repository `site` (two stanzas) with gpgkey: site.asc. */
function plannedRunSource(): string {
  const stanza = `Types: deb\nURIs: file://${repo.dir}\nSuites: ${repo.suite}\nComponents: main\n`;
  const content = `# the site's packages\n${stanza}\n${stanza.replace("Types: deb", "Types: deb-src")}`;
  const file = path.join(dir, "r.yaml");
  writeFileSync(
    file,
    [
      "name: t",
      "from: scratch",
      "packages:",
      "  manager: apt",
      "  release: bookworm",
      "  repos:",
      "    - name: site",
      "      gpgkey: site.asc",
      `      content: ${JSON.stringify(content)}`,
      "boot: false",
      "",
    ].join("\n"),
  );
  const actions = plan(loadRecipe(file, { env: {} }), fixedPlanOptions()).steps.flatMap((s) => s.actions);
  const run = actions.find((a) => a.kind === "write-file" && path.basename(a.path) === "bootsmith-run-site.sources");
  if (run?.kind !== "write-file") throw new Error("the plan writes no source for mmdebstrap's run");
  return run.content;
}

/** apt-get update with only `sources` (one file) and no trusted keys of its own. */
async function aptUpdate(sources: string) {
  const apt = mkdtempSync(path.join(dir, "apt-"));
  for (const sub of ["parts", "state/lists/partial", "cache/archives/partial", "trusted"]) mkdirSync(path.join(apt, sub), { recursive: true });
  writeFileSync(path.join(apt, "parts", "site.sources"), sources);
  const opts = {
    "Dir::Etc::SourceList": "/dev/null",
    "Dir::Etc::SourceParts": path.join(apt, "parts"),
    "Dir::Etc::Trusted": "/dev/null",
    "Dir::Etc::TrustedParts": path.join(apt, "trusted"),
    "Dir::State": path.join(apt, "state"),
    "Dir::Cache": path.join(apt, "cache"),
    // the fixture's files belong to root; apt's _apt sandbox user may not read the key under /tmp
    "APT::Sandbox::User": "root",
  };
  return execa("apt-get", [...Object.entries(opts).flatMap(([k, v]) => ["-o", `${k}=${v}`]), "update"], { reject: false, all: true });
}

describe("apt verifies a content: repository with the gpgkey bootsmith names in it", () => {
  it("the planned source passes apt-get update; the same content without Signed-By is refused as unsigned", async () => {
    const planned = plannedRunSource();
    const signed = await aptUpdate(planned);
    expect(signed.exitCode, signed.all).toBe(0);
    // the check is real: without the Signed-By lines (the gpgkey dropped, as before) apt refuses it
    const unsigned = await aptUpdate(planned.replace(/^Signed-By: .*\n/gm, ""));
    expect(unsigned.exitCode).not.toBe(0);
    expect(unsigned.all).toMatch(/NO_PUBKEY|is not signed/);
  });
});
