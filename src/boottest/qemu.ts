// QEMU for boot tests: the accelerator choice and the argv for a netbooting VM (iPXE ROM on a
// virtio NIC, user-mode networking, serial console on stdout + a log file).
import { access, constants, readFile } from "node:fs/promises";
import { ARCHES, type Arch } from "../core/arch.js";

export type Accel = "kvm" | "tcg";
export type AccelChoice = Accel | "auto";

/** In QEMU user networking the guest reaches the host's loopback as this address. */
export const GUEST_HOST_ADDRESS = "10.0.2.2";

/** The iPXE ROM QEMU loads for virtio-net-pci (Debian: ipxe-qemu). */
export const IPXE_VIRTIO_ROM = "/usr/lib/ipxe/qemu/efi-virtio.rom";

export interface AccelDecision {
  readonly accel: Accel;
  readonly reason: string;
}

/**
 * KVM only when /dev/kvm is usable AND the CPU advertises vmx/svm: on hosts where /dev/kvm
 * exists but the (virtual) CPU lacks them, KVM hangs or aborts instead of failing cleanly, so
 * nothing is probed by starting QEMU.
 */
export async function chooseAccel(
  choice: AccelChoice,
  files: { kvm?: string; cpuinfo?: string } = {},
  guest: { arch: Arch; host: Arch | undefined } = { arch: "x86_64", host: "x86_64" },
): Promise<AccelDecision> {
  switch (choice) {
    case "kvm":
    case "tcg":
      return { accel: choice, reason: `--accel ${choice}` };
    case "auto": {
      // KVM runs guests of the host's own architecture only: an arm64 image on x86 is emulated.
      if (guest.arch !== guest.host) return { accel: "tcg", reason: `the image is ${guest.arch} and this host is ${guest.host ?? process.arch}` };
      const kvm = files.kvm ?? "/dev/kvm";
      const usable = await access(kvm, constants.R_OK | constants.W_OK).then(
        () => true,
        () => false,
      );
      if (!usable) return { accel: "tcg", reason: `${kvm} is not usable` };
      const cpuinfo = await readFile(files.cpuinfo ?? "/proc/cpuinfo", "utf8").catch(() => "");
      // x86 lists vmx/svm; an arm64 host with /dev/kvm has the virtualization extensions (EL2).
      if (guest.arch === "x86_64" && !/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo)) return { accel: "tcg", reason: `${kvm} exists but the CPU has no vmx/svm` };
      return { accel: "kvm", reason: `${kvm} is usable and the CPU has hardware virtualization` };
    }
    default: {
      const never: never = choice;
      throw new Error(`unhandled accel ${String(never)}`);
    }
  }
}

export interface QemuNetbootOptions {
  /** What the guest's DHCP hands to iPXE as the boot file: a guest-reachable http URL. */
  readonly bootfileUrl: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** The serial console is also written here (QEMU's chardev logfile). */
  readonly consoleLog: string;
  /** NIC MAC address (a BSS looks nodes up by it). */
  readonly mac?: string;
}

/** The QEMU system emulator for an architecture (Debian: qemu-system-x86, qemu-system-arm). */
export function qemuBinary(arch: Arch): string {
  return `qemu-system-${ARCHES[arch].qemu}`;
}

/** UEFI firmware for QEMU's arm64 virt machine (Debian: qemu-efi-aarch64). */
export const AARCH64_UEFI_FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";

export interface QemuDirectBootOptions {
  readonly kernel: string;
  readonly initrd: string;
  readonly params: string;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly consoleLog: string;
  readonly mac?: string;
  /** UEFI firmware that starts the kernel (through its EFI stub) as a node's firmware would; without it QEMU enters the kernel itself. */
  readonly firmware?: string;
}

/**
 * arm64: QEMU's virt machine with the kernel and initramfs handed over by QEMU (-kernel/-initrd,
 * through the UEFI firmware's fw_cfg loader when given), because Debian ships no arm64 iPXE for
 * QEMU. The kernel then fetches the squashfs over HTTP (root=live:http://10.0.2.2:…) exactly as
 * on x86; only the kernel and initramfs downloads are skipped.
 */
export function qemuAarch64DirectBootArgv(o: QemuDirectBootOptions): string[] {
  return [
    "-machine",
    `virt,accel=${o.accel}`,
    // pauth-impdef: TCG's pointer authentication with QEMU's cheap hash instead of QARMA, which
    // otherwise dominates an emulated arm64 boot; the guest cannot tell the difference.
    "-cpu",
    o.accel === "tcg" ? "max,pauth-impdef=on" : "max",
    ...machineArgs(o),
    ...(o.firmware ? ["-bios", o.firmware] : []),
    "-kernel",
    o.kernel,
    "-initrd",
    o.initrd,
    "-append",
    o.params,
    "-netdev",
    "user,id=n0",
    // romfile= : no option ROM (Debian's efi-virtio.rom is x86 code the arm64 firmware cannot run).
    "-device",
    `virtio-net-pci,netdev=n0,romfile=${o.mac ? `,mac=${o.mac}` : ""}`,
    ...serialConsoleArgs(o.consoleLog),
  ];
}

/** CPUs and RAM, no display, no reboot, no monitor: the same for every architecture. */
function machineArgs(o: { readonly cpus: number; readonly memoryMiB: number }): string[] {
  return [
    "-smp",
    String(o.cpus),
    "-m",
    String(o.memoryMiB),
    // No display; -nographic also makes the firmware print to the serial port, so firmware and
    // iPXE messages (download errors) reach the console log too.
    "-nographic",
    // Panics and `poweroff` end QEMU instead of looping into another boot.
    "-no-reboot",
    "-monitor",
    "none",
  ];
}

/** Console on stdout (watched live) and in a log file (kept for failure reports). */
function serialConsoleArgs(consoleLog: string): string[] {
  return ["-chardev", `stdio,id=s0,signal=off,logfile=${qemuOptValue(consoleLog)}`, "-serial", "chardev:s0"];
}

/** QEMU's option parser splits on commas; a literal comma is written twice. */
export function qemuOptValue(value: string): string {
  return value.replace(/,/g, ",,");
}

export function qemuNetbootArgv(o: QemuNetbootOptions): string[] {
  return [
    "-machine",
    `q35,accel=${o.accel}`,
    "-cpu",
    "max",
    ...machineArgs(o),
    // No VGA: the guest skips loading bochs-drm (≈ 10 s under TCG).
    "-vga",
    "none",
    "-boot",
    "n",
    "-netdev",
    `user,id=n0,bootfile=${qemuOptValue(o.bootfileUrl)}`,
    "-device",
    `virtio-net-pci,netdev=n0${o.mac ? `,mac=${o.mac}` : ""}`,
    ...serialConsoleArgs(o.consoleLog),
  ];
}

/** Make a URL reachable from the guest: the host's loopback is 10.0.2.2 there. */
export function toGuestUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]") u.hostname = GUEST_HOST_ADDRESS;
  return u.toString();
}
