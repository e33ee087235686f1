// scan: openscap: in real builds. A Debian minbase image is scanned by the host's oscap with
// Debian's SCAP Security Guide (ssg-debian's Debian 11 content, made applicable to Debian 12 by
// the fixture's CPE dictionary), remediated with the content's fixes, scanned again and published
// (lenient threshold). A child image scanned against a strict threshold must stop before
// publishing. One parent build serves every assertion; the child reuses its committed image.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, REPO_ROOT, type CliResult } from "../support/cli.js";
import { buildEnv, readManifest, removeImages } from "../support/fixture-build.js";
import { parseXccdfResults } from "../../src/builder/openscap.js";
import { resolveArg } from "../../src/steps/args.js";
import { renderCommand } from "../../src/exec/quote.js";
import type { Plan } from "../../src/steps/types.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/openscap");
const IMAGE = "localhost/bootsmith/fixture-openscap:1";
let work: string;
let out: string;
let publish: string;
let build: CliResult;
let planned: CliResult;
let buildSeconds: number;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-openscap-"));
  out = path.join(work, "out");
  publish = path.join(work, "published");
  const args = [path.join(FIXTURES, "recipe.yaml"), "--var", `PUBLISH_DIR=${publish}`, "--out", out, "--build-id", "openscap-test"];
  planned = await bootsmith(["plan", ...args, "--json"], { env: buildEnv(work) });
  const started = Date.now();
  build = await bootsmith(["build", ...args, "--progress", "plain"], { env: buildEnv(work), timeoutMs: 900_000 });
  buildSeconds = (Date.now() - started) / 1000;
}, 900_000);
afterAll(async () => {
  await removeImages(["fixture-openscap:1", "fixture-openscap-strict:1"]);
  rmSync(work, { recursive: true, force: true });
});

/** The oscap part of the build, from build.log's step timing, for the CI budget. */
function scanSeconds(): number | undefined {
  return readManifest(out).timings.find((t) => t.step === "openscap-scan")?.seconds;
}

