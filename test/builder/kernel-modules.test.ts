// The vermagic check of out-of-tree modules, on module files made here: ELF64 objects with a
// .modinfo section, which is all the check (and the kernel's loader, for vermagic) reads.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { checkKernelModules, KernelModuleError, vermagicOf } from "../../src/builder/kernel-modules.js";
import { elfSection } from "../../src/builder/elf.js";
import { silentReporter } from "../../src/exec/events.js";
import { EXIT } from "../../src/core/errors.js";
import { moduleElf } from "../support/module-elf.js";

const KVER = "6.1.0-57-amd64";
const ctx = { step: "test", reporter: silentReporter };
const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-kmod-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vermagic = (kver: string) => `license=GPL\0vermagic=${kver} SMP preempt mod_unload modversions \0name=m\0`;

let n = 0;
/** An image root with these modules under lib/modules/KVER and a modules.dep listing `listed`. */
function root(modules: Record<string, Buffer>, listed: readonly string[] = Object.keys(modules)): string {
  const r = path.join(dir, `root${n++}`);
  const base = path.join(r, "lib/modules", KVER);
  mkdirSync(base, { recursive: true });
  for (const [file, bytes] of Object.entries(modules)) {
    mkdirSync(path.dirname(path.join(base, file)), { recursive: true });
    writeFileSync(path.join(base, file), bytes);
  }
  writeFileSync(path.join(base, "modules.dep"), listed.map((f) => `${f}:\n`).join(""));
  return r;
}

describe("vermagicOf", () => {
  it("reads vermagic from the .modinfo section", () => {
    expect(vermagicOf(moduleElf(vermagic(KVER)))).toBe(`${KVER} SMP preempt mod_unload modversions `);
    expect(elfSection(moduleElf(vermagic(KVER)), ".shstrtab")?.toString("latin1")).toBe("\0.modinfo\0.shstrtab\0");
  });

  it("is undefined for a file that is not an ELF or has no vermagic", () => {
    expect(vermagicOf(Buffer.from("#!/bin/sh\n"))).toBeUndefined();
    expect(vermagicOf(moduleElf("license=GPL\0"))).toBeUndefined();
  });
});

describe("checkKernelModules", () => {
  it("accepts modules built for the kernel and listed in modules.dep, plain and gzip-compressed", async () => {
    const r = root({ "updates/dkms/a.ko": moduleElf(vermagic(KVER)), "extra/b.ko.gz": gzipSync(moduleElf(vermagic(KVER))) });
    expect((await checkKernelModules(r, KVER, ctx)).map((m) => m.file)).toEqual(["updates/dkms/a.ko", "extra/b.ko.gz"]);
  });

  it("fails (exit 1) naming each module built for another kernel and that kernel", async () => {
    const r = root({ "updates/dkms/good.ko": moduleElf(vermagic(KVER)), "extra/old.ko": moduleElf(vermagic("5.10.0-99-amd64")) });
    const error = await checkKernelModules(r, KVER, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelModuleError);
    expect((error as KernelModuleError).exitCode).toBe(EXIT.failed);
    expect((error as Error).message).toContain(`module old (/lib/modules/${KVER}/extra/old.ko) was built for kernel 5.10.0-99-amd64, not ${KVER}`);
    expect((error as Error).message).not.toContain("good");
  });

  it("a kernel release that only starts like KVER is another kernel", async () => {
    const r = root({ "extra/m.ko": moduleElf(vermagic(`${KVER}-custom`)) });
    await expect(checkKernelModules(r, KVER, ctx)).rejects.toThrow(`was built for kernel ${KVER}-custom, not ${KVER}`);
  });

  it("fails when depmod has not listed a module, or nothing was installed, or a .ko is no module", async () => {
    await expect(checkKernelModules(root({ "extra/m.ko": moduleElf(vermagic(KVER)) }, []), KVER, ctx)).rejects.toThrow(
      `module m (/lib/modules/${KVER}/extra/m.ko) is not in modules.dep: depmod -a ${KVER} has not run`,
    );
    await expect(checkKernelModules(root({}), KVER, ctx)).rejects.toThrow(`no kernel module was installed for kernel ${KVER}`);
    await expect(checkKernelModules(root({ "extra/x.ko": Buffer.from("not elf") }), KVER, ctx)).rejects.toThrow("has no vermagic");
    await expect(checkKernelModules(path.join(dir, "nowhere"), KVER, ctx)).rejects.toThrow(`the image has no /lib/modules/${KVER}`);
  });
});
