// bootsmith gc's boot-service check, as a user runs it (main, in-process), against services that
// are not what the option says: the advice is gc's, and nothing is deleted.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { EXIT } from "../../src/core/errors.js";

let tmp: string;
let server: Server;
let url: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "bootsmith-gc-cli-"));
  // What OpenCHAMI boot-service's own /boot/v1 answers a GET: an envelope, not BSS's list.
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ "boot-parameters": null }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(tmp, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stderr };
  } finally {
    spy.mockRestore();
  }
}

describe("bootsmith gc --keep", () => {
  it.each(["0x2", "1e2", "2.0", "0"])("refuses --keep %s with exit 2, before any target or service is read", async (keep) => {
    const { code, stderr } = await run(["gc", `dir:${tmp}`, "--keep", keep, "--bss", url]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain(`bootsmith gc: --keep N is required, a whole number ≥ 1 (got ${keep})`);
  });
});

describe("bootsmith gc --bss URL of boot-service's own /boot/v1", () => {
  it("tells gc's user to give it as --boot-service (no register advice), exit 1, nothing deleted", async () => {
    const { code, stderr } = await run(["gc", `dir:${tmp}`, "--keep", "1", "--bss", url]);
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain(`bootsmith gc: BSS at ${url}: GET ${url}/boot/v1/bootparameters answered in boot-service's shape`);
    expect(stderr).toContain(`give it to gc as --boot-service ${url} (gc then reads its BootConfigurations) instead of --bss; nothing was deleted`);
    expect(stderr).not.toMatch(/register|--name|--legacy|written/);
  });
});
