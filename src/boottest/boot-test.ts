// boot-test: prove an image netboots the way real nodes do. Serve the artifacts and a BSS-shaped
// iPXE script on 127.0.0.1, boot QEMU from its iPXE ROM with user networking (the guest reaches
// the host as 10.0.2.2), watch the serial console for the image's "up" line or a known failure,
// then stop everything. Or boot from a boot script someone else serves (a BSS) for a MAC.
import { existsSync } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ARTIFACT_FILES, type ArtifactRole } from "../core/manifest.js";
import { CleanupStack } from "../exec/cleanup.js";
import { silentReporter, type Reporter } from "../exec/events.js";
import { start, type ProcessExit, type RunningProcess } from "../exec/run.js";
import { startStaticServer } from "../serve/static-server.js";
import { ConsoleWatcher, DEFAULT_MARKER, type ConsoleVerdict, type FailureReason } from "./console-watch.js";
import { renderIpxeScript } from "./ipxe-script.js";
import { bootTestParams, DEFAULT_PARAMS_TEMPLATE } from "./params.js";
import { formatPreflight, preflight, readManifestIfPresent, type PreflightResult } from "./preflight.js";
import { chooseAccel, GUEST_HOST_ADDRESS, IPXE_VIRTIO_ROM, MAC_PATTERN, qemuNetbootArgv, toGuestUrl, type Accel, type AccelChoice } from "./qemu.js";
import { BootsmithError, EXIT } from "../core/errors.js";

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
  /** Abort (SIGINT/SIGTERM): QEMU and the server are stopped, the result is a FAIL "interrupted". */
  readonly signal?: AbortSignal;
}

export type BootFailureReason = FailureReason | "preflight" | "timeout" | "qemu-exited" | "qemu-not-started" | "bootscript-unreachable" | "interrupted";

export interface BootTestResult {
  readonly ok: boolean;
  /** Set when !ok. */
  readonly reason?: BootFailureReason;
  /** One line: what passed, or why it failed. */
  readonly message: string;
  /** QEMU start to the marker line, when it passed. */
  readonly bootSeconds?: number;
  readonly markerLine?: string;
  readonly preflight?: PreflightResult;
  /** Last console lines (ANSI stripped), for failure reports. */
  readonly consoleTail: readonly string[];
  /** Path of the kept console log (kept on failure or when consoleLog was given). */
  readonly consoleLog?: string;
  readonly accel?: Accel;
  /** What DHCP handed to iPXE (guest view). */
  readonly bootfileUrl?: string;
  /** Kernel params of the generated script (not known in bootscript mode). */
  readonly params?: string;
  readonly elapsedSeconds: number;
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
  memoryMiB: 2048,
  cpus: 2,
  mac: "52:54:00:12:34:56",
} as const;

const STEP = "boot-test";

