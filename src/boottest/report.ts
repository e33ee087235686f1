// What a boot-test leaves behind for people and CI: boot-test.json (the whole result), a
// breakdown table, JUnit cases (one per boot phase, one per check), and a short record in the
// artifacts' manifest.json (bootTest.lastRun) so a published image carries its last boot proof.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { MANIFEST_FILE, type BootTestRecord, type Manifest } from "../core/manifest.js";
import type { JunitCase } from "../core/junit.js";
import type { BootTestResult } from "./result.js";
import type { Silence } from "./timeline.js";
import { formatBytes, formatRate } from "../core/format.js";
import { replaceFile } from "../core/replace-file.js";

export const REPORT_FILE = "boot-test.json";

/** boot-test.json: the result as data, with when it ran. */
export function reportJson(result: BootTestResult, at: Date = new Date()): string {
  return JSON.stringify({ at: at.toISOString(), ...result }, null, 2) + "\n";
}

/** The breakdown as an aligned text table. */
export function formatBreakdown(result: BootTestResult): string[] {
  const b = result.breakdown;
  if (!b || b.phases.length === 0) return [];
  const rows = b.phases.map((p) => [
    p.name,
    `${p.seconds.toFixed(1)} s`,
    `${p.endSeconds.toFixed(1)} s`,
    p.bytes !== undefined ? formatBytes(p.bytes) : "",
    p.bytes !== undefined && p.transferSeconds !== undefined
      ? `${p.transferSeconds.toFixed(1)} s${p.transferSeconds > 0 ? `, ${formatRate(p.bytes, p.transferSeconds)}` : ""}`
      : "",
  ]);
  const sum = b.phases.reduce((s, p) => s + p.seconds, 0);
  const all = [["phase", "took", "at", "bytes", "transfer"], ...rows, ["total", `${b.totalSeconds.toFixed(1)} s`, "", "", `phases sum to ${sum.toFixed(1)} s`]];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const table = all.map((r) =>
    r
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  return b.longestSilence ? [...table, ...formatSilence(b.longestSilence)] : table;
}

/** Where the console went quiet: the lines around the gap name what the node was waiting for. */
function formatSilence(s: Silence): string[] {
  const downloading = s.downloadingSeconds > 0 ? `, ${s.downloadingSeconds.toFixed(1)} s of it downloading` : "";
  return [
    `no console output for ${s.seconds.toFixed(1)} s from ${s.fromSeconds.toFixed(1)} s${downloading}:`,
    `  after: ${s.after ?? "(QEMU's start)"}`,
    `  until: ${s.until ?? "(the boot-test stopped)"}`,
  ];
}

/** One JUnit case per boot phase and per check; a boot that failed before its checks is one failed case. */
export function junitCases(result: BootTestResult): JunitCase[] {
  if (result.nodeResults) return result.nodeResults.flatMap((n, i) => junitCases(n).map((c) => ({ ...c, name: `node ${i + 1}: ${c.name}` })));
  const cases: JunitCase[] = (result.breakdown?.phases ?? []).map((p) => ({
    name: `phase: ${p.name}`,
    seconds: p.seconds,
    status: "passed",
    ...(p.bytes !== undefined ? { body: `${p.bytes} bytes${p.transferSeconds !== undefined ? ` in ${p.transferSeconds} s` : ""}` } : {}),
  }));
  if (!result.ok && result.reason !== "check-failed") {
    cases.push({
      name: "boot",
      seconds: result.elapsedSeconds,
      status: "failed",
      message: `${result.reason}: ${result.message}`,
      body: result.consoleTail.join("\n"),
    });
  }
  for (const c of result.checks) {
    const body = [`exit code: ${c.exitCode ?? "none"}`, "--- stdout", c.stdout.trimEnd(), "--- stderr", c.stderr.trimEnd()].join("\n");
    const name = `check: ${c.name}${c.builtin ? " (built-in)" : ""}`;
    const seconds = c.seconds ?? 0;
    if (c.status === "pass") cases.push({ name, seconds, status: "passed", body });
    else if (c.status === "skip") cases.push({ name, seconds, status: "skipped", message: c.message });
    else cases.push({ name, seconds, status: "failed", message: c.message, body });
  }
  return cases;
}

export function manifestRecord(result: BootTestResult, at: Date = new Date()): BootTestRecord {
  return {
    at: at.toISOString(),
    ok: result.ok,
    ...(result.breakdown ? { totalSeconds: result.breakdown.totalSeconds } : {}),
    phases: (result.breakdown?.phases ?? []).map((p) => ({ name: p.name, seconds: p.seconds, ...(p.bytes !== undefined ? { bytes: p.bytes } : {}) })),
    checks: result.checks.map((c) => ({ name: c.name, status: c.status, ...(c.seconds !== undefined ? { seconds: c.seconds } : {}) })),
  };
}

/**
 * Record the run in the artifact directory's manifest.json (bootTest.lastRun), written to a new
 * file renamed over it: a reader never sees half a manifest, and hard-linked copies of the
 * directory (a published one) keep theirs. No manifest: nothing to do.
 */
export async function recordInManifest(artifactDir: string, record: BootTestRecord): Promise<boolean> {
  const file = path.join(artifactDir, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(file, "utf8")) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const updated: Manifest = { ...manifest, bootTest: { timeoutSeconds: manifest.bootTest?.timeoutSeconds ?? 300, ...manifest.bootTest, lastRun: record } };
  await replaceFile(file, JSON.stringify(updated, null, 2) + "\n");
  return true;
}
