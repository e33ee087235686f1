import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { parseRange, startStaticServer, ServeError, type CompletedRequest, type RequestLogEntry, type StaticServer } from "../../src/serve/static-server.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request, so paths like /../x are sent as written (fetch() would normalize them). */
function get(server: StaticServer, rawPath: string, method = "GET", headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.host, port: server.port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("parseRange", () => {
  it.each([
    [undefined, { kind: "none" }],
    ["bytes=0-9", { kind: "range", start: 0, end: 9 }],
    ["bytes=90-", { kind: "range", start: 90, end: 99 }],
    ["bytes=-10", { kind: "range", start: 90, end: 99 }],
    ["bytes=95-200", { kind: "range", start: 95, end: 99 }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=5-2", { kind: "unsatisfiable" }],
    ["bytes=0-1,5-6", { kind: "none" }],
    ["items=0-1", { kind: "none" }],
  ])("%s of 100 bytes -> %j", (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe("startStaticServer", () => {
  let dir: string;
  let server: StaticServer;
  const requests: RequestLogEntry[] = [];
  const completed: CompletedRequest[] = [];
  const blob = Buffer.alloc(300_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) % 251;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-serve-"));
    await mkdir(path.join(dir, "sub"));
    await writeFile(path.join(dir, "rootfs.squashfs"), blob);
    await writeFile(path.join(dir, "sub", "a.txt"), "hello\n");
    await writeFile(path.join(dir, "empty"), "");
    await writeFile(path.join(os.tmpdir(), "bootsmith-serve-outside.txt"), "secret");
    await symlink(path.join(os.tmpdir(), "bootsmith-serve-outside.txt"), path.join(dir, "leak.txt"));
    await symlink("/etc", path.join(dir, "etc"));
    await symlink("sub/a.txt", path.join(dir, "inside.txt"));
    server = await startStaticServer({
      root: dir,
      extraFiles: new Map([["/boot.ipxe", { body: "#!ipxe\nboot\n" }]]),
      onRequest: (e) => requests.push(e),
      onComplete: (e) => completed.push(e),
    });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("logs each finished transfer with its bytes and times (the boot-time breakdown's access log)", async () => {
    const before = performance.now();
    await get(server, "/rootfs.squashfs");
    await vi.waitFor(() => expect(completed.find((e) => e.path === "/rootfs.squashfs" && e.startMs >= before)).toBeDefined());
    const e = completed.find((x) => x.path === "/rootfs.squashfs" && x.startMs >= before)!;
    expect(e).toMatchObject({ method: "GET", status: 200, bytes: blob.length, complete: true });
    expect(e.endMs).toBeGreaterThanOrEqual(e.startMs);
  });

  it("binds 127.0.0.1 on an ephemeral port by default", () => {
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it("streams a file with its Content-Length", async () => {
    const r = await get(server, "/rootfs.squashfs");
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(blob.length));
    expect(r.headers["accept-ranges"]).toBe("bytes");
    expect(r.body.equals(blob)).toBe(true);
  });

  it("answers HEAD with the length and no body", async () => {
    const r = await get(server, "/rootfs.squashfs", "HEAD");
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(blob.length));
    expect(r.body.length).toBe(0);
  });

  it("serves a byte range with 206 and Content-Range", async () => {
    const r = await get(server, "/rootfs.squashfs", "GET", { Range: "bytes=1000-1999" });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes 1000-1999/${blob.length}`);
    expect(r.body.equals(blob.subarray(1000, 2000))).toBe(true);
  });

  it("answers an unsatisfiable range with 416", async () => {
    const r = await get(server, "/rootfs.squashfs", "GET", { Range: `bytes=${blob.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers["content-range"]).toBe(`bytes */${blob.length}`);
  });

  it("serves subdirectories, empty files and in-memory files", async () => {
    expect((await get(server, "/sub/a.txt")).body.toString()).toBe("hello\n");
    const empty = await get(server, "/empty");
    expect([empty.status, empty.headers["content-length"], empty.body.length]).toEqual([200, "0", 0]);
    const script = await get(server, "/boot.ipxe?mac=52:54:00:12:34:56");
    expect(script.status).toBe(200);
    expect(script.body.toString()).toBe("#!ipxe\nboot\n");
    expect(script.headers["content-type"]).toMatch(/^text\/plain/);
  });

  it("answers 404 for missing files, directories and paths outside the root", async () => {
    expect((await get(server, "/nope")).status).toBe(404);
    expect((await get(server, "/sub")).status).toBe(404);
    expect((await get(server, "/../bootsmith-serve-outside.txt")).status).toBe(404);
    expect((await get(server, "/%2e%2e/bootsmith-serve-outside.txt")).status).toBe(404);
  });

  it("never serves through a symbolic link that leaves the directory; links inside it work", async () => {
    for (const p of ["/leak.txt", "/etc/passwd", "/etc/hostname"]) {
      const r = await get(server, p);
      expect([p, r.status, r.body.toString()]).toEqual([p, 404, "not found\n"]);
    }
    expect((await get(server, "/leak.txt", "HEAD")).status).toBe(404);
    const inside = await get(server, "/inside.txt");
    expect([inside.status, inside.body.toString()]).toEqual([200, "hello\n"]);
  });

  it("refuses other methods with 405", async () => {
    const r = await get(server, "/rootfs.squashfs", "PUT");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
  });

  it("reports each request", () => {
    expect(requests).toContainEqual(expect.objectContaining({ method: "GET", path: "/nope", status: 404 }));
    expect(requests).toContainEqual(expect.objectContaining({ method: "GET", path: "/rootfs.squashfs", status: 206, bytes: 1000, range: "bytes=1000-1999" }));
  });

  it("fails clearly on a busy port and a missing directory", async () => {
    await expect(startStaticServer({ root: dir, port: server.port })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${server.port}: the port is in use (another server, or a bootsmith serve still running): give another --port, or --port 0 for a free one`,
    );
    await expect(startStaticServer({ root: path.join(dir, "missing") })).rejects.toBeInstanceOf(ServeError);
  });
});
