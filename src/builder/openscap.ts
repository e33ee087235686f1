// The verdict on an OpenSCAP scan: read the XCCDF results oscap wrote, count the rule results
// by severity, record them for manifest.json, and fail the build when more rules of the
// threshold's severity failed than the recipe allows. oscap's own exit code only says "some
// rule failed" (2); the recipe's threshold is what decides.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { BootsmithError, EXIT } from "../core/errors.js";
import type { ScanCounts, ScanRecord } from "../core/manifest.js";
import { SCAN_SEVERITIES, type ScanSeverity } from "../recipe/schema.js";

/** One rule's outcome in an XCCDF TestResult. */
export interface RuleResult {
  readonly rule: string;
  readonly result: string;
  readonly severity: ScanSeverity;
}

export interface XccdfResults {
  readonly benchmark?: string;
  readonly rules: readonly RuleResult[];
  readonly score?: number;
}

export interface ScanVerdictInputs {
  /** The XCCDF results file (oscap --results) of the scan that is judged. */
  readonly results: string;
  /** With remediation: the first scan's results, before the fixes ran. */
  readonly before?: string;
  readonly profile: string;
  readonly datastream: string;
  readonly failOn: { readonly severity: ScanSeverity; readonly max: number };
  /** The output directory, and the files the scan left in it (names). */
  readonly dir: string;
  readonly files: readonly string[];
}

/** More failed rules of the threshold's severity than allowed: the build stops before publish. */
export class ScanThresholdError extends BootsmithError {
  constructor(
    message: string,
    readonly record: ScanRecord,
    hint: string,
  ) {
    super(message, EXIT.failed, { hint });
  }
}

// XCCDF 1.2 results use the namespace as default (no prefix) in oscap's output; removeNSPrefix
// also accepts a prefixed document (xccdf:TestResult), as other tools write it.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  removeNSPrefix: true,
  isArray: (name) => name === "rule-result" || name === "TestResult",
});

/** The rule results of the (last) TestResult in an XCCDF results document. */
export function parseXccdfResults(xml: string, where: string): XccdfResults {
  const doc = parser.parse(xml) as Record<string, unknown>;
  const benchmark = doc.Benchmark as Record<string, unknown> | undefined;
  const testResults = ((benchmark?.TestResult ?? (doc as { TestResult?: unknown }).TestResult) as Record<string, unknown>[] | undefined) ?? [];
  const test = testResults[testResults.length - 1];
  if (!test) throw new BootsmithError(`${where}: no XCCDF TestResult in the file; is it the output of oscap xccdf eval --results?`);
  const rules = ((test["rule-result"] as Record<string, unknown>[] | undefined) ?? []).map((r) => ({
    rule: typeof r.idref === "string" ? r.idref : "?",
    result: typeof r.result === "string" ? r.result : "unknown",
    severity: severityOf(r.severity),
  }));
  const scoreNode = test.score;
  const scoreText = typeof scoreNode === "object" && scoreNode !== null ? (scoreNode as Record<string, unknown>)["#text"] : scoreNode;
  const score = scoreText === undefined ? undefined : Number(scoreText);
  return {
    ...(typeof benchmark?.id === "string" ? { benchmark: benchmark.id } : {}),
    rules,
    ...(score !== undefined && Number.isFinite(score) ? { score } : {}),
  };
}

function severityOf(value: unknown): ScanSeverity {
  return (SCAN_SEVERITIES as readonly unknown[]).includes(value) ? (value as ScanSeverity) : "unknown";
}

function countBy<T>(items: readonly T[], key: (t: T) => string): ScanCounts {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Rules that count against the threshold: failed, of its severity or higher. */
export function countedFailures(rules: readonly RuleResult[], severity: ScanSeverity): RuleResult[] {
  const floor = SCAN_SEVERITIES.indexOf(severity);
  return rules.filter((r) => r.result === "fail" && SCAN_SEVERITIES.indexOf(r.severity) >= floor);
}

export function scanRecord(inputs: ScanVerdictInputs): ScanRecord {
  const parsed = parseXccdfResults(readFileSync(inputs.results, "utf8"), inputs.results);
  const before = inputs.before ? parseXccdfResults(readFileSync(inputs.before, "utf8"), inputs.before) : undefined;
  const relevant = parsed.rules.filter((r) => r.result !== "notselected");
  return {
    tool: "openscap",
    profile: inputs.profile,
    datastream: inputs.datastream,
    ...(parsed.benchmark ? { benchmark: parsed.benchmark } : {}),
    results: countBy(parsed.rules, (r) => r.result),
    failedBySeverity: countBy(
      relevant.filter((r) => r.result === "fail"),
      (r) => r.severity,
    ),
    passedBySeverity: countBy(
      relevant.filter((r) => r.result === "pass"),
      (r) => r.severity,
    ),
    ...(parsed.score !== undefined ? { score: parsed.score } : {}),
    failOn: inputs.failOn,
    counted: countedFailures(parsed.rules, inputs.failOn.severity).length,
    remediated: before !== undefined,
    ...(before ? { failedBeforeRemediation: before.rules.filter((r) => r.result === "fail").length } : {}),
    files: inputs.files,
  };
}

/**
 * Judge a scan: write its record (for manifest.json) to `recordFile`, then throw when the
 * threshold is exceeded. A scan in which no selected rule applied also fails: the content's
 * platform (CPE) does not match the image, so a "0 failures" verdict would mean nothing.
 */
export function judgeScan(inputs: ScanVerdictInputs, recordFile: string): ScanRecord {
  const record = scanRecord(inputs);
  mkdirSync(path.dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  const evaluated = (record.results.pass ?? 0) + (record.results.fail ?? 0);
  if (evaluated === 0)
    throw new ScanThresholdError(
      `openscap: no rule of profile ${inputs.profile} applied to the image (${record.results.notapplicable ?? 0} not applicable): the data stream's platform does not match it`,
      record,
      "the content targets another release (Debian 12's ssg-debian ships Debian 10 and 11 content only): name a data stream for the image's release, or give scan.openscap.cpe a CPE dictionary that declares the image a platform of the content",
    );
  if (record.counted > inputs.failOn.max) {
    const parsed = parseXccdfResults(readFileSync(inputs.results, "utf8"), inputs.results);
    const failed = countedFailures(parsed.rules, inputs.failOn.severity);
    const shown = failed.slice(0, 10).map((r) => `${r.rule.replace(/^xccdf_org\.ssgproject\.content_rule_/, "")} (${r.severity})`);
    throw new ScanThresholdError(
      `openscap: ${record.counted} failed rule(s) of severity ${inputs.failOn.severity} or higher, more than failOn.max ${inputs.failOn.max}: ${shown.join(", ")}${failed.length > shown.length ? ", …" : ""}`,
      record,
      `nothing was published; the report is ${path.join(inputs.dir, inputs.files.find((f) => f.endsWith(".html")) ?? "")}. Fix the image (packages, files, commands), set scan.openscap.remediate: true, tailor the profile (scan.openscap.tailoring), or raise scan.openscap.failOn`,
    );
  }
  return record;
}

export function readScanRecord(file: string): ScanRecord {
  return JSON.parse(readFileSync(file, "utf8")) as ScanRecord;
}