export async function bootTest(opts: BootTestOptions): Promise<BootTestResult> {
  const began = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const info = (text: string) => reporter.emit({ type: "message", level: "info", text });
  const elapsed = () => round1((performance.now() - began) / 1000);
  const memoryMiB = opts.memoryMiB ?? BOOT_TEST_DEFAULTS.memoryMiB;
  const mac = opts.mac ?? BOOT_TEST_DEFAULTS.mac;

  await validate(opts, mac);
  const cleanup = new CleanupStack();
  let keepLog = opts.consoleLog !== undefined;
  let consoleLog = opts.consoleLog;
  try {
    // 1. Preflight: images that cannot boot fail here in seconds, not after a VM timeout.
    const manifest = opts.artifactDir
      ? await readManifestIfPresent(opts.artifactDir).catch((error: unknown) => {
          throw new BootTestInputError(`${path.join(opts.artifactDir!, "manifest.json")}: ${(error as Error).message}`, { cause: error });
        })
      : undefined;
    const template = opts.params ?? manifest?.params ?? DEFAULT_PARAMS_TEMPLATE;
    // The recipe's boot.test settings travel in the manifest; explicit options win.
    const timeoutMs = opts.timeoutMs ?? (manifest?.bootTest ? manifest.bootTest.timeoutSeconds * 1000 : BOOT_TEST_DEFAULTS.timeoutMs);
    const marker = opts.marker ?? manifestMarker(manifest?.bootTest?.marker);
    let preflightResult: PreflightResult | undefined;
    if (opts.artifactDir && !opts.skipPreflight) {
      const file = (role: ArtifactRole) => path.join(opts.artifactDir!, ARTIFACT_FILES[role]);
      preflightResult = await preflight({
        kernel: file("kernel"),
        initramfs: file("initrd"),
        rootfs: file("rootfs"),
        params: template,
        squashfsCompressors: manifest?.kernel?.squashfsCompressors,
        nodeMemoryMiB: memoryMiB,
        ctx: { step: STEP, reporter, signal: opts.signal },
      });
      for (const line of formatPreflight(preflightResult)) info(`preflight: ${line}`);
      if (!preflightResult.ok) {
        const failed = preflightResult.checks.filter((c) => c.status === "fail").map((c) => c.message);
        return { ok: false, reason: "preflight", message: `preflight failed: ${failed.join("; ")}`, preflight: preflightResult, consoleTail: [], elapsedSeconds: elapsed() };
      }
    }

    // 2. Serve the artifacts (and, unless a script URL was given, the boot script).
    const extraFiles = new Map<string, { body: string }>();
    let bootfileUrl: string;
    let params: string | undefined;
    if (opts.artifactDir) {
      const server = await startStaticServer({
        root: opts.artifactDir,
        host: "127.0.0.1",
        port: opts.port ?? 0,
        extraFiles,
        onRequest: (e) => info(`http: ${e.method} ${e.path} ${e.status}${e.range ? ` (${e.range})` : ""}`),
      });
      cleanup.push("stop the artifact server", () => server.close());
      const guestBase = `http://${GUEST_HOST_ADDRESS}:${server.port}`;
      info(`serving ${opts.artifactDir} at ${server.url}/ (guest: ${guestBase}/)`);
      const urls: Record<ArtifactRole, string> = {
        kernel: `${guestBase}/${ARTIFACT_FILES.kernel}`,
        initrd: `${guestBase}/${ARTIFACT_FILES.initrd}`,
        rootfs: `${guestBase}/${ARTIFACT_FILES.rootfs}`,
      };
      if (opts.bootscriptUrl === undefined) {
        params = bootTestParams(template, urls, { name: manifest?.name ?? "boot-test", tag: manifest?.tags[0] ?? "boot-test" });
        extraFiles.set("/boot.ipxe", { body: renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: urls.initrd, params }) });
        bootfileUrl = `${guestBase}/boot.ipxe`;
      } else {
        bootfileUrl = toGuestUrl(opts.bootscriptUrl);
      }
    } else {
      bootfileUrl = toGuestUrl(opts.bootscriptUrl!);
    }
    if (opts.bootscriptUrl !== undefined) {
      const problem = await checkBootscript(opts.bootscriptUrl, info);
      if (problem) return { ok: false, reason: "bootscript-unreachable", message: problem, preflight: preflightResult, consoleTail: [], bootfileUrl, elapsedSeconds: elapsed() };
    }

    // 3. Boot.
    const accel = await chooseAccel(opts.accel ?? "auto");
    info(`accelerator: ${accel.accel} (${accel.reason})`);
    if (!consoleLog) {
      const dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-boot-test-"));
      consoleLog = path.join(dir, "console.log");
      cleanup.push("remove the console log", async () => {
        if (!keepLog) await rm(dir, { recursive: true, force: true });
      });
    }
    const watcher = new ConsoleWatcher({ marker, markerTarget: opts.markerTarget });
    let decide: (v: ConsoleVerdict) => void = () => {};
    const decided = new Promise<ConsoleVerdict>((resolve) => (decide = resolve));
    const argv = qemuNetbootArgv({ bootfileUrl, accel: accel.accel, memoryMiB, cpus: opts.cpus ?? BOOT_TEST_DEFAULTS.cpus, consoleLog, mac });
    const qemuStarted = performance.now();
    const qemu: RunningProcess = start(
      { file: "qemu-system-x86_64", args: argv },
      { step: STEP, reporter, signal: opts.signal },
      {
        report: opts.showConsole,
        onLine: (line, stream) => {
          // stderr is QEMU itself (warnings, "terminating on signal"), not the guest.
          if (stream === "stderr") return;
          const v = watcher.feed(line + "\n");
          if (v.kind !== "pending") decide(v);
        },
      },
    );
    cleanup.push("stop QEMU", async () => {
      await qemu.stop(3_000);
    });

    const outcome = await race(decided, qemu.exited, timeoutMs, opts.signal);
    const bootSeconds = round1((performance.now() - qemuStarted) / 1000);
    await qemu.stop(3_000);
    const base = { preflight: preflightResult, consoleTail: watcher.tail, accel: accel.accel, bootfileUrl, params, consoleLog };
    const waitedFor = `/${(marker ?? DEFAULT_MARKER).source}/${opts.markerTarget ? " or multi-user.target" : ""}`;
    const result = toResult(outcome, bootSeconds, timeoutMs, waitedFor, qemu.outputTail, base, elapsed());
    keepLog ||= !result.ok;
    return keepLog ? result : { ...result, consoleLog: undefined };
  } finally {
    await cleanup.unwind((label, error) => reporter.emit({ type: "message", level: "warn", text: `cleanup "${label}" failed: ${(error as Error).message}` }));
  }
}

type Outcome = { kind: "verdict"; verdict: ConsoleVerdict } | { kind: "exited"; exit: ProcessExit } | { kind: "timeout" } | { kind: "aborted" };

