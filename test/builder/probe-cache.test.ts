import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cachedProbeBuildah } from "../../src/builder/probe-cache.js";
import { silentReporter } from "../../src/exec/events.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-probe-cache-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const base = { buildah: "/usr/bin/buildah", isolation: "chroot", parent: work, busybox: "/bin/busybox", reporter: silentReporter };

describe("cachedProbeBuildah", () => {
  it("remembers a successful probe and answers from the cache next time", { timeout: 120_000 }, async () => {
    const cacheDir = path.join(work, "cache-ok");
    const first = await cachedProbeBuildah({ ...base, driver: "vfs", cacheDir });
    expect(first).toMatchObject({ isolationOk: true });
    const [file] = readdirSync(cacheDir);
    expect(file).toMatch(/\.json$/);
    // Prove the second answer comes from the file, not from another probe.
    writeFileSync(path.join(cacheDir, file!), JSON.stringify({ isolationOk: true, isolationError: "from the cache" }));
    expect(await cachedProbeBuildah({ ...base, driver: "vfs", cacheDir })).toEqual({ isolationOk: true, isolationError: "from the cache" });
    // Another driver is another key.
    expect((await cachedProbeBuildah({ ...base, driver: "overlay", cacheDir })).isolationError).toBeUndefined();
  });

  it("never caches a failure", { timeout: 120_000 }, async () => {
    const cacheDir = path.join(work, "cache-fail");
    const result = await cachedProbeBuildah({ ...base, driver: "no-such-driver", cacheDir });
    expect(result.driverError).toBeTruthy();
    expect(() => readdirSync(cacheDir)).toThrow();
  });
});
