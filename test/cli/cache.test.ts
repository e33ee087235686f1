// `bootsmith cache` through the CLI: the summary, a dry run that deletes nothing, --yes that
// deletes only stale packages, and bad arguments (exit 2 with the fix).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith } from "../support/cli.js";

let cache: string;
const OLD = "dnf/fixture-17bb47a3bab717a7/packages/fixture-hello-2.1-3.fx.noarch.rpm";
const FRESH = "apt/archives/hello_2.10-3_amd64.deb";

beforeEach(() => {
  cache = mkdtempSync(path.join(tmpdir(), "bootsmith-cache-cli-"));
  for (const [file, ageDays] of [
    [OLD, 40],
    [FRESH, 0],
  ] as const) {
    const full = path.join(cache, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, Buffer.alloc(2048));
    const when = new Date(Date.now() - ageDays * 86_400_000);
    utimesSync(full, when, when);
  }
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

describe("bootsmith cache", () => {
  it("summarizes the cache per package manager, from $BOOTSMITH_CACHE_DIR", async () => {
    const r = await bootsmith(["cache"], { env: { BOOTSMITH_CACHE_DIR: cache } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^apt\s+1\s+2\.0 KiB/m);
    expect(r.stdout).toMatch(/^dnf\s+1\s+2\.0 KiB/m);
    const json = JSON.parse((await bootsmith(["cache", "info", "--cache-dir", cache, "--json"])).stdout) as { managers: { manager: string }[] };
    expect(json.managers.map((m) => m.manager)).toEqual(["apt", "dnf"]);
  });

  it("prune lists what would go, and deletes it only with --yes", async () => {
    const dry = await bootsmith(["cache", "prune", "--older-than", "30", "--cache-dir", cache]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would delete ${OLD}`);
    expect(dry.stdout).not.toContain(FRESH);
    expect(existsSync(path.join(cache, OLD))).toBe(true);

    const real = await bootsmith(["cache", "prune", "--older-than", "30", "--yes", "--cache-dir", cache]);
    expect(real.exitCode, real.stderr).toBe(0);
    expect(real.stdout).toContain("deleted 1 package(s) not used for 30 day(s)");
    expect(existsSync(path.join(cache, OLD))).toBe(false);
    expect(existsSync(path.join(cache, FRESH))).toBe(true);
  });

  it.each([
    [["cache", "prune"], /--older-than DAYS is required/],
    [["cache", "prune", "--older-than", "0"], /whole number of days ≥ 1 \(got 0\)/],
    [["cache", "prune", "--older-than", "3e1"], /whole number of days ≥ 1 \(got 3e1\)/],
    [["cache", "info", "--yes"], /belong to `bootsmith cache prune`/],
    [["cache", "purge"], /expected `info` or `prune`, got "purge"/],
  ])("refuses %j with exit 2", async (args, message) => {
    const r = await bootsmith([...args, "--cache-dir", cache]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(path.join(cache, OLD))).toBe(true);
  });
});
