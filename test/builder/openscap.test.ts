// The scan verdict on XCCDF results shaped as oscap 1.3 writes them (oscap xccdf eval --results):
// counts by result and severity, the threshold, and the refusal of a scan in which nothing applied.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { judgeScan, parseXccdfResults, ScanThresholdError } from "../../src/builder/openscap.js";

function results(rules: readonly [string, string, string][]): string {
  const body = rules
    .map(
      ([id, severity, result]) =>
        `    <rule-result idref="xccdf_org.ssgproject.content_rule_${id}" role="full" time="2026-12-01T17:55:45+00:00" severity="${severity}" weight="1.000000">\n      <result>${result}</result>\n    </rule-result>`,
    )
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_org.ssgproject.content_benchmark_DEBIAN-11" resolved="1" xml:lang="en-US">
  <Rule id="xccdf_org.ssgproject.content_rule_unrelated" severity="high" selected="false"><title>not a result</title></Rule>
  <TestResult id="xccdf_org.open-scap_testresult_xccdf_org.ssgproject.content_profile_standard" version="0.1.65">
    <benchmark href="/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml" id="xccdf_org.ssgproject.content_benchmark_DEBIAN-11"/>
    <profile idref="xccdf_org.ssgproject.content_profile_standard"/>
${body}
    <score system="urn:xccdf:scoring:default" maximum="100.000000">29.687500</score>
  </TestResult>
</Benchmark>
`;
}

const RULES: [string, string, string][] = [
  ["package_ntp_installed", "high", "fail"],
  ["service_ntp_enabled", "high", "fail"],
  ["partition_for_tmp", "low", "fail"],
  ["package_rsyslog_installed", "medium", "fail"],
  ["accounts_no_uid_except_zero", "high", "pass"],
  ["sshd_disable_root_login", "medium", "notapplicable"],
  ["gnome_gdm_disable_xdmcp", "high", "notselected"],
  ["odd_rule", "bogus", "fail"],
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bootsmith-scan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(rules: readonly [string, string, string][], name = "results.xml"): string {
  const file = path.join(dir, name);
  writeFileSync(file, results(rules));
  return file;
}

const base = { profile: "xccdf_org.ssgproject.content_profile_standard", datastream: "/ds.xml", files: ["openscap-report.html"] };

describe("parseXccdfResults", () => {
  it("reads the rule results of the TestResult, not the benchmark's rules", () => {
    const parsed = parseXccdfResults(results(RULES), "r.xml");
    expect(parsed.benchmark).toBe("xccdf_org.ssgproject.content_benchmark_DEBIAN-11");
    expect(parsed.rules).toHaveLength(RULES.length);
    expect(parsed.rules[0]).toEqual({ rule: "xccdf_org.ssgproject.content_rule_package_ntp_installed", result: "fail", severity: "high" });
    // A severity outside XCCDF's list counts as unknown.
    expect(parsed.rules.at(-1)!.severity).toBe("unknown");
    expect(parsed.score).toBeCloseTo(29.6875);
  });

  it("refuses a document without a TestResult, naming the file", () => {
    expect(() => parseXccdfResults('<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"/>', "/x/ds.xml")).toThrow(
      /\/x\/ds\.xml: no XCCDF TestResult/,
    );
  });
});

describe("judgeScan", () => {
  it("counts per result and severity and records them even when it fails the build", () => {
    const record = path.join(dir, "work", "openscap.json");
    let error: unknown;
    try {
      judgeScan({ ...base, dir, results: write(RULES), failOn: { severity: "high", max: 1 } }, record);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScanThresholdError);
    expect((error as ScanThresholdError).exitCode).toBe(1);
    expect((error as Error).message).toBe(
      "openscap: 2 failed rule(s) of severity high or higher, more than failOn.max 1: package_ntp_installed (high), service_ntp_enabled (high)",
    );
    expect((error as ScanThresholdError).hint).toContain(path.join(dir, "openscap-report.html"));
    const written = JSON.parse(readFileSync(record, "utf8"));
    expect(written).toMatchObject({
      results: { fail: 5, pass: 1, notapplicable: 1, notselected: 1 },
      failedBySeverity: { high: 2, low: 1, medium: 1, unknown: 1 },
      passedBySeverity: { high: 1 },
      counted: 2,
      remediated: false,
    });
  });

  it("passes at the limit, and counts the threshold's severity and those above it", () => {
    const file = write(RULES);
    expect(judgeScan({ ...base, dir, results: file, failOn: { severity: "high", max: 2 } }, path.join(dir, "a.json")).counted).toBe(2);
    expect(judgeScan({ ...base, dir, results: file, failOn: { severity: "medium", max: 3 } }, path.join(dir, "b.json")).counted).toBe(3);
    expect(judgeScan({ ...base, dir, results: file, failOn: { severity: "unknown", max: 5 } }, path.join(dir, "c.json")).counted).toBe(5);
    expect(() => judgeScan({ ...base, dir, results: file, failOn: { severity: "low", max: 3 } }, path.join(dir, "d.json"))).toThrow(
      /4 failed rule\(s\) of severity low/,
    );
  });

  it("records the failures before remediation", () => {
    const before = write(RULES, "before.xml");
    const after = write(
      RULES.map(([id, sev, res]) => [id, sev, id === "partition_for_tmp" ? "pass" : res]),
      "after.xml",
    );
    const record = judgeScan({ ...base, dir, results: after, before, failOn: { severity: "high", max: 2 } }, path.join(dir, "r.json"));
    expect(record).toMatchObject({ remediated: true, failedBeforeRemediation: 5, results: { fail: 4, pass: 2 } });
  });

  it("fails a scan in which no rule applied: the content's platform does not match the image", () => {
    const file = write([
      ["package_ntp_installed", "high", "notapplicable"],
      ["partition_for_tmp", "low", "notapplicable"],
    ]);
    expect(() => judgeScan({ ...base, dir, results: file, failOn: { severity: "high", max: 0 } }, path.join(dir, "r.json"))).toThrow(
      /no rule of profile xccdf_org\.ssgproject\.content_profile_standard applied to the image \(2 not applicable\)/,
    );
  });
});
