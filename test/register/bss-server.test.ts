// The contract server itself: it must answer like BSS (status codes, problem+json, auth, the
// iPXE script), or the registration tests prove nothing. Raw HTTP here, not our client.
import { afterEach, describe, expect, it } from "vitest";
import { BssContract, startBssServer, type BssServer } from "../support/bss-server.js";

let server: BssServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; type: string | null; text: string }> {
  const s = server as BssServer;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(s.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

const MAC = "52:54:00:12:34:56";
const entry = { kernel: "http://a/vmlinuz", initrd: "http://a/initramfs.img", params: "ro root=live:http://a/rootfs.squashfs" };

describe("BSS contract server", () => {
  it("POST creates (201), a second POST for the same MAC is 400 Already exists, PUT replaces (200)", async () => {
    server = await startBssServer();
    expect((await call("POST", "/boot/v1/bootparameters", { macs: [MAC], ...entry })).status).toBe(201);
    const again = await call("POST", "/boot/v1/bootparameters", { macs: [MAC.toUpperCase()], ...entry });
    expect(again.status).toBe(400);
    expect(again.type).toBe("application/problem+json");
    expect(JSON.parse(again.text).detail).toMatch(/Already exists/);
    expect((await call("PUT", "/boot/v1/bootparameters", { macs: [MAC], ...entry, params: "quiet" })).status).toBe(200);
    const got = await call("GET", `/boot/v1/bootparameters?mac=${MAC}`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.text)).toEqual([{ macs: [MAC], kernel: entry.kernel, initrd: entry.initrd, params: "quiet" }]);
    expect(server.violations).toEqual([]);
  });

  it("refuses a NID above int32 as BSS's Go decoder does (400), storing nothing", async () => {
    server = await startBssServer();
    const put = await call("PUT", "/boot/v1/bootparameters", { nids: [3000000000], ...entry });
    expect(put.status).toBe(400);
    expect(JSON.parse(put.text).detail).toContain("cannot unmarshal number 3000000000 into Go struct field BootParams.nids of type int32");
    expect(server.entries.size).toBe(0);
    expect((await call("PUT", "/boot/v1/bootparameters", { nids: [2147483647], ...entry })).status).toBe(200);
  });

  it("validates MACs, 404s PATCH and GET for unknown selectors, DELETE selects by body", async () => {
    server = await startBssServer();
    const bad = await call("PUT", "/boot/v1/bootparameters", { macs: ["52-54-00-12-34-56"], ...entry });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).detail).toMatch(/invalid MAC/);
    expect((await call("PATCH", "/boot/v1/bootparameters", { nids: [9], params: "x" })).status).toBe(404);
    expect((await call("GET", "/boot/v1/bootparameters?nid=9")).status).toBe(404);
    expect((await call("PUT", "/boot/v1/bootparameters", { nids: [9], ...entry })).status).toBe(200);
    expect((await call("PATCH", "/boot/v1/bootparameters", { nids: [9], params: "changed" })).status).toBe(200);
    expect(server.entry("nid:9")).toEqual({ ...entry, params: "changed" });
    expect((await call("DELETE", "/boot/v1/bootparameters", { nids: [9] })).status).toBe(200);
    expect((await call("DELETE", "/boot/v1/bootparameters", { nids: [9] })).status).toBe(404);
    // A body the spec rejects (nids must be integers) is a 400 and a recorded violation.
    expect((await call("PUT", "/boot/v1/bootparameters", { nids: ["nine"], ...entry })).status).toBe(400);
    expect(server.violations.join("\n")).toMatch(/nids\/0: must be integer/);
  });

  it("requires the bearer token on bootparameters but not on bootscript", async () => {
    server = await startBssServer({ token: "s3cret" });
    const denied = await call("PUT", "/boot/v1/bootparameters", { macs: [MAC], ...entry });
    expect(denied.status).toBe(401);
    expect(denied.type).toBe("application/problem+json");
    expect((await call("PUT", "/boot/v1/bootparameters", { macs: [MAC], ...entry }, "wrong")).status).toBe(401);
    expect((await call("PUT", "/boot/v1/bootparameters", { macs: [MAC], ...entry }, "s3cret")).status).toBe(200);
    expect((await call("GET", `/boot/v1/bootscript?mac=${MAC}`)).status).toBe(200);
  });

  it("serves the iPXE script the way BSS builds it", async () => {
    server = await startBssServer();
    server.seed({ macs: [MAC] }, entry);
    const res = await fetch(server.bootscriptUrl(MAC));
    const lines = (await res.text()).split("\n");
    expect(lines[0]).toBe("#!ipxe");
    expect(lines[1]).toMatch(
      new RegExp(
        `^kernel --name kernel http://a/vmlinuz initrd=initrd ro root=live:http://a/rootfs.squashfs bss_referral_token=[0-9a-f-]{36} \\|\\| goto boot_retry$`,
      ),
    );
    expect(lines.slice(2, 6)).toEqual(["initrd --name initrd http://a/initramfs.img || goto boot_retry", "boot || goto boot_retry", ":boot_retry", "sleep 30"]);
    expect(lines[6]).toBe(`chain ${server.url}/boot/v1/bootscript?mac=${encodeURIComponent(MAC)}&retry=1`);
    expect((await fetch(server.bootscriptUrl("52:54:00:00:00:99"))).status).toBe(404);
    expect(server.violations).toEqual([]);
  });

  it("injects faults: 503 for the next request only", async () => {
    server = await startBssServer();
    server.failNext(1, 503);
    expect((await call("GET", "/boot/v1/bootparameters")).status).toBe(503);
    expect((await call("GET", "/boot/v1/bootparameters")).status).toBe(200);
  });

  it("checks response bodies against the spec", () => {
    const contract = new BssContract();
    expect(contract.checkResponse("/boot/v1/bootparameters", "GET", 200, [{ macs: [MAC], nids: [1] }])).toEqual([]);
    expect(contract.checkResponse("/boot/v1/bootparameters", "GET", 200, [{ nids: ["1"] }]).length).toBeGreaterThan(0);
    expect(contract.checkResponse("/boot/v1/bootparameters", "GET", 404, { detail: 3 }).length).toBeGreaterThan(0);
    expect(contract.definition("BootParams")({ params: "ro", kernel: "k" })).toBe(true);
  });
});
