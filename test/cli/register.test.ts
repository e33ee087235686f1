// register's (and rollback's) node options as typed on the command line: a value BSS could not
// store is refused before any service is contacted, naming the option.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { selectorsFrom } from "../../src/cli/register.js";
import { EXIT, UserError } from "../../src/core/errors.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";

describe("--host", () => {
  it("takes what a recipe's hosts: takes: xnames, BSS tags and host names", () => {
    expect(selectorsFrom("register", { host: ["x1000c0s0b0n0,Compute", "nid001"] }).hosts).toEqual(["x1000c0s0b0n0", "Compute", "nid001"]);
  });

  it("refuses a MAC, a node number or a mistyped xname, naming the option and the fix", () => {
    expect(() => selectorsFrom("register", { host: ["52:54:00:12:34:56"] })).toThrow(
      'bootsmith register: --host "52:54:00:12:34:56" is a MAC address: give it in --mac, not as a host name',
    );
    expect(() => selectorsFrom("rollback", { host: ["17"] })).toThrow('bootsmith rollback: --host "17" is a node number: give it in --nid, not as a host name');
    expect(() => selectorsFrom("register", { host: ["x1000c0s0n0b0"] })).toThrow(UserError);
  });
});

describe("--nid", () => {
  it("takes node numbers up to BSS's int32 limit, comma-separated or repeated", () => {
    expect(selectorsFrom("register", { nid: ["1,2", "2147483647"] }).nids).toEqual([1, 2, 2147483647]);
  });

  it.each(["2147483648", "3000000000", "99999999999999999999"])("refuses %s, naming the option and the range", (nid) => {
    expect(() => selectorsFrom("rollback", { nid: [nid] })).toThrow(UserError);
    expect(() => selectorsFrom("rollback", { nid: [nid] })).toThrow(
      `bootsmith rollback: --nid ${nid} is out of range: BSS stores node numbers as 32-bit integers, 0–2147483647`,
    );
  });

  describe("bootsmith register --nid 3000000000", () => {
    let bss: BssServer;
    let tmp: string;
    beforeEach(async () => {
      bss = await startBssServer();
      tmp = await mkdtemp(path.join(tmpdir(), "bootsmith-nid-"));
    });
    afterEach(async () => {
      await bss.stop();
      await rm(tmp, { recursive: true, force: true });
    });

    it("exits 2 with the message and sends nothing", async () => {
      const published = path.join(tmp, "published.json");
      const urls = { kernel: "http://127.0.0.1:9/vmlinuz", initrd: "http://127.0.0.1:9/initramfs.img", rootfs: "http://127.0.0.1:9/rootfs.squashfs" };
      await writeFile(published, JSON.stringify({ name: "compute", tag: "v1", target: "s3", urls, paramsTemplate: "ro root=live:{{ rootfs.url }}" }));
      let stderr = "";
      const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
      let code: number;
      try {
        code = await main(["register", published, "--bss", bss.url, "--nid", "3000000000", "--state-dir", path.join(tmp, "state")]);
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain("--nid 3000000000 is out of range: BSS stores node numbers as 32-bit integers, 0–2147483647");
      expect(bss.requests).toEqual([]);
    });
  });
});
