// The artifact check that keeps registration from pointing nodes at something missing.
import { afterEach, describe, expect, it } from "vitest";
import { artifactProblems, artifactUrls, checkArtifacts } from "../../src/register/preflight.js";
import { redactUrl } from "../../src/register/http.js";
import { startArtifactServer, type ArtifactServer } from "./artifact-server.js";

let server: ArtifactServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("checkArtifacts", () => {
  it("takes kernel, initrd and the root=live: URL, HEADs each, and reports what is missing", async () => {
    server = await startArtifactServer({ "/k": "kernel", "/i": "initrd" });
    const urls = artifactUrls({ kernel: `${server.url}/k`, initrd: `${server.url}/i`, params: `ro root=live:${server.url}/r quiet` });
    expect(urls.map((u) => u.role)).toEqual(["kernel", "initrd", "rootfs"]);
    const checks = await checkArtifacts(urls, { retries: 0 });
    expect(checks.map((c) => c.status)).toEqual(["ok", "ok", "missing"]);
    expect(artifactProblems(checks)).toEqual([`rootfs ${server.url}/r: missing (HTTP 404)`]);
    expect(server.requests.every((r) => r.method === "HEAD")).toBe(true);
  });

  it("falls back to GET (Range: bytes=0-0, body dropped) when HEAD is refused", async () => {
    server = await startArtifactServer({ "/big": "x".repeat(1 << 20) }, { refuseHead: 405 });
    const [ok, gone] = await checkArtifacts(
      [
        { role: "rootfs", url: `${server.url}/big` },
        { role: "kernel", url: `${server.url}/gone` },
      ],
      { retries: 0 },
    );
    expect(ok?.status).toBe("ok");
    expect(ok?.detail).toBe("HTTP 200 to GET (HEAD: 405)");
    expect(gone?.status).toBe("missing");
    expect(gone?.detail).toBe("HTTP 405 to HEAD, 404 to GET");
  });

  it("marks non-http URLs unchecked and unreachable hosts as such", async () => {
    const checks = await checkArtifacts(
      [
        { role: "kernel", url: "s3://boot-images/k" },
        { role: "initrd", url: "http://127.0.0.1:9/i" },
      ],
      { retries: 0, timeoutMs: 1000 },
    );
    expect(checks.map((c) => c.status)).toEqual(["unchecked", "unreachable"]);
    expect(artifactProblems(checks)).toHaveLength(1);
  });
});

describe("redactUrl", () => {
  it("hides credentials in query strings and userinfo, keeps the rest", () => {
    expect(redactUrl("https://u:p@s3.example/b/k?X-Amz-Signature=abc&X-Amz-Credential=AK%2F1&X-Amz-Expires=60&part=2")).toBe(
      "https://s3.example/b/k?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Expires=60&part=2",
    );
    expect(redactUrl("not a url")).toBe("not a url");
  });

  it("is applied to artifact problems", async () => {
    server = await startArtifactServer({});
    const checks = await checkArtifacts([{ role: "rootfs", url: `${server.url}/r?token=s3cr3t` }], { retries: 0 });
    expect(artifactProblems(checks)).toEqual([`rootfs ${server.url}/r?token=REDACTED: missing (HTTP 404)`]);
  });
});
