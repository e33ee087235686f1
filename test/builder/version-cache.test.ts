// Tool versions are remembered per binary (path, inode, size, mtime): the second build does not
// run `--version` again, and a changed binary is asked afresh. A fake tool (a shell script
// named buildah on a private PATH) stands in.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { detectHost } from "../../src/builder/host.js";
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
    mkdirSync(bin, { recursive: true });
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
    mkdirSync(bin, { recursive: true });
    writeFileSync(tool, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    expect((await detectTool(spec, bin, silentReporter, undefined, cacheDir)).error).toBeTruthy();
    expect(() => readdirSync(cacheDir)).toThrow();
  });
});

describe("buildah's default storage paths cached per binary and storage configuration", () => {
  it("asks `buildah info` once, and again when a storage.conf appears", async () => {
    const dir = path.join(work, "storage-info");
    const fakeBin = path.join(dir, "bin");
    mkdirSync(fakeBin, { recursive: true });
    const calls = path.join(dir, "info-calls");
    const conf = path.join(dir, "conf", "storage.conf");
    mkdirSync(path.dirname(conf));
    // A stand-in buildah: its version, and `info` answers with paths under the test directory
    // (counting the calls); anything else fails, so the driver probe fails fast.
    writeFileSync(
      path.join(fakeBin, "buildah"),
      `#!/bin/sh\ncase "$1" in\n--version) echo "buildah version 1.28.2" ;;\ninfo) echo x >> ${calls}; printf '%s\\t%s\\n' ${dir}/graph ${dir}/run ;;\n*) exit 1 ;;\nesac\n`,
      { mode: 0o755 },
    );
    const cacheDir = path.join(dir, "cache");
    const env = { PATH: fakeBin, HOME: dir, CONTAINERS_STORAGE_CONF: conf };
    const infoCalls = () => readFileSync(calls, "utf8").split("\n").filter(Boolean).length;

    const first = await detectHost({ env, versionCacheDir: cacheDir });
    expect(first.storageRoot).toBe(path.join(dir, "graph"));
    expect(first.runRoot).toBe(path.join(dir, "run"));
    expect(infoCalls()).toBe(1);
    const second = await detectHost({ env, versionCacheDir: cacheDir });
    expect([second.storageRoot, second.runRoot]).toEqual([first.storageRoot, first.runRoot]);
    expect(infoCalls()).toBe(1);
    // A storage.conf where there was none may move the storage: asked afresh.
    writeFileSync(conf, "[storage]\n");
    await detectHost({ env, versionCacheDir: cacheDir });
    expect(infoCalls()).toBe(2);
    // Without a cache directory (bootsmith doctor) buildah is always asked.
    await detectHost({ env });
    expect(infoCalls()).toBe(3);
  });
});