describe("scan: openscap (Debian minbase image)", () => {
  it("scans, remediates, writes the reports and publishes under a lenient threshold", () => {
    expect(build.exitCode, build.stderr).toBe(0);
    console.log(`openscap fixture build: ${buildSeconds.toFixed(1)} s, of which the scan step (two oscap runs and the fixes) ${scanSeconds()} s`);
    for (const f of ["openscap-arf.xml", "openscap-results.xml", "openscap-report.html", "openscap-remediation.sh"])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    expect(readFileSync(path.join(out, "openscap-report.html"), "utf8")).toContain("xccdf_org.ssgproject.content_profile_standard");
    expect(readFileSync(path.join(out, "openscap-arf.xml"), "utf8")).toContain("asset-report-collection");

    const scan = readManifest(out).scan?.openscap;
    expect(scan).toBeDefined();
    // The counts are the results file's, per severity, and the rules did apply to Debian 12.
    const rules = parseXccdfResults(readFileSync(path.join(out, "openscap-results.xml"), "utf8"), "results").rules;
    const fails = rules.filter((r) => r.result === "fail");
    expect(scan!.results.fail).toBe(fails.length);
    expect(scan!.results.pass).toBeGreaterThan(0);
    expect(Object.values(scan!.failedBySeverity).reduce((a, b) => a + b, 0)).toBe(fails.length);
    expect(scan!.counted).toBe(fails.filter((r) => r.severity === "high").length);
    expect(scan!.counted).toBeLessThanOrEqual(5);
    expect(scan!.remediated).toBe(true);
    // Remediation fixed what the content can fix offline: logrotate's daily cron job.
    expect(scan!.failedBeforeRemediation).toBeGreaterThan(scan!.results.fail!);
    expect(rules.find((r) => r.rule.endsWith("_rule_ensure_logrotate_activated"))?.result).toBe("pass");
    expect(readdirSync(path.join(publish, "lenient", "fixture-openscap", "1"))).toContain("manifest.json");
  });

  it("runs exactly the commands bootsmith plan shows, oscap and the fixes included", () => {
    expect(planned.exitCode, planned.stderr).toBe(0);
    expect(build.exitCode).toBe(0);
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    const logged = [...log.matchAll(/^\S+ \[[^\]]+\] \+ (.*)$/gm)].map((m) => m[1]!);
    const sboms = / SBOM sha256 cyclonedx ([0-9a-f]{64}) spdx ([0-9a-f]{64})$/m.exec(log)!;
    const values = {
      MNT: /\[mount\] 1> (.+)$/m.exec(log)![1]!,
      IMAGE_ID: /\[commit\] 1> (.+)$/m.exec(log)![1]!,
      SBOM_CDX_SHA256: sboms[1]!,
      SBOM_SPDX_SHA256: sboms[2]!,
    };
    const plan = JSON.parse(planned.stdout) as Plan;
    const rendered = plan.steps.flatMap((s) =>
      s.actions.flatMap((a) =>
        "command" in a && a.command
          ? [
              renderCommand(
                a.command.file,
                a.command.args.map((x) => resolveArg(x, values)),
                a.command.env,
              ),
            ]
          : [],
      ),
    );
    expect(logged).toEqual(rendered);
    expect(rendered.filter((c) => / oscap xccdf eval /.test(` ${c}`))).toHaveLength(2);
    expect(rendered.some((c) => c.startsWith("bootsmith artifacts scan-verdict "))).toBe(true);
  });

  it("leaves the fixes in the committed image and nothing of the scan", async () => {
    expect(build.exitCode).toBe(0);
    const { stdout: container } = await execa("buildah", ["from", "--pull=never", IMAGE]);
    try {
      const { stdout: root } = await execa("buildah", ["mount", container]);
      expect(readFileSync(path.join(root, "etc/cron.daily/logrotate"), "utf8")).toContain("/usr/sbin/logrotate /etc/logrotate.conf");
      expect(existsSync(path.join(root, "var/tmp/bootsmith-openscap-remediation.sh"))).toBe(false);
      // oscap's package probe writes apt caches into a writable root; the scan's root is read-only.
      expect(readdirSync(root).filter((f) => f.startsWith("."))).toEqual([]);
      expect(existsSync(path.join(root, "var/cache/apt/pkgcache.bin"))).toBe(false);
    } finally {
      await execa("buildah", ["rm", container], { reject: false });
    }
  });

  it("stops before publishing when the strict threshold is exceeded", { timeout: 600_000 }, async () => {
    expect(build.exitCode).toBe(0);
    const strictOut = path.join(work, "strict-out");
    const result = await bootsmith(
      ["build", path.join(FIXTURES, "strict.yaml"), "--var", `PUBLISH_DIR=${publish}`, "--out", strictOut, "--progress", "plain"],
      {
        env: buildEnv(work),
      },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/openscap: \d+ failed rule\(s\) of severity high or higher, more than failOn\.max 0: .*package_ntp_installed \(high\)/);
    expect(result.stderr).toContain("hint: nothing was published");
    // Nothing published, no manifest (the set is incomplete), no image committed; the reports stay.
    expect(existsSync(path.join(publish, "strict"))).toBe(false);
    expect(existsSync(path.join(strictOut, "manifest.json"))).toBe(false);
    expect(existsSync(path.join(strictOut, "openscap-report.html"))).toBe(true);
    expect((await execa("buildah", ["inspect", "--type", "image", "localhost/bootsmith/fixture-openscap-strict:1"], { reject: false })).exitCode).not.toBe(0);
    expect((await execa("buildah", ["containers", "--format", "{{.ContainerName}}"])).stdout).not.toContain("bootsmith-fixture-openscap-strict-");
    expect((await execa("findmnt", ["-rn", "-o", "TARGET"])).stdout).not.toContain(work);
  });
});
