// Tool versions are remembered per binary (path, inode, size, mtime): the second build does not
// run `--version` again, and a changed binary is asked afresh. A fake tool (a shell script
// named buildah on a private PATH) stands in.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { detectTool, TOOLS } from "../../src/builder/host-tools.js";
import { silentReporter } from "../../src/exec/events.js";

const work = mkdtempSync(path.join(tmpdir(), "bootsmith-version-cache-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const spec = TOOLS.find((t) => t.name === "buildah")!;
const bin = path.join(work, "bin");
const tool = path.join(bin, "buildah");
const fake = (version: string) => writeFileSync(tool, `#!/bin/sh\necho "buildah version ${version} (image-spec 1.1.0)"\n`, { mode: 0o755 });

describe("tool versions cached per binary", () => {
  it("asks once, answers from the cache while the binary is the same, asks again when it changes", async () => {
    mkdirSync(bin);
    const cacheDir = path.join(work, "cache");
    fake("1.28.2");
    expect((await detectTool(spec, bin, silentReporter, undefined, cacheDir)).version).toBe("1.28.2");
    const [file] = readdirSync(cacheDir);
    expect(file).toMatch(/\.json$/);
    // Prove the next answer comes from the file, not from running the tool.
    writeFileSync(path.join(cacheDir, file!), JSON.stringify({ version: "from-the-cache" }));
    expect((await detectTool(spec, bin, silentReporter, undefined, cacheDir)).version).toBe("from-the-cache");
    // Without a cache directory (bootsmith doctor) the tool is always asked.
    expect((await detectTool(spec, bin, silentReporter)).version).toBe("1.28.2");
    // An upgrade changes the file: asked afresh.
    fake("1.29.10");
    expect((await detectTool(spec, bin, silentReporter, undefined, cacheDir)).version).toBe("1.29.10");
  });

  it("caches no failure", async () => {
    const cacheDir = path.join(work, "cache-fail");
    writeFileSync(tool, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    expect((await detectTool(spec, bin, silentReporter, undefined, cacheDir)).error).toBeTruthy();
    expect(() => readdirSync(cacheDir)).toThrow();
  });
});
