// `bootsmith publish` end to end for a directory target, and its argument and failure handling.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { exitCodeFor } from "../../src/cli/main.js";
import { publishCommand } from "../../src/cli/publish.js";
import { makeFakeImage } from "../publish/support/artifacts.js";
import { freePort } from "../publish/support/ceph.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bootsmith-cli-pub-"));
  dirs.push(dir);
  return dir;
}

/** Run the command, capturing what it writes (the command itself runs for real). */
async function runPublish(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    // As main.ts runs a command: it reports any error and returns its exit code.
    const code = await publishCommand.run(args).catch(exitCodeFor);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

describe("bootsmith publish", () => {
  it("publishes to a directory, prints one line per object and the PublishedImage with --json", async () => {
    const image = await makeFakeImage({ dir: await tempDir(), tags: ["7"], sizes: { kernel: 2048, initrd: 4096, rootfs: 1 << 20 } });
    const out = await tempDir();
    const first = await runPublish([image.dir, "--to", `dir:${out}`, "--public-base", "http://10.0.2.2:8080", "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      name: "test-image",
      tag: "7",
      target: "local",
      urls: {
        kernel: "http://10.0.2.2:8080/test-image/7/vmlinuz",
        initrd: "http://10.0.2.2:8080/test-image/7/initramfs.img",
        rootfs: "http://10.0.2.2:8080/test-image/7/rootfs.squashfs",
      },
      manifestUrl: "http://10.0.2.2:8080/test-image/7/manifest.json",
    });
    const lines = first.stderr.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^uploaded\s+rootfs\.squashfs\s+1\.0 MiB\s+[\d.]+ [KMG]iB\/s\s+\/.*\/test-image\/7\/rootfs\.squashfs$/);

    const again = await runPublish([image.dir, "--to", `dir:${out}`]);
    expect(again.code).toBe(0);
    expect(
      again.stderr
        .trim()
        .split("\n")
        .every((l) => l.startsWith("skipped")),
    ).toBe(true);
    expect(again.stdout).toMatch(/^kernel\s+file:\/\/.*\/test-image\/7\/vmlinuz$/m);
  });

  it("rejects bad arguments and artifact directories as user errors (exit 2)", async () => {
    const image = await makeFakeImage({ dir: await tempDir(), sizes: {} });
    const cases: [string[], RegExp][] = [
      [[image.dir], /--to is required/],
      [[image.dir, "--to", "ftp://x"], /expected one of s3:\/\/BUCKET/],
      [[image.dir, "--to", "s3://Bad_Bucket"], /not a valid bucket name/],
      [[image.dir, "--to", "s3://bucket", "--layout", "flat"], /--layout flat: expected one of bootsmith, image-builder/],
      [[image.dir, "--to", "s3://bucket", "--verify", "sha"], /--verify sha: expected one of metadata, full/],
      [[image.dir, "--to", "registry:h/r", "--tls-verify=no"], /--tls-verify=no: expected true or false/],
      [[image.dir, "--to", "s3://bucket", "--part-size", "0"], /--part-size 0: expected a positive whole number/],
      [[join(image.dir, "missing"), "--to", "dir:/tmp/x"], /manifest\.json: cannot read the manifest \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const result = await runPublish(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it("exits 1 with a clear message when the S3 endpoint does not answer", async () => {
    const image = await makeFakeImage({ dir: await tempDir(), sizes: { kernel: 1024 } });
    const port = await freePort();
    vi.stubEnv("S3_ACCESS", "AKIAEXAMPLE");
    vi.stubEnv("S3_SECRET", "very-secret-value-123");
    const result = await runPublish([image.dir, "--to", "s3://boot", "--endpoint", `http://127.0.0.1:${port}`]);
    vi.unstubAllEnvs();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^bootsmith publish: .*cannot reach http://127.0.0.1:${port} .*ECONNREFUSED.*Check the endpoint, given by --endpoint, and that the server is running`,
      ),
    );
    expect(result.stderr).not.toContain("very-secret-value-123");
  });
});
