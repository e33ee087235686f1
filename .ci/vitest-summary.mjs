#!/usr/bin/env node
// Reads vitest's JSON report (--reporter=json --outputFile.json=FILE), prints how many tests
// passed, failed and were skipped, names every skipped one, and exits 1 if any test was skipped
// or left as todo: in CI a skip means something the suite was meant to run did not run.
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: vitest-summary.mjs REPORT.json");
  process.exit(2);
}
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`vitest-summary: no vitest report at ${file} (${error.message}): the tests did not run`);
  process.exit(1);
}

const skipped = [];
for (const suite of report.testResults ?? []) {
  for (const test of suite.assertionResults ?? []) {
    if (test.status !== "passed" && test.status !== "failed") skipped.push(`${suite.name}: ${test.fullName} (${test.status})`);
  }
}
// vitest's numFailedTestSuites counts describe blocks too; a file failed when its result says so.
const failedFiles = (report.testResults ?? []).filter((file) => file.status === "failed").length;
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped.length} skipped` +
    ` (${report.numTotalTests} in ${report.testResults?.length ?? 0} files, ${failedFiles} files failed)`,
);
for (const line of skipped) console.log(`  skipped: ${line}`);
if (skipped.length > 0) {
  console.error(`vitest-summary: ${skipped.length} test(s) skipped; in CI every test must run (see the SKIPPED lines above for what is missing)`);
  process.exit(1);
}
process.exit(report.success === false ? 1 : 0);