async function race(decided: Promise<ConsoleVerdict>, exited: Promise<ProcessExit>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race<Outcome>([
      decided.then((verdict) => ({ kind: "verdict", verdict })),
      exited.then((exit) => ({ kind: "exited", exit })),
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      }),
      new Promise<Outcome>((resolve) => {
        if (!signal) return;
        onAbort = () => resolve({ kind: "aborted" });
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

type ResultBase = Pick<BootTestResult, "preflight" | "consoleTail" | "accel" | "bootfileUrl" | "params" | "consoleLog">;

function toResult(outcome: Outcome, bootSeconds: number, timeoutMs: number, waitedFor: string, qemuTail: readonly string[], base: ResultBase, elapsedSeconds: number): BootTestResult {
  switch (outcome.kind) {
    case "verdict": {
      const v = outcome.verdict;
      switch (v.kind) {
        case "success":
          return { ...base, ok: true, message: `booted in ${bootSeconds} s (${v.matched === "marker" ? "marker" : "multi-user.target"}: ${v.line.trim()})`, bootSeconds, markerLine: v.line, elapsedSeconds };
        case "failure":
          return { ...base, ok: false, reason: v.reason, message: v.message, elapsedSeconds };
        case "pending":
          throw new Error("a pending verdict cannot decide a boot");
        default: {
          const never: never = v;
          throw new Error(`unhandled verdict ${JSON.stringify(never)}`);
        }
      }
    }
    case "exited": {
      const e = outcome.exit;
      if (e.startError) return { ...base, ok: false, reason: "qemu-not-started", message: e.startError, elapsedSeconds };
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.exitCode}`;
      const stderr = qemuTail.filter((l) => /qemu|error|could not/i.test(l)).slice(-3);
      return {
        ...base,
        ok: false,
        reason: "qemu-exited",
        message: `QEMU ${how} after ${bootSeconds} s before the image reported it was up (the guest powered off or crashed)${stderr.length ? `: ${stderr.join(" | ")}` : ""}`,
        elapsedSeconds,
      };
    }
    case "timeout":
      return { ...base, ok: false, reason: "timeout", message: `no console line matched ${waitedFor} within ${Math.round(timeoutMs / 1000)} s (--timeout): the boot hung, or the image prints another marker (--marker)`, elapsedSeconds };
    case "aborted":
      return { ...base, ok: false, reason: "interrupted", message: "interrupted; QEMU and the server were stopped", elapsedSeconds };
    default: {
      const never: never = outcome;
      throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
    }
  }
}

async function validate(opts: BootTestOptions, mac: string): Promise<void> {
  if (!opts.artifactDir && !opts.bootscriptUrl) throw new BootTestInputError("boot-test needs an artifact directory or a boot script URL");
  if (opts.artifactDir) {
    const missing: string[] = [];
    for (const name of Object.values(ARTIFACT_FILES)) {
      await access(path.join(opts.artifactDir, name)).catch(() => missing.push(name));
    }
    if (missing.length > 0) throw new BootTestInputError(`${opts.artifactDir}: missing ${missing.join(", ")} (expected the output directory of \`bootsmith build\`)`);
  }
  if (opts.bootscriptUrl !== undefined && !/^https?:\/\//.test(opts.bootscriptUrl)) throw new BootTestInputError(`boot script URL must be http(s): ${opts.bootscriptUrl}`);
  if (!MAC_PATTERN.test(mac)) throw new BootTestInputError(`MAC ${JSON.stringify(mac)} is not of the form 52:54:00:12:34:56`);
  if (!existsSync(IPXE_VIRTIO_ROM)) throw new BootTestInputError(`${IPXE_VIRTIO_ROM} is missing: QEMU's virtio NIC needs the iPXE ROM (apt-get install ipxe-qemu)`);
}

/** Fetch the script from the host first: a clear error beats an iPXE retry loop in the guest. */
async function checkBootscript(url: string, info: (text: string) => void): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return `boot script ${url} is unreachable from the host: ${(error as Error).message}`;
  }
  const text = await res.text();
  if (!res.ok) return `boot script ${url} answered HTTP ${res.status}: ${text.trim().slice(0, 200)}`;
  if (!text.startsWith("#!ipxe")) return `boot script ${url} is not an iPXE script (does not start with #!ipxe): ${text.trim().slice(0, 200)}`;
  info(`boot script from ${url}:\n${text.trimEnd()}`);
  // The guest cannot reach the host's loopback under that name: such a script cannot work.
  if (/https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(text)) info(`warning: the boot script names 127.0.0.1/localhost URLs, which the guest cannot reach (it sees the host as ${GUEST_HOST_ADDRESS})`);
  return undefined;
}

function manifestMarker(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new BootTestInputError(`manifest.json bootTest.marker ${JSON.stringify(source)} is not a valid regular expression: ${(error as Error).message}`, { cause: error });
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
