// Decide from the serial console whether a boot succeeded, failed, or is still going. Pure: fed
// text (as it arrives, partial lines included), it returns a verdict, so it is tested on
// recorded consoles and used unchanged by the QEMU runner.

export type FailureReason =
  "rootfs-download-failed" | "dracut-fatal" | "kernel-panic" | "initqueue-timeout" | "emergency-mode" | "system-halted" | "ipxe-error" | "no-bootable-device";

export type ConsoleVerdict =
  | { readonly kind: "pending" }
  | { readonly kind: "success"; readonly matched: "marker" | "target"; readonly line: string }
  | { readonly kind: "failure"; readonly reason: FailureReason; readonly message: string; readonly line: string };

export interface ConsoleWatchOptions {
  /** The image's "I am up" line; default DEFAULT_MARKER. */
  readonly marker?: RegExp;
  /** Also accept systemd reaching multi-user.target (its status line on the console). */
  readonly markerTarget?: boolean;
  /** How many recent lines to keep for failure reports (default 40). */
  readonly tailLines?: number;
}

/**
 * What images say when they are up: BOOTSMITH-READY is printed by the unit bootsmith's recipes
 * install (recipes/files/bootsmith-ready.sh); BOOT-MARKER-OK by the reference sketch's image.
 */
export const DEFAULT_MARKER = /BOOTSMITH-READY|BOOT-MARKER-OK/;

/**
 * systemd's console status line, after ANSI colours are stripped:
 * `[  OK  ] Reached target multi-user.target - Multi-User System.` (systemd ≥ 250 prints unit
 * name and description; older ones only "Multi-User System"; long names are ellipsized, the
 * description is not).
 */
export const MULTI_USER_TARGET = /Reached target\s.*(multi-user\.target|Multi-User System)/;

interface FailurePattern {
  readonly reason: FailureReason;
  readonly pattern: RegExp;
  readonly explain: (m: RegExpExecArray) => string;
  /** The printer wraps at IPXE_COLUMNS: match on the line joined to the full-width lines before it. */
  readonly wraps?: boolean;
}

/** iPXE's serial console is 80 columns: a longer message goes on in the next line. */
const IPXE_COLUMNS = 80;

// Not in this list on purpose: the word FAILED. dracut 059 logs a harmless "Failed to mount
// sysroot.mount" on every good live boot before dmsquash-live mounts the overlay itself.
const FAILURES: readonly FailurePattern[] = [
  {
    // livenet retries a failed download 100 × 5 s; the first failure is enough to know.
    reason: "rootfs-download-failed",
    pattern: /Downloading '([^']*)' failed!/,
    explain: (m) => `dracut livenet could not download the rootfs from ${m[1]} (wrong root=live: URL, or the server does not serve it)`,
  },
  {
    reason: "rootfs-download-failed",
    pattern: /failed to download live image/,
    explain: () => "dracut livenet could not download the rootfs (wrong root=live: URL, or the server does not serve it)",
  },
  {
    // e.g. an initramfs without livenet given root=live:…: "dracut: FATAL: Don't know how to
    // handle 'root=live:http://…'", then "Refusing to continue" and a halt.
    reason: "dracut-fatal",
    pattern: /dracut(?:\[\d+\])?: FATAL: (.*)/,
    explain: (m) =>
      `dracut stopped: ${m[1]}${/Don't know how to handle 'root=live:/.test(m[1] ?? "") ? " (the initramfs lacks dracut's livenet/dmsquash-live modules)" : ""}`,
  },
  { reason: "kernel-panic", pattern: /Kernel panic - not syncing:?\s*(.*)/, explain: (m) => `kernel panic: ${m[1] || "(no reason printed)"}` },
  {
    reason: "initqueue-timeout",
    pattern: /dracut-initqueue.*timeout|Warning: Could not boot\./,
    explain: () =>
      "dracut gave up waiting for the root device (initqueue timeout): the live root never appeared — livenet/dmsquash-live missing or the download failed",
  },
  {
    reason: "emergency-mode",
    pattern: /Entering emergency mode|emergency\.target.*Emergency Mode/,
    explain: () => "the initramfs or system entered emergency mode",
  },
  {
    // A halt does not end QEMU (only a power-off does, with -no-reboot): without this the test
    // would sit until its timeout.
    reason: "system-halted",
    pattern: /reboot: System halted/,
    explain: () => "the system halted before reporting it was up",
  },
  {
    // iPXE prints every error with its error page URL, e.g. "No such file or directory (https://ipxe.org/2d0c613b)".
    reason: "ipxe-error",
    pattern: /.*\(https?:\/\/ipxe\.org\/[0-9a-f]{8}\)/,
    explain: (m) => `iPXE failed: ${m[0].trim()}`,
    wraps: true,
  },
  {
    reason: "no-bootable-device",
    pattern: /No bootable device/,
    explain: () => "the firmware found nothing to boot (iPXE got no boot script: check the bootfile URL / DHCP)",
  },
];

// CSI sequences (colours, cursor), OSC, and the lone ESC c (reset) SeaBIOS and the kernel emit.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]|\x1bc/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export class ConsoleWatcher {
  private readonly markers: readonly { matched: "marker" | "target"; pattern: RegExp }[];
  private readonly tailLines: number;
  private readonly recent: string[] = [];
  private partial = "";
  /** The lines just before this one that filled the 80 columns (a message iPXE wrapped), joined. */
  private wrappedHead = "";
  private current: ConsoleVerdict = { kind: "pending" };

  constructor(options: ConsoleWatchOptions = {}) {
    this.markers = [
      { matched: "marker", pattern: options.marker ?? DEFAULT_MARKER },
      ...(options.markerTarget ? [{ matched: "target" as const, pattern: MULTI_USER_TARGET }] : []),
    ];
    this.tailLines = options.tailLines ?? 40;
  }

  get verdict(): ConsoleVerdict {
    return this.current;
  }

  /** The last lines seen (ANSI stripped), oldest first, for failure reports. */
  get tail(): readonly string[] {
    return this.partial.trim() === "" ? [...this.recent] : [...this.recent, stripAnsi(this.partial)];
  }

  /** Feed raw console output; lines may be split across calls. Returns the verdict so far. */
  feed(text: string): ConsoleVerdict {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.line(line);
    return this.current;
  }

  /** Flush a trailing partial line (at end of output). */
  end(): ConsoleVerdict {
    if (this.partial !== "") this.line(this.partial);
    this.partial = "";
    return this.current;
  }

  /** Feed one complete line. The first decisive line wins; later lines only update the tail. */
  line(raw: string): ConsoleVerdict {
    const full = stripAnsi(raw).replace(/\r/g, "");
    const line = full.trimEnd();
    const head = this.wrappedHead;
    this.wrappedHead = full.length === IPXE_COLUMNS ? head + full : "";
    if (line === "") return this.current;
    this.recent.push(line);
    if (this.recent.length > this.tailLines) this.recent.shift();
    if (this.current.kind !== "pending") return this.current;
    // The kernel echoes its command line; a marker or URL that appears in the params must not
    // count as the image speaking.
    if (/Command line:/.test(line)) return this.current;
    for (const m of this.markers) {
      if (m.pattern.test(line)) {
        this.current = { kind: "success", matched: m.matched, line };
        return this.current;
      }
    }
    for (const f of FAILURES) {
      const match = f.pattern.exec(f.wraps ? head + line : line);
      if (match) {
        this.current = { kind: "failure", reason: f.reason, message: f.explain(match), line };
        return this.current;
      }
    }
    return this.current;
  }
}
