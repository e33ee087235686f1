import { describe, expect, it } from "vitest";
import { BootTimeline, peakThroughput } from "../../src/boottest/timeline.js";

const get = (startMs: number, endMs: number, bytes: number) => ({ method: "GET", status: 200, complete: true, startMs, endMs, bytes });

describe("boot-time breakdown", () => {
  it("turns access-log and console milestones into contiguous phases that sum to the total", () => {
    const t = new BootTimeline();
    t.fetched("script", get(900, 1_000, 0)); // before QEMU started: ignored
    t.begin(1_000);
    t.fetched("script", get(3_000, 3_100, 120));
    t.fetched("kernel", get(3_200, 5_000, 8_000_000));
    t.fetched("initrd", get(5_100, 15_000, 48_000_000));
    t.fetched("harness", get(15_000, 15_100, 4_096));
    t.console("Probing EDD... ok[    0.000000] Linux version 6.1.0-57-amd64", 17_000); // replayed when the serial console came up: late
    t.console("[    2.500000] Run /init as init process", 18_600);
    t.fetched("rootfs", get(19_000, 19_010, 0)); // a probe: the real download wins
    t.fetched("rootfs", get(20_000, 40_000, 165_000_000));
    t.console("         Starting initrd-switch-root.service - Switch Root...", 45_000);
    t.marker(60_000);
    t.checkStarted("system-running", 62_000);
    t.checkEnded("system-running", 62_500);
    t.checkStarted("hostname", 62_600);
    t.checkEnded("hostname", 63_000);
    t.checksDone(63_100);
    const b = t.breakdown(63_200);
    expect(b.phases.map((p) => [p.name, p.seconds])).toEqual([
      ["firmware, DHCP, iPXE script fetched", 2.1],
      ["kernel download", 1.9],
      ["initramfs download", 10.1],
      ["kernel load and decompression", 1],
      ["kernel start to initramfs /init", 2.5],
      ["initramfs to squashfs request", 1.4],
      ["squashfs download", 20],
      ["live root mount to switch-root", 5],
      ["system start to marker", 15],
      ["system settling, check runner start", 2],
      ["check system-running", 0.5],
      ["check hostname", 0.5],
      ["check results", 0.1],
    ]);
    expect(b.phases.find((p) => p.name === "squashfs download")).toMatchObject({ bytes: 165_000_000, transferSeconds: 20 });
    expect(b.phases.find((p) => p.name === "initramfs download")).toMatchObject({ bytes: 48_004_096, transferSeconds: 10 });
    expect(b.totalSeconds).toBe(62.2);
    const sum = b.phases.reduce((s, p) => s + p.seconds, 0);
    expect(Math.abs(sum - b.totalSeconds) / b.totalSeconds).toBeLessThan(0.05);
  });

  it("folds a milestone that never showed up into the next phase (script from a BSS)", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.fetched("kernel", get(2_000, 3_000, 10));
    t.marker(50_000);
    const b = t.breakdown(50_000);
    expect(b.phases.map((p) => [p.name, p.seconds])).toEqual([
      ["kernel download", 3],
      ["system start to marker", 47],
    ]);
  });

  it("shows the time after the last milestone when the boot-test stopped later (a timeout)", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.fetched("script", get(1_000, 1_100, 10));
    const b = t.breakdown(300_000);
    expect(b.phases.at(-1)).toMatchObject({ name: "until the boot-test stopped", seconds: 298.9 });
    expect(b.totalSeconds).toBe(300);
  });
});

describe("the longest console silence", () => {
  it("names the lines around a stall inside the system (a start job that hung)", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.console("[  OK  ] Reached target basic.target - Basic System.", 50_000);
    t.console("         Starting e2scrub_reap.serv…e ext4 Metadata Check Snapshots...", 51_000);
    t.console("", 100_000); // a blank line says nothing
    t.console("[  OK  ] Finished e2scrub_reap.serv…ine ext4 Metadata Check Snapshots.", 276_000);
    t.marker(280_000);
    const b = t.breakdown(282_000);
    expect(b.longestSilence).toEqual({
      seconds: 225,
      fromSeconds: 51,
      downloadingSeconds: 0,
      after: "         Starting e2scrub_reap.serv…e ext4 Metadata Check Snapshots...",
      until: "[  OK  ] Finished e2scrub_reap.serv…ine ext4 Metadata Check Snapshots.",
    });
  });

  it("does not count a quiet download, and reports nothing for a normal boot", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.console("iPXE initialising devices...", 1_000);
    t.console("[    2.500000] Run /init as init process", 10_000);
    // livenet fetches the squashfs for 40 s without a word: the download explains 38 s of the 42.
    t.fetched("rootfs", get(11_000, 51_000, 165_000_000));
    t.console("         Starting initrd-switch-root.service - Switch Root...", 52_000);
    t.console("BOOTSMITH-READY host=debian-live", 60_000);
    expect(t.breakdown(61_000).longestSilence).toBeUndefined();
  });

  it("reports a download's share when the silence outlasts it", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.console("[    2.500000] Run /init as init process", 10_000);
    t.fetched("rootfs", get(11_000, 21_000, 165_000_000));
    t.console("dracut-initqueue[412]: mount: /run/rootfsbase: wrong fs type", 50_000);
    expect(t.breakdown(51_000).longestSilence).toMatchObject({ seconds: 40, fromSeconds: 10, downloadingSeconds: 10 });
  });

  it("reports a hang with no line after it, up to when the boot-test stopped", () => {
    const t = new BootTimeline();
    t.begin(0);
    t.console("[    3.100000] Run /init as init process", 8_000);
    t.console(`dracut-initqueue[300]: ${"x".repeat(300)}`, 9_000);
    const silence = t.breakdown(600_000).longestSilence;
    expect(silence).toMatchObject({ seconds: 591, fromSeconds: 9, downloadingSeconds: 0 });
    expect(silence?.until).toBeUndefined();
    expect(silence?.after).toHaveLength(160);
    expect(silence?.after?.endsWith("…")).toBe(true);
  });
});

describe("peak throughput of a boot storm", () => {
  it("spreads each transfer over its duration and takes the busiest second", () => {
    expect(peakThroughput([])).toBe(0);
    // Two 10 MB downloads side by side in the first second, one 4 MB later: 20 MB/s peak.
    expect(peakThroughput([get(0, 1_000, 10_000_000), get(0, 1_000, 10_000_000), get(5_000, 7_000, 4_000_000)])).toBe(20_000_000);
    // A transfer over two seconds counts half in each.
    expect(peakThroughput([get(0, 2_000, 8_000_000)])).toBe(4_000_000);
    // An instant transfer counts whole in its second.
    expect(peakThroughput([get(500, 500, 1_000)])).toBe(1_000);
  });
});
