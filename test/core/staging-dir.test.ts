// A staging directory that becomes a published tag must be as readable as any directory the
// site creates (mkdtemp's 0700 made a dir: target unreadable to a web server's user).
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeStagingDir } from "../../src/core/staging-dir.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-staging-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("makeStagingDir", () => {
  it("creates a new directory named PREFIX + random, with the mode mkdir gives (the umask's), not 0700", async () => {
    const plain = path.join(work, "plain");
    mkdirSync(plain);
    const a = await makeStagingDir(path.join(work, ".1.tmp-"));
    const b = await makeStagingDir(path.join(work, ".1.tmp-"));
    expect(a).not.toBe(b);
    expect(path.basename(a)).toMatch(/^\.1\.tmp-[0-9a-f]{12}$/);
    expect(statSync(a).mode & 0o777).toBe(statSync(plain).mode & 0o777);
  });

  it("a missing parent is an error, not a loop", async () => {
    await expect(makeStagingDir(path.join(work, "missing", "x-"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
