// Real netboots in QEMU that fail (TCG: ~0.5–1 min each on 2 cores); the good image's boots, through
// the CLI, are in boot-checks-qemu.test.ts (and the README's main job). They run only when
// BOOTSMITH_TEST_ARTIFACTS names a directory with vmlinuz, initramfs.img and rootfs.squashfs from
// a live image whose rootfs prints BOOTSMITH-READY (recipes/debian-12-live.yaml) or BOOT-MARKER-OK (the reference sketch) (the e2e suite sets it after `bootsmith build`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { bootTest } from "../../src/boottest/boot-test.js";
import type { BootTestResult } from "../../src/boottest/result.js";
import { listInitramfs } from "../../src/builder/initramfs.js";
import { filterCpio } from "./cpio-filter.js";
import { mainJobArtifacts, missingPrerequisites } from "../support/prerequisites.js";

const main = mainJobArtifacts(["vmlinuz", "initramfs.img", "rootfs.squashfs"]);
const artifacts = main.dir;
const skip = missingPrerequisites("qemu-boot.test", [
  main,
  { need: "qemu-system-x86_64", present: existsSync("/usr/bin/qemu-system-x86_64"), install: "apt-get install qemu-system-x86 (scripts/setup.sh does)" },
]);

// Generous: a good boot takes ~50 s on an idle 2-core host but several minutes when the host is
// shared with other builds (TCG is CPU-bound). The failure cases end on their own much sooner.
const TIMEOUT_MS = Number(process.env.BOOTSMITH_TEST_BOOT_TIMEOUT ?? 600) * 1000;
const summary = (r: BootTestResult) =>
  `${r.ok ? "PASS" : `FAIL ${r.reason}`}: ${r.message} (elapsed ${r.elapsedSeconds} s)\n${r.ok ? "" : r.consoleTail.slice(-15).join("\n")}`;

describe.skipIf(skip)("boot-test in QEMU", () => {
  let broken: string;

  beforeAll(async () => {
    // The same image with dracut's livenet and dmsquash-live taken out of the initramfs.
    broken = await mkdtemp(path.join(os.tmpdir(), "bootsmith-nolive-"));
    // Copies, not symbolic links: the artifact server serves no link that leaves its directory.
    for (const f of ["vmlinuz", "rootfs.squashfs"]) await copyFile(path.join(artifacts!, f), path.join(broken, f), constants.COPYFILE_FICLONE);
    const real = path.join(artifacts!, "initramfs.img");
    const { segments } = await listInitramfs(real);
    if (segments.length !== 1 || (segments[0] !== "gzip" && segments[0] !== "zstd"))
      throw new Error(`test repacks a single gzip/zstd initramfs, got ${segments.join("+")}`);
    const packed = await readFile(real);
    const cpio = segments[0] === "gzip" ? gunzipSync(packed) : execFileSync("zstd", ["-d", "-c", "-q"], { input: packed, maxBuffer: 1 << 30 });
    const stripped = filterCpio(
      cpio,
      (name) => !/livenet|dmsquash/.test(name),
      (name, data) =>
        name === "usr/lib/dracut/modules.txt"
          ? Buffer.from(
              data
                .toString()
                .split("\n")
                .filter((m) => m !== "livenet" && m !== "dmsquash-live")
                .join("\n"),
            )
          : data,
    );
    await writeFile(path.join(broken, "initramfs.img"), gzipSync(stripped, { level: 1 }));
  });

  afterAll(async () => {
    if (broken) await rm(broken, { recursive: true, force: true });
  });

  it(
    "FAILs fast with the reason when root=live: points at a missing file",
    async () => {
      const r = await bootTest({
        artifactDir: artifacts!,
        params: "console=ttyS0 root=live:{{ rootfs.url }}.missing rd.live.overlay.overlayfs=1 ip=dhcp rd.neednet=1",
        timeoutMs: TIMEOUT_MS,
      });
      console.log(`boot-test wrong rootfs URL: ${summary(r)}`);
      expect(r.ok).toBe(false);
      expect(r.reason, summary(r)).toBe("rootfs-download-failed");
      expect(r.message).toMatch(/rootfs\.squashfs\.missing/);
      expect(r.consoleLog && existsSync(r.consoleLog)).toBe(true); // kept for the failure report
      await rm(path.dirname(r.consoleLog!), { recursive: true, force: true });
    },
    TIMEOUT_MS + 60_000,
  );

  it("FAILs an initramfs without livenet in the preflight, before starting QEMU", async () => {
    const r = await bootTest({ artifactDir: broken, timeoutMs: TIMEOUT_MS });
    console.log(`boot-test initramfs without livenet: ${summary(r)}`);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe("preflight");
    expect(r.message).toMatch(/lacks dracut's livenet and dmsquash-live/);
    expect(r.accel).toBeUndefined(); // QEMU was never started
  });

  it(
    "with the preflight skipped, the VM itself FAILs fast on dracut refusing root=live:",
    async () => {
      const r = await bootTest({ artifactDir: broken, skipPreflight: true, timeoutMs: TIMEOUT_MS });
      console.log(`boot-test initramfs without livenet, in QEMU: ${summary(r)}`);
      expect(r.ok).toBe(false);
      expect(r.reason, summary(r)).toBe("dracut-fatal");
      expect(r.message).toMatch(/Don't know how to handle 'root=live:/);
      if (r.consoleLog) await rm(path.dirname(r.consoleLog), { recursive: true, force: true });
    },
    TIMEOUT_MS + 60_000,
  );
});
