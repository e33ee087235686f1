import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chooseAccel, qemuAarch64DirectBootArgv, qemuBinary, qemuNetbootArgv, toGuestUrl } from "../../src/boottest/qemu.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-qemu-"));
  await writeFile(path.join(dir, "kvm"), "");
  await writeFile(path.join(dir, "cpuinfo-novmx"), "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr sse sse2 hypervisor\n");
  await writeFile(path.join(dir, "cpuinfo-vmx"), "processor\t: 0\nflags\t\t: fpu vme de pse vmx tsc msr sse\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chooseAccel", () => {
  it("uses TCG when /dev/kvm exists but the CPU has no vmx/svm (KVM would hang)", async () => {
    const d = await chooseAccel("auto", { kvm: path.join(dir, "kvm"), cpuinfo: path.join(dir, "cpuinfo-novmx") });
    expect(d).toEqual({ accel: "tcg", reason: expect.stringContaining("no vmx/svm") });
  });
  it("uses TCG without a usable /dev/kvm", async () => {
    expect((await chooseAccel("auto", { kvm: path.join(dir, "missing"), cpuinfo: path.join(dir, "cpuinfo-vmx") })).accel).toBe("tcg");
  });
  it("uses KVM when both are there", async () => {
    expect((await chooseAccel("auto", { kvm: path.join(dir, "kvm"), cpuinfo: path.join(dir, "cpuinfo-vmx") })).accel).toBe("kvm");
  });
  it("emulates (TCG) an image of another architecture than the host's, even with KVM there", async () => {
    const d = await chooseAccel("auto", { kvm: path.join(dir, "kvm"), cpuinfo: path.join(dir, "cpuinfo-vmx") }, { arch: "aarch64", host: "x86_64" });
    expect(d).toEqual({ accel: "tcg", reason: "the image is aarch64 and this host is x86_64" });
  });
  it("an arm64 host runs an arm64 image with KVM (no vmx/svm flags there)", async () => {
    const d = await chooseAccel("auto", { kvm: path.join(dir, "kvm"), cpuinfo: path.join(dir, "cpuinfo-novmx") }, { arch: "aarch64", host: "aarch64" });
    expect(d.accel).toBe("kvm");
  });
  it("obeys an explicit choice", async () => {
    expect(await chooseAccel("kvm", { kvm: path.join(dir, "missing") })).toEqual({ accel: "kvm", reason: "--accel kvm" });
  });
});

describe("qemuNetbootArgv", () => {
  it("netboots through the virtio NIC's iPXE with user networking and a logged serial console", () => {
    const argv = qemuNetbootArgv({
      bootfileUrl: "http://10.0.2.2:5555/boot.ipxe",
      accel: "tcg",
      memoryMiB: 2048,
      cpus: 2,
      consoleLog: "/tmp/a,b/console.log",
      mac: "52:54:00:aa:bb:cc",
    });
    const joined = argv.join(" ");
    expect(joined).toContain("-machine q35,accel=tcg -cpu max -smp 2 -m 2048 -nographic -no-reboot -monitor none -vga none -boot n");
    expect(argv).toContain("user,id=n0,bootfile=http://10.0.2.2:5555/boot.ipxe");
    expect(argv).toContain("virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc");
    // a comma in a QEMU option value is doubled
    expect(argv).toContain("stdio,id=s0,signal=off,logfile=/tmp/a,,b/console.log");
  });
});

describe("qemuAarch64DirectBootArgv", () => {
  it("boots the virt machine through UEFI with QEMU handing over kernel, initramfs and command line", () => {
    const argv = qemuAarch64DirectBootArgv({
      kernel: "/a/vmlinuz",
      initrd: "/a/initramfs.img",
      params: "console=ttyAMA0 root=live:http://10.0.2.2:9/rootfs.squashfs",
      firmware: "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
      accel: "tcg",
      memoryMiB: 2048,
      cpus: 2,
      consoleLog: "/tmp/console.log",
      mac: "52:54:00:aa:bb:cc",
    });
    expect(argv.join(" ")).toContain("-machine virt,accel=tcg -cpu max,pauth-impdef=on -smp 2 -m 2048 -nographic -no-reboot -monitor none");
    expect(argv.join(" ")).toContain(
      "-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd -kernel /a/vmlinuz -initrd /a/initramfs.img -append console=ttyAMA0 root=live:http://10.0.2.2:9/rootfs.squashfs",
    );
    // no x86 iPXE option ROM on the arm64 NIC
    expect(argv).toContain("virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:aa:bb:cc");
    expect(qemuBinary("aarch64")).toBe("qemu-system-aarch64");
  });
  it("without firmware QEMU enters the kernel itself", () => {
    const argv = qemuAarch64DirectBootArgv({ kernel: "k", initrd: "i", params: "p", accel: "kvm", memoryMiB: 1024, cpus: 1, consoleLog: "c" });
    expect(argv).not.toContain("-bios");
    expect(argv.slice(argv.indexOf("-cpu"), argv.indexOf("-cpu") + 2)).toEqual(["-cpu", "max"]);
  });
});

describe("toGuestUrl", () => {
  it.each([
    ["http://127.0.0.1:27778/boot/v1/bootscript?mac=52:54:00:12:34:56", "http://10.0.2.2:27778/boot/v1/bootscript?mac=52:54:00:12:34:56"],
    ["http://localhost:8080/x", "http://10.0.2.2:8080/x"],
    ["http://bss.example:8080/x", "http://bss.example:8080/x"],
  ])("%s -> %s", (url, guest) => {
    expect(toGuestUrl(url)).toBe(guest);
  });
});
