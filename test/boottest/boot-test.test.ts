// bootTest() end to end on small synthetic artifacts: the paths that do not need a bootable image
// (input errors, preflight failure, unreachable boot script) and short real QEMU runs where iPXE
// itself fails or the test is interrupted. The full boots are in qemu-boot.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { bootTest } from "../../src/boottest/boot-test.js";
import { nodeMac } from "../../src/boottest/boot-node.js";
import { BootTestInputError } from "../../src/boottest/options.js";
import type { BuildEvent, Reporter } from "../../src/exec/events.js";
import { startStaticServer } from "../../src/serve/static-server.js";
import { writeCpio } from "../../src/boottest/cpio-writer.js";

let root: string;
let plainDir: string;
let liveDir: string;

async function artifactDir(name: string, modules: readonly string[]): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  // Not a bzImage, nor ELF, nor a PXE NBP (those are < 608 KiB and would be jumped into): iPXE
  // refuses it with "Exec format error", which ends a real QEMU run in seconds.
  await writeFile(path.join(dir, "vmlinuz"), Buffer.alloc(1024 * 1024, 0x90));
  await writeFile(
    path.join(dir, "initramfs.img"),
    gzipSync(writeCpio([{ name: "usr/lib/dracut/modules.txt", data: modules.join("\n") + "\n" }, { name: "usr/bin/curl" }])),
  );
  const tree = path.join(root, `${name}-tree`);
  await mkdir(tree);
  await writeFile(path.join(tree, "hostname"), "node\n");
  execFileSync("mksquashfs", [tree, path.join(dir, "rootfs.squashfs"), "-comp", "gzip", "-noappend", "-quiet", "-no-progress"]);
  return dir;
}

/** A reporter that records events and can react to them (abort on QEMU's start). */
function recorder(onEvent: (e: BuildEvent) => void = () => {}): Reporter & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return {
    events,
    emit: (e) => {
      events.push(e);
      onEvent(e);
    },
    close: async () => {},
  };
}

