// A successful buildah probe (driver mounts, isolation runs) holds until the next reboot or the
// next buildah upgrade, and costs ~0.6 s of throwaway containers: remember it in /run (a tmpfs,
// emptied at boot), keyed on everything that could change the answer. Failures are never cached,
// and `bootsmith doctor` always probes afresh.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { probeBuildah, type ProbeOptions, type ProbeResult } from "./host-probe.js";

export const DEFAULT_PROBE_CACHE_DIR = "/run/bootsmith/probes";

export interface CachedProbeOptions extends ProbeOptions {
  /** Directory for cached results; undefined disables the cache. */
  readonly cacheDir?: string;
}

export async function cachedProbeBuildah(options: CachedProbeOptions): Promise<ProbeResult> {
  const file = options.cacheDir ? path.join(options.cacheDir, `${probeKey(options)}.json`) : undefined;
  if (file) {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as ProbeResult;
    } catch {
      // not cached yet (or unreadable): probe
    }
  }
  const result = await probeBuildah(options);
  if (file && !result.driverError && result.isolationOk === true) {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(`${file}.${process.pid}`, JSON.stringify(result));
      renameSync(`${file}.${process.pid}`, file);
    } catch {
      // a cache that cannot be written only costs the next build another probe
    }
  }
  return result;
}

function probeKey(o: ProbeOptions): string {
  const binary = statSync(o.buildah);
  const parts = [o.buildah, binary.size, binary.mtimeMs, o.driver, o.isolation, o.parent, o.busybox ?? "", readBootId()];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}
