// bootsmith cache: argument parsing and output only; the scan and the pruning are
// src/builder/package-cache.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { formatBytes } from "../core/format.js";
import { parseCommandArgs } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { packageCacheDir } from "../builder/options.js";
import { listCachedPackages, removeCachedPackages, stalePackages, summarizeCache, type CacheSummary } from "../builder/package-cache.js";

export const cacheCommand: CliCommand = {
  name: "cache",
  summary: "Show the package caches builds share; prune what no build used lately",
  usage: `Usage: bootsmith cache [info] [--cache-dir DIR] [--json]
       bootsmith cache prune --older-than DAYS [--yes] [--cache-dir DIR] [--json]

Builds keep the packages they download in the cache directory (dnf's keepcache on the host and,
for a layer's dnf inside the image, dnf-in-image; apt's archives), so a rebuild downloads only
what changed. zypper keeps none (libzypp would install a cached package without checking it
against the keys of the image being built). The cache grows as
repositories publish updates; prune it from a nightly job.

  info    per package manager: packages, size, and when the least and most recently used
          package was last read (the default)
  prune   delete the package files (.rpm, .deb) that no build has read for DAYS days: their
          access time, or their download time on a filesystem mounted noatime (a package still
          in use is then downloaded again). Repository metadata is left to dnf.
          A dry run unless --yes. Run it while no build is running.

Options:
  --older-than DAYS  prune packages last used more than DAYS days ago (a whole number ≥ 1)
  --yes              delete (default: list what would go)
  --cache-dir DIR    the cache directory (default: $BOOTSMITH_CACHE_DIR, else /var/cache/bootsmith)
  --json             the summary or the pruning as JSON
  -h, --help         this help

Example:
  bootsmith cache prune --older-than 30 --yes

Exit codes: 0 done (or dry run), 1 the cache could not be read or changed, 2 bad arguments.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("cache", args, {
      "older-than": { type: "string" },
      yes: { type: "boolean" },
      "cache-dir": { type: "string" },
      json: { type: "boolean" },
    });
    const [verb = "info", ...extra] = positionals;
    if (extra.length > 0 || (verb !== "info" && verb !== "prune"))
      throw new UserError(
        `bootsmith cache: expected \`info\` or \`prune\`, got ${JSON.stringify(positionals.join(" "))}\nRun \`bootsmith cache --help\` for the options.`,
      );
    const cacheDir = packageCacheDir(values["cache-dir"], process.env);
    if (verb === "info") {
      if (values["older-than"] !== undefined || values.yes)
        throw new UserError("bootsmith cache info: --older-than and --yes belong to `bootsmith cache prune`");
      const summary = summarizeCache(listCachedPackages(cacheDir));
      process.stdout.write(values.json ? `${JSON.stringify({ cacheDir, managers: summary }, null, 2)}\n` : renderSummary(cacheDir, summary));
      return EXIT.ok;
    }
    const days = wholeNumber(values["older-than"]);
    if (days === undefined || days < 1)
      throw new UserError(
        `bootsmith cache prune: --older-than DAYS is required, a whole number of days ≥ 1${values["older-than"] !== undefined ? ` (got ${values["older-than"]})` : ""}`,
      );
    const stale = stalePackages(listCachedPackages(cacheDir), days, new Date());
    const freed = values.yes ? removeCachedPackages(cacheDir, stale) : 0;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ cacheDir, olderThanDays: days, dryRun: !values.yes, packages: stale, freedBytes: freed }, null, 2)}\n`);
      return EXIT.ok;
    }
    const bytes = stale.reduce((n, p) => n + p.bytes, 0);
    if (!values.yes) for (const p of stale) process.stdout.write(`would delete ${p.file}  ${formatBytes(p.bytes)}  last used ${p.lastUsed.toISOString()}\n`);
    process.stdout.write(
      values.yes
        ? `deleted ${stale.length} package(s) not used for ${days} day(s) from ${cacheDir}: ${formatBytes(freed)} freed\n`
        : `dry run: ${stale.length} package(s) not used for ${days} day(s), ${formatBytes(bytes)}; add --yes to delete them\n`,
    );
    return EXIT.ok;
  },
};

function renderSummary(cacheDir: string, summary: readonly CacheSummary[]): string {
  if (summary.length === 0) return `${cacheDir}: no cached packages\n`;
  const rows = summary.map((s) => [s.manager, String(s.packages), formatBytes(s.bytes), day(s.oldestUse), day(s.newestUse)]);
  const header = ["manager", "packages", "size", "least recently used", "most recently used"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()}\n`;
  return `${cacheDir}\n${line(header)}${rows.map(line).join("")}`;
}

const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : "-");