/** Processes whose command line mentions `needle` (QEMU started with that console log path). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "bootsmith-boottest-"));
  plainDir = await artifactDir("plain", ["bash", "systemd", "base"]);
  liveDir = await artifactDir("live", ["bash", "livenet", "dmsquash-live", "base"]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("bootTest input and preflight", () => {
  it("rejects a directory without the artifacts and a bad MAC before starting anything", async () => {
    await expect(bootTest({ artifactDir: root })).rejects.toThrow(/missing vmlinuz, initramfs.img, rootfs.squashfs/);
    for (const mac of ["52:54-00:12:34:56", "52:54:00:12:34", "not a mac"]) {
      await expect(bootTest({ artifactDir: liveDir, mac })).rejects.toBeInstanceOf(BootTestInputError);
      await expect(bootTest({ artifactDir: liveDir, mac })).rejects.toThrow(
        /--mac .* is not a MAC address of the form aa:bb:cc:dd:ee:ff \(or aa-bb-cc-dd-ee-ff\)/,
      );
    }
    await expect(bootTest({})).rejects.toThrow(/artifact directory or a boot script URL/);
  });

  it("refuses a storm of 0 or too many nodes, or one from a single MAC's boot script", async () => {
    await expect(bootTest({ artifactDir: liveDir, nodes: 0 })).rejects.toThrow(/nodes must be a whole number from 1 to 8, got 0/);
    await expect(bootTest({ artifactDir: liveDir, nodes: 9 })).rejects.toThrow(/from 1 to 8/);
    await expect(bootTest({ bootscriptUrl: "http://127.0.0.1:1/boot", nodes: 2 })).rejects.toThrow(/belongs to one MAC/);
    // A fetched script's kernel line is the boot service's: --params would be silently ignored.
    await expect(bootTest({ bootscriptUrl: "http://127.0.0.1:1/boot", params: "console=ttyS0" })).rejects.toThrow(
      /--params sets the kernel params of the script boot-test generates; a --bootscript-url script brings its own/,
    );
    expect([0, 1, 2].map((i) => nodeMac("52:54:00:12:34:fe", i))).toEqual(["52:54:00:12:34:fe", "52:54:00:12:34:ff", "52:54:00:12:34:00"]);
  });

  it("reports a broken manifest.json as bad input", async () => {
    const dir = path.join(root, "badmanifest");
    await mkdir(dir);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await writeFile(path.join(dir, f), await readFile(path.join(liveDir, f)));
    await writeFile(path.join(dir, "manifest.json"), "{ not json");
    await expect(bootTest({ artifactDir: dir })).rejects.toThrow(/badmanifest\/manifest.json: .*JSON/);
  });

  it("refuses a manifest marker that is not a regular expression", async () => {
    const dir = path.join(root, "badmarker");
    await mkdir(dir);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await writeFile(path.join(dir, f), await readFile(path.join(liveDir, f)));
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ bootTest: { marker: "READY(", timeoutSeconds: 60 } }));
    await expect(bootTest({ artifactDir: dir, skipPreflight: true })).rejects.toThrow(/bootTest.marker "READY\(" is not a valid regular expression/);
  });

  it("uses the manifest's params template and kernel compressor list", async () => {
    const dir = path.join(root, "withmanifest");
    await mkdir(dir);
    for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs"]) await writeFile(path.join(dir, f), await readFile(path.join(liveDir, f)));
    await writeFile(
      path.join(dir, "manifest.json"),
      JSON.stringify({ params: "root=live:{{ rootfs.url }}", kernel: { version: "6.1", squashfsCompressors: ["xz", "zstd"] } }),
    );
    const r = await bootTest({ artifactDir: dir });
    expect(r).toMatchObject({ ok: false, reason: "preflight" });
    expect(r.message).toMatch(/compressed with gzip but the kernel's squashfs supports only xz, zstd \(per the kernel config recorded in manifest.json/);
  });

  it("FAILs in the preflight when the initramfs lacks the live modules, without QEMU", async () => {
    const reporter = recorder();
    const r = await bootTest({ artifactDir: plainDir, reporter });
    expect(r).toMatchObject({ ok: false, reason: "preflight" });
    expect(r.message).toMatch(/lacks dracut's livenet and dmsquash-live/);
    expect(r.preflight?.checks.find((c) => c.id === "kernel-format")?.status).toBe("warn");
    expect(reporter.events.some((e) => e.type === "command")).toBe(false);
  });

  it("FAILs when the boot script URL does not answer with a script", async () => {
    const bss = await startStaticServer({ root });
    try {
      const r = await bootTest({ bootscriptUrl: `${bss.url}/boot/v1/bootscript?mac=52:54:00:12:34:56` });
      expect(r).toMatchObject({ ok: false, reason: "bootscript-unreachable", checks: [] });
      expect(r.message).toMatch(/answered HTTP 404/);
    } finally {
      await bss.close();
    }
  });
});

describe("bootTest with QEMU", () => {
  let consoleLog: string;
  beforeAll(() => {
    consoleLog = path.join(root, "console-ipxe.log");
  });

  it("FAILs with iPXE's error when the kernel cannot be booted, keeping the console log", async () => {
    const requests: string[] = [];
    const reporter = recorder((e) => {
      if (e.type === "message" && e.text.startsWith("http: ")) requests.push(e.text);
    });
    const r = await bootTest({ artifactDir: liveDir, skipPreflight: true, consoleLog, timeoutMs: 120_000, reporter });
    expect(r.message).toMatch(/Exec format error/);
    expect(r.ok).toBe(false);
    expect(r.reason, `${r.message}\n${r.consoleTail.join("\n")}`).toBe("ipxe-error");
    expect(r.accel).toBe("tcg");
    // iPXE fetched the generated script and the kernel from the server, as the guest sees it
    expect(requests.some((t) => t.startsWith("http: GET /boot.ipxe 200"))).toBe(true);
    expect(requests.some((t) => t.startsWith("http: GET /vmlinuz 200"))).toBe(true);
    expect(r.consoleLog).toBe(consoleLog);
    expect(await readFile(consoleLog, "utf8")).toContain("iPXE");
    expect(await processesMentioning(consoleLog)).toEqual([]);
  }, 180_000);

  it("stops QEMU and the server when aborted (SIGINT/SIGTERM path)", async () => {
    const controller = new AbortController();
    const log = path.join(root, "console-abort.log");
    const reporter = recorder((e) => {
      // abort once the guest is running: its iPXE has fetched the boot script
      if (e.type === "message" && e.text.startsWith("http: GET /boot.ipxe")) controller.abort();
    });
    // A MAC as inventories write it (dashes, upper case), accepted like `register --mac`: the NIC
    // gets the colon form BSS stores, so a --bootscript-url keyed by that MAC matches the guest.
    const mac = "52-54-00-AB-CD-EF";
    const r = await bootTest({ artifactDir: liveDir, skipPreflight: true, consoleLog: log, reporter, signal: controller.signal, mac });
    expect(r).toMatchObject({ ok: false, reason: "interrupted" });
    const qemu = reporter.events.find((e) => e.type === "command" && e.command.includes("qemu-system"));
    expect(qemu?.type === "command" && qemu.command).toContain("virtio-net-pci,netdev=n0,mac=52:54:00:ab:cd:ef");
    expect(await processesMentioning(log)).toEqual([]);
    expect(existsSync(log)).toBe(true);
  }, 60_000);
});
