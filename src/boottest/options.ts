// What a boot test is asked to do (BootTestOptions) and its defaults, and the error for bad input:
// shared by the orchestration (boot-test.ts) and each node's run (boot-node.ts).
import type { Reporter } from "../exec/events.js";
import type { BootCheckRecord } from "../core/manifest.js";
import type { AccelChoice } from "./qemu.js";
import type { Arch } from "../core/arch.js";
import { BootsmithError, EXIT } from "../core/errors.js";

/** The step name the boot test's processes and messages carry. */
export const BOOT_TEST_STEP = "boot-test";

export interface BootTestOptions {
  /** vmlinuz, initramfs.img, rootfs.squashfs (+ manifest.json). Required unless bootscriptUrl is set. */
  readonly artifactDir?: string;
  /**
   * Boot from this boot script instead of a generated one (e.g. a BSS's
   * `http://127.0.0.1:27778/boot/v1/bootscript?mac=…`); 127.0.0.1/localhost become 10.0.2.2.
   * With artifactDir too, the artifacts are also served (on `port`) for the script's URLs.
   */
  readonly bootscriptUrl?: string;
  /** The test NIC's MAC (default 52:54:00:12:34:56, QEMU's own default). */
  readonly mac?: string;
  /** Params template overriding manifest.params (and the default live line). */
  readonly params?: string;
  /** The image's "I am up" line (default: manifest.bootTest.marker, else BOOTSMITH-READY or BOOT-MARKER-OK). */
  readonly marker?: RegExp;
  /** Also accept systemd reaching multi-user.target on the console. */
  readonly markerTarget?: boolean;
  /** Whole boot, QEMU start to marker (default: manifest.bootTest.timeoutSeconds, else 300 s). */
  readonly timeoutMs?: number;
  readonly accel?: AccelChoice;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  /** Port for the artifact server on 127.0.0.1 (default 0: ephemeral). */
  readonly port?: number;
  /** Keep the serial console here (default: a temp file, kept only when the test fails). */
  readonly consoleLog?: string;
  readonly skipPreflight?: boolean;
  /** Emit every console line to the reporter as output events. */
  readonly showConsole?: boolean;
  readonly reporter?: Reporter;
  /** Abort (SIGINT/SIGTERM/SIGHUP): QEMU and the server are stopped, the result is a FAIL "interrupted". */
  readonly signal?: AbortSignal;
  /** The recipe's boot.test.checks (boot-test RECIPE), instead of those recorded in manifest.json. */
  readonly recipeChecks?: readonly BootCheckRecord[];
  /** More checks to run in the node (--check). */
  readonly checks?: readonly BootCheckRecord[];
  /** bootsmith's built-in checks (default: the manifest's boot.test.builtinChecks, else on). */
  readonly builtinChecks?: boolean;
  /** Boot this many nodes at once from the same server (a small boot storm; default 1). */
  readonly nodes?: number;
  /** The image's architecture (default: manifest.json's arch, else x86_64): aarch64 boots qemu-system-aarch64's virt machine. */
  readonly arch?: Arch;
  /** aarch64: UEFI firmware to boot through (default QEMU_EFI.fd when installed; "none": QEMU enters the kernel itself). */
  readonly firmware?: string;
}

/** Bad input, detected before anything starts (the CLI maps it to exit code 2). */
export class BootTestInputError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "BootTestInputError";
  }
}

export const BOOT_TEST_DEFAULTS = {
  timeoutMs: 300_000,
  /** An arm64 guest on an x86 host is emulated instruction by instruction (TCG): several times slower. */
  aarch64TimeoutMs: 1_200_000,
  memoryMiB: 2048,
  cpus: 2,
  mac: "52:54:00:12:34:56",
} as const;

/** A storm on one build host: each node is a TCG VM with its own RAM. */
export const MAX_NODES = 8;
