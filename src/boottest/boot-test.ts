// boot-test: prove an image netboots the way real nodes do. Serve the artifacts and a BSS-shaped
// iPXE script on 127.0.0.1, boot QEMU from its iPXE ROM with user networking (the guest reaches
// the host as 10.0.2.2), watch the serial console for the image's "up" line or a known failure,
// then stop everything. Or boot from a boot script someone else serves (a BSS) for a MAC.
import { existsSync } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ARTIFACT_FILES, BOOT_FILES, type ArtifactRole, type BootRole } from "../core/manifest.js";
import { CleanupStack } from "../exec/cleanup.js";
import { silentReporter, type Reporter } from "../exec/events.js";
import { start, type ProcessExit, type RunningProcess } from "../exec/run.js";
import { startStaticServer } from "../serve/static-server.js";
import type { BootCheckRecord, Manifest } from "../core/manifest.js";
import { CheckFrameParser } from "./check-frames.js";
import { harnessCpio, HARNESS_PATH, SETTLE_SECONDS } from "./check-harness.js";
import { judge, resolveChecks, type CheckResult, type NodeCheck } from "./checks.js";
import { ConsoleWatcher, DEFAULT_MARKER, stripAnsi, type ConsoleVerdict, type FailureReason } from "./console-watch.js";
import { appendInitrd, IpxeScriptError, renderIpxeScript, rewriteLoopbackUrls, scriptParams, scriptUrls } from "./ipxe-script.js";
import { BootTimeline, peakThroughput, type BootBreakdown, type FetchRole } from "./timeline.js";
import { bootTestParams, DEFAULT_PARAMS_TEMPLATE } from "./params.js";
import { formatPreflight, manifestArch, preflight, readManifestIfPresent, type PreflightResult } from "./preflight.js";
import {
  AARCH64_UEFI_FIRMWARE,
  chooseAccel,
  GUEST_HOST_ADDRESS,
  IPXE_VIRTIO_ROM,
  MAC_PATTERN,
  qemuAarch64DirectBootArgv,
  qemuBinary,
  qemuNetbootArgv,
  type Accel,
  type AccelChoice,
} from "./qemu.js";
import { hostArch, type Arch } from "../core/arch.js";
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

/** A boot storm's summary (--nodes N > 1). */
export interface StormSummary {
  readonly nodes: number;
  /** First QEMU start to the last node's end. */
  readonly totalSeconds: number;
  /** The artifact server's highest throughput over one second, all nodes together. */
  readonly peakBytesPerSecond: number;
  readonly bytesServed: number;
}

export type BootFailureReason =
  FailureReason | "preflight" | "timeout" | "qemu-exited" | "qemu-not-started" | "bootscript-unreachable" | "interrupted" | "check-failed";

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
  /** Every check run in the node, in run order (empty when none ran). */
  readonly checks: readonly CheckResult[];
  /** Where the boot's time went (phases add up to breakdown.totalSeconds). */
  readonly breakdown?: BootBreakdown;
  /** Loopback URLs of a fetched boot script that were pointed at 10.0.2.2 for the guest. */
  readonly rewrittenUrls?: readonly string[];
  /** The test NIC's MAC. */
  readonly mac?: string;
  /** With --nodes N > 1: every node's own result (this result is the storm's). */
  readonly nodeResults?: readonly BootTestResult[];
  readonly storm?: StormSummary;
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

const STEP = "boot-test";
/** A storm on one build host: each node is a TCG VM with its own RAM. */
export const MAX_NODES = 8;

export async function bootTest(opts: BootTestOptions): Promise<BootTestResult> {
  const began = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const info = (text: string) => reporter.emit({ type: "message", level: "info", text });
  const elapsed = () => round1((performance.now() - began) / 1000);
  const memoryMiB = opts.memoryMiB ?? BOOT_TEST_DEFAULTS.memoryMiB;
  const mac = opts.mac ?? BOOT_TEST_DEFAULTS.mac;

  const manifest = await validate(opts, mac);
  const cleanup = new CleanupStack();
  const consoleLog = opts.consoleLog;
  try {
    // 1. Preflight: images that cannot boot fail here in seconds, not after a VM timeout.
    const template = opts.params ?? manifest?.params ?? DEFAULT_PARAMS_TEMPLATE;
    // The recipe's boot.test settings travel in the manifest; explicit options win.
    const arch = opts.arch ?? manifestArch(manifest);
    const defaultTimeoutMs = arch === "aarch64" ? BOOT_TEST_DEFAULTS.aarch64TimeoutMs : BOOT_TEST_DEFAULTS.timeoutMs;
    const timeoutMs = opts.timeoutMs ?? (manifest?.bootTest ? manifest.bootTest.timeoutSeconds * 1000 : defaultTimeoutMs);
    const marker = opts.marker ?? manifestMarker(manifest?.bootTest?.marker);
    const firmware = arch === "aarch64" ? await aarch64Firmware(opts) : undefined;
    if (arch === "aarch64")
      info(
        `arm64: qemu-system-aarch64 virt machine, kernel and initramfs handed over by QEMU (${firmware ? `through UEFI ${firmware}` : "no firmware"}); the rootfs comes over HTTP`,
      );
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
        arch,
        ctx: { step: STEP, reporter, signal: opts.signal },
      });
      for (const line of formatPreflight(preflightResult)) info(`preflight: ${line}`);
      if (!preflightResult.ok) {
        const failed = preflightResult.checks.filter((c) => c.status === "fail").map((c) => c.message);
        return {
          ok: false,
          reason: "preflight",
          message: `preflight failed: ${failed.join("; ")}`,
          preflight: preflightResult,
          consoleTail: [],
          checks: [],
          elapsedSeconds: elapsed(),
        };
      }
    }

    // 2. A boot script from elsewhere (BSS) is fetched on the host: a clear error beats an iPXE
    //    retry loop in the guest, and its loopback URLs can be pointed at the guest's view of the host.
    let fetchedScript: { text: string; rewritten: string[] } | undefined;
    if (opts.bootscriptUrl !== undefined) {
      const got = await fetchBootscript(opts.bootscriptUrl);
      if ("problem" in got)
        return {
          ok: false,
          reason: "bootscript-unreachable",
          message: got.problem,
          preflight: preflightResult,
          consoleTail: [],
          checks: [],
          elapsedSeconds: elapsed(),
        };
      const { script, rewritten } = rewriteLoopbackUrls(got.script, GUEST_HOST_ADDRESS);
      info(`boot script from ${opts.bootscriptUrl}:\n${got.script.trimEnd()}`);
      for (const url of rewritten)
        info(
          `boot script: ${url} names the host's loopback; the guest reaches the host as ${GUEST_HOST_ADDRESS}, so it boots it as ${rewriteLoopbackUrls(url, GUEST_HOST_ADDRESS).script}`,
        );
      fetchedScript = { text: script, rewritten };
    }

    // 3. The checks, and the harness that runs them in the node (a second initrd; the image is not changed).
    const bootedParams = fetchedScript ? scriptParams(fetchedScript.text) : template;
    const checks: NodeCheck[] = resolveChecks({
      recipe: opts.recipeChecks ?? manifest?.bootTest?.checks,
      extra: opts.checks,
      builtins: opts.builtinChecks ?? manifest?.bootTest?.builtinChecks ?? true,
      ctx: { params: bootedParams, manifest },
    });
    if (checks.length > 0) info(`checks in the node: ${checks.map((c) => c.name).join(", ")}`);

    // 4. Serve the artifacts (if any), the boot script and the harness on 127.0.0.1.
    const extraFiles = new Map<string, { body: string | Buffer }>();
    const nodes = opts.nodes ?? 1;
    const roles = new Map<string, FetchRole>([["/boot.ipxe", "script"]]);
    // One timeline per node; in a storm each node's URLs carry ?node=K so the access log can tell them apart.
    const timelines = Array.from({ length: nodes }, () => new BootTimeline());
    const transfers: { startMs: number; endMs: number; bytes: number }[] = [];
    let emptyRoot: string | undefined;
    if (!opts.artifactDir) {
      emptyRoot = await mkdtemp(path.join(os.tmpdir(), "bootsmith-boot-test-serve-"));
      const dir = emptyRoot;
      cleanup.push("remove the empty served directory", () => rm(dir, { recursive: true, force: true }));
    }
    const server = await startStaticServer({
      root: opts.artifactDir ?? emptyRoot!,
      host: "127.0.0.1",
      port: opts.port ?? 0,
      extraFiles,
      onRequest: (e) => info(`http: ${e.method} ${e.path} ${e.status}${e.range ? ` (${e.range})` : ""}`),
      onComplete: (e) => {
        const url = new URL(e.path, "http://x");
        const node = Number(url.searchParams.get("node") ?? /^\/boot-node(\d+)\.ipxe$/.exec(url.pathname)?.[1] ?? 1);
        const role = /^\/boot-node\d+\.ipxe$/.test(url.pathname) ? "script" : roles.get(url.pathname);
        if (role) timelines[node - 1]?.fetched(role, e);
        if (e.method === "GET" && e.status < 400) transfers.push(e);
      },
    });
    cleanup.push("stop the artifact server", () => server.close());
    const guestBase = `http://${GUEST_HOST_ADDRESS}:${server.port}`;
    if (opts.artifactDir) info(`serving ${opts.artifactDir} at ${server.url}/ (guest: ${guestBase}/)`);
    const harnessUrl = `${guestBase}${HARNESS_PATH}`;
    if (checks.length > 0) {
      extraFiles.set(HARNESS_PATH, { body: harnessCpio(checks) });
      roles.set(HARNESS_PATH, "harness");
    }
    let params: string | undefined;
    let script: string;
    if (fetchedScript) {
      script = fetchedScript.text;
      if (checks.length > 0) {
        try {
          script = appendInitrd(script, harnessUrl);
        } catch (error) {
          if (error instanceof IpxeScriptError) throw new BootTestInputError(`boot script ${opts.bootscriptUrl}: ${error.message}`, { cause: error });
          throw error;
        }
      }
      const urls = scriptUrls(script);
      const mine = (u: string | undefined, role: FetchRole) => {
        if (u && u.startsWith(`${guestBase}/`)) roles.set(new URL(u).pathname, role);
      };
      mine(urls.kernel, "kernel");
      mine(urls.initrds[0], "initrd");
      mine(urls.rootfs, "rootfs");
    } else {
      const urls: Record<BootRole, string> = {
        kernel: `${guestBase}/${ARTIFACT_FILES.kernel}`,
        initrd: `${guestBase}/${ARTIFACT_FILES.initrd}`,
        rootfs: `${guestBase}/${ARTIFACT_FILES.rootfs}`,
      };
      for (const role of ["kernel", "initrd", "rootfs"] as const) roles.set(`/${ARTIFACT_FILES[role]}`, role);
      params = bootTestParams(template, urls, { name: manifest?.name ?? "boot-test", tag: manifest?.tags[0] ?? "boot-test" });
      script = renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: urls.initrd, extraInitrdUrls: checks.length > 0 ? [harnessUrl] : [], params });
      for (let node = 2; node <= nodes; node++) {
        const tagged = (u: string) => `${u}?node=${node}`;
        const nodeUrls = { kernel: tagged(urls.kernel), initrd: tagged(urls.initrd), rootfs: tagged(urls.rootfs) };
        const nodeParams = bootTestParams(template, nodeUrls, { name: manifest?.name ?? "boot-test", tag: manifest?.tags[0] ?? "boot-test" });
        extraFiles.set(`/boot-node${node}.ipxe`, {
          body: renderIpxeScript({
            kernelUrl: nodeUrls.kernel,
            initrdUrl: nodeUrls.initrd,
            extraInitrdUrls: checks.length > 0 ? [tagged(harnessUrl)] : [],
            params: nodeParams,
          }),
        });
      }
    }
    extraFiles.set("/boot.ipxe", { body: script });

    // 5. Boot: one node, or N at once from the same server.
    const accel = await chooseAccel(opts.accel ?? "auto", {}, { arch, host: hostArch() });
    info(`accelerator: ${accel.accel} (${accel.reason})`);
    const stormStarted = performance.now();
    const shared: NodeContext = {
      opts,
      reporter,
      info,
      cleanup,
      accel: accel.accel,
      memoryMiB,
      timeoutMs,
      marker,
      checks,
      preflightResult,
      params,
      fetchedScript,
      elapsed,
      direct:
        arch === "aarch64"
          ? {
              kernel: path.join(opts.artifactDir!, ARTIFACT_FILES.kernel),
              initrd: path.join(opts.artifactDir!, ARTIFACT_FILES.initrd),
              harness: checks.length > 0 ? harnessCpio(checks) : undefined,
              firmware,
              params: (node: number) =>
                node === 1
                  ? params!
                  : bootTestParams(template, directUrls(guestBase, node), { name: manifest?.name ?? "boot-test", tag: manifest?.tags[0] ?? "boot-test" }),
            }
          : undefined,
    };
    const results = await Promise.all(
      timelines.map((timeline, index) =>
        bootNode(shared, {
          index,
          timeline,
          mac: nodeMac(mac, index),
          bootfileUrl: index === 0 ? `${guestBase}/boot.ipxe` : `${guestBase}/boot-node${index + 1}.ipxe`,
          consoleLog: consoleLog && index > 0 ? consoleLog.replace(/(\.log)?$/, `.node${index + 1}$1`) : consoleLog,
        }),
      ),
    );
    if (nodes === 1) return results[0]!;
    return stormResult(results, transfers, stormStarted, performance.now(), elapsed());
  } finally {
    await cleanup.unwind((label, error) => reporter.emit({ type: "message", level: "warn", text: `cleanup "${label}" failed: ${(error as Error).message}` }));
  }
}

interface NodeContext {
  readonly opts: BootTestOptions;
  readonly reporter: Reporter;
  readonly info: (text: string) => void;
  readonly cleanup: CleanupStack;
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly timeoutMs: number;
  readonly marker: RegExp | undefined;
  readonly checks: readonly NodeCheck[];
  readonly preflightResult: PreflightResult | undefined;
  readonly params: string | undefined;
  readonly fetchedScript: { text: string; rewritten: string[] } | undefined;
  readonly elapsed: () => number;
  /** aarch64: QEMU loads kernel and initramfs itself (no iPXE); node K's kernel command line. */
  readonly direct?: {
    readonly kernel: string;
    readonly initrd: string;
    /** The check harness, appended to the initramfs (QEMU takes one -initrd; concatenated cpio archives are one initramfs). */
    readonly harness: Buffer | undefined;
    readonly firmware: string | undefined;
    readonly params: (node: number) => string;
  };
}

interface NodeSpec {
  readonly index: number;
  readonly timeline: BootTimeline;
  readonly mac: string;
  readonly bootfileUrl: string;
  readonly consoleLog: string | undefined;
}

/** One QEMU node from start to verdict: marker (or failure), then its checks. */
async function bootNode(ctx: NodeContext, node: NodeSpec): Promise<BootTestResult> {
  const { opts, reporter, cleanup, accel, memoryMiB, timeoutMs, marker, checks, preflightResult, params, fetchedScript, elapsed } = ctx;
  const info = (opts.nodes ?? 1) > 1 ? (text: string) => ctx.info(`node ${node.index + 1}: ${text}`) : ctx.info;
  const { bootfileUrl, mac } = node;
  let keepLog = node.consoleLog !== undefined;
  let consoleLog = node.consoleLog;
  if (consoleLog) await mkdir(path.dirname(path.resolve(consoleLog)), { recursive: true });
  else {
    const dir = await mkdtemp(path.join(os.tmpdir(), "bootsmith-boot-test-"));
    consoleLog = path.join(dir, "console.log");
    cleanup.push("remove the console log", async () => {
      if (!keepLog) await rm(dir, { recursive: true, force: true });
    });
  }
  const watcher = new ConsoleWatcher({ marker, markerTarget: opts.markerTarget });
  const frames = new CheckFrameParser();
  let decide: (v: ConsoleVerdict) => void = () => {};
  const decided = new Promise<ConsoleVerdict>((resolve) => (decide = resolve));
  let checksFinished: (v: true) => void = () => {};
  const allChecksReported = new Promise<true>((resolve) => (checksFinished = resolve));
  const cpus = opts.cpus ?? BOOT_TEST_DEFAULTS.cpus;
  let argv: string[];
  if (ctx.direct) {
    const d = ctx.direct;
    let initrd = d.initrd;
    if (d.harness) {
      initrd = path.join(path.dirname(consoleLog), `initrd-with-checks.node${node.index + 1}.img`);
      // The kernel reads a cpio that follows a compressed archive only at a 4-byte boundary
      // ("invalid magic at start of compressed archive" otherwise; zero bytes are skipped), as
      // iPXE's page-aligned initrds are.
      const image = await readFile(d.initrd);
      await writeFile(initrd, Buffer.concat([image, Buffer.alloc((4 - (image.length % 4)) % 4), d.harness]));
      const file = initrd;
      cleanup.push("remove the initramfs with the check harness", () => rm(file, { force: true }));
    }
    argv = qemuAarch64DirectBootArgv({
      kernel: d.kernel,
      initrd,
      params: d.params(node.index + 1),
      firmware: d.firmware,
      accel,
      memoryMiB,
      cpus,
      consoleLog,
      mac,
    });
  } else argv = qemuNetbootArgv({ bootfileUrl, accel, memoryMiB, cpus, consoleLog, mac });
  const qemuStarted = performance.now();
  const tl = node.timeline;
  tl.begin(qemuStarted);
  const qemu: RunningProcess = start(
    { file: qemuBinary(ctx.direct ? "aarch64" : "x86_64"), args: argv },
    { step: STEP, reporter, signal: opts.signal },
    {
      report: opts.showConsole,
      onLine: (line, stream) => {
        // stderr is QEMU itself (warnings, "terminating on signal"), not the guest.
        if (stream === "stderr") return;
        const at = performance.now();
        const clean = stripAnsi(line).replace(/\r/g, "");
        tl.console(clean, at);
        for (const frame of frames.line(clean)) {
          if (frame.kind === "start") tl.checkStarted(frame.name, at);
          if (frame.kind === "end") tl.checkEnded(frame.name, at);
          if (frame.kind === "done") {
            tl.checksDone(at);
            checksFinished(true);
          }
        }
        const before = watcher.verdict.kind;
        const v = watcher.feed(line + "\n");
        if (before === "pending" && v.kind === "success") tl.marker(at);
        if (v.kind !== "pending") decide(v);
      },
    },
  );
  cleanup.push("stop QEMU", async () => {
    await qemu.stop(3_000);
  });

  let outcome = await race(decided, qemu.exited, timeoutMs, opts.signal);
  const bootSeconds = round1((performance.now() - qemuStarted) / 1000);
  // Up: now the checks, within their own budget (the runner first waits for systemd to settle).
  let checksTimedOut = false;
  if (outcome.kind === "verdict" && outcome.verdict.kind === "success" && checks.length > 0) {
    info(`up after ${bootSeconds} s; waiting for the checks in the node`);
    const budgetMs = (SETTLE_SECONDS + checks.reduce((sum, c) => sum + c.timeout + 5, 0) + 60) * 1000;
    const after = await race(allChecksReported, qemu.exited, budgetMs, opts.signal);
    if (after.kind === "aborted") outcome = after;
    checksTimedOut = after.kind === "timeout";
    if (after.kind === "exited") info("QEMU exited before every check reported");
  }
  const endedAt = performance.now();
  await qemu.stop(3_000);
  // Checks are judged only when the node came up; otherwise they never ran (the boot's failure says why).
  const cameUp = outcome.kind === "verdict" && outcome.verdict.kind === "success";
  const checkResults = cameUp ? checks.map((c) => judge(c, frames.report(c.name))) : [];
  for (const c of checkResults) info(`check ${c.name}: ${c.status.toUpperCase()} ${c.message}`);
  const breakdown = tl.breakdown(endedAt);
  const base: ResultBase = {
    preflight: preflightResult,
    consoleTail: watcher.tail,
    accel,
    bootfileUrl,
    params,
    consoleLog,
    checks: checkResults,
    breakdown,
    ...(fetchedScript && fetchedScript.rewritten.length > 0 ? { rewrittenUrls: fetchedScript.rewritten } : {}),
  };
  const waitedFor = `/${(marker ?? DEFAULT_MARKER).source}/${opts.markerTarget ? " or multi-user.target" : ""}`;
  let result = toResult(outcome, bootSeconds, timeoutMs, waitedFor, qemu.outputTail, base, elapsed());
  const failed = checkResults.filter((c) => c.status === "fail");
  if (result.ok && failed.length > 0) {
    const names = failed.map((c) => c.name).join(", ");
    const why = checksTimedOut ? " (the checks did not all report within their time budget)" : "";
    const details = failed.length === 1 ? failed[0]!.message : failed.map((c) => `${c.name}: ${c.message}`).join("; ");
    result = {
      ...result,
      ok: false,
      reason: "check-failed",
      message: `booted in ${bootSeconds} s, but ${failed.length === 1 ? "check" : "checks"} ${names} failed${why} (${details})`,
    };
  } else if (result.ok && checkResults.length > 0) {
    const passed = checkResults.filter((c) => c.status === "pass").length;
    const skipped = checkResults.filter((c) => c.status === "skip").length;
    result = { ...result, message: `${result.message}; ${passed} ${passed === 1 ? "check" : "checks"} passed${skipped ? `, ${skipped} skipped` : ""}` };
  }
  keepLog ||= !result.ok;
  return keepLog ? { ...result, mac } : { ...result, mac, consoleLog: undefined };
}

/** The MAC of node `index`: the base MAC with its last byte counted up. */
export function nodeMac(base: string, index: number): string {
  if (index === 0) return base;
  const bytes = base.split(":").map((b) => parseInt(b, 16));
  bytes[5] = (bytes[5]! + index) % 256;
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** N nodes' results as one: PASS only if every node passed. */
function stormResult(
  results: readonly BootTestResult[],
  transfers: readonly { startMs: number; endMs: number; bytes: number }[],
  startMs: number,
  endMs: number,
  elapsedSeconds: number,
): BootTestResult {
  const first = results[0]!;
  const failed = results.map((r, i) => ({ r, n: i + 1 })).filter(({ r }) => !r.ok);
  const storm: StormSummary = {
    nodes: results.length,
    totalSeconds: round1((endMs - startMs) / 1000),
    peakBytesPerSecond: peakThroughput(transfers),
    bytesServed: transfers.reduce((sum, t) => sum + t.bytes, 0),
  };
  const times = results.map((r) => r.bootSeconds).filter((t): t is number => t !== undefined);
  const spread = times.length > 0 ? ` (up in ${Math.min(...times)}–${Math.max(...times)} s)` : "";
  const message =
    failed.length === 0
      ? `${results.length} of ${results.length} nodes up and checked in ${storm.totalSeconds} s${spread}`
      : `${failed.length} of ${results.length} nodes failed: ${failed.map(({ r, n }) => `node ${n} (${r.reason}): ${r.message}`).join("; ")}`;
  return {
    ...first,
    ok: failed.length === 0,
    ...(failed.length > 0 ? { reason: failed[0]!.r.reason } : {}),
    message,
    elapsedSeconds,
    nodeResults: results,
    storm,
  };
}

type Outcome<T> = { kind: "verdict"; verdict: T } | { kind: "exited"; exit: ProcessExit } | { kind: "timeout" } | { kind: "aborted" };

async function race<T>(decided: Promise<T>, exited: Promise<ProcessExit>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race<Outcome<T>>([
      decided.then((verdict) => ({ kind: "verdict", verdict })),
      exited.then((exit) => ({ kind: "exited", exit })),
      new Promise<Outcome<T>>((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      }),
      new Promise<Outcome<T>>((resolve) => {
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

type ResultBase = Pick<
  BootTestResult,
  "preflight" | "consoleTail" | "accel" | "bootfileUrl" | "params" | "consoleLog" | "checks" | "breakdown" | "rewrittenUrls"
>;

function toResult(
  outcome: Outcome<ConsoleVerdict>,
  bootSeconds: number,
  timeoutMs: number,
  waitedFor: string,
  qemuTail: readonly string[],
  base: ResultBase,
  elapsedSeconds: number,
): BootTestResult {
  switch (outcome.kind) {
    case "verdict": {
      const v = outcome.verdict;
      switch (v.kind) {
        case "success":
          return {
            ...base,
            ok: true,
            message: `booted in ${bootSeconds} s (${v.matched === "marker" ? "marker" : "multi-user.target"}: ${v.line.trim()})`,
            bootSeconds,
            markerLine: v.line,
            elapsedSeconds,
          };
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
      return {
        ...base,
        ok: false,
        reason: "timeout",
        message: `no console line matched ${waitedFor} within ${Math.round(timeoutMs / 1000)} s (--timeout): the boot hung, or the image prints another marker (--marker)`,
        elapsedSeconds,
      };
    case "aborted":
      return { ...base, ok: false, reason: "interrupted", message: "interrupted; QEMU and the server were stopped", elapsedSeconds };
    default: {
      const never: never = outcome;
      throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
    }
  }
}

/** Checks the options and returns the artifact directory's manifest.json (read once, here). */
async function validate(opts: BootTestOptions, mac: string): Promise<Manifest | undefined> {
  if (!opts.artifactDir && !opts.bootscriptUrl) throw new BootTestInputError("boot-test needs an artifact directory or a boot script URL");
  // A combined directory (several architectures) says which one to boot instead.
  const manifest = opts.artifactDir
    ? await readManifestIfPresent(opts.artifactDir).catch((error: unknown) => {
        throw new BootTestInputError((error as Error).message, { cause: error });
      })
    : undefined;
  if (opts.artifactDir) {
    const missing: string[] = [];
    for (const name of Object.values(BOOT_FILES)) {
      await access(path.join(opts.artifactDir, name)).catch(() => missing.push(name));
    }
    if (missing.length > 0)
      throw new BootTestInputError(`${opts.artifactDir}: missing ${missing.join(", ")} (expected the output directory of \`bootsmith build\`)`);
  }
  if (opts.bootscriptUrl !== undefined && !/^https?:\/\//.test(opts.bootscriptUrl))
    throw new BootTestInputError(`boot script URL must be http(s): ${opts.bootscriptUrl}`);
  const nodes = opts.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES)
    throw new BootTestInputError(`nodes must be a whole number from 1 to ${MAX_NODES}, got ${nodes}`);
  if (nodes > 1 && opts.bootscriptUrl !== undefined)
    throw new BootTestInputError("--nodes boots N nodes from the generated script; a --bootscript-url script belongs to one MAC");
  if (!MAC_PATTERN.test(mac)) throw new BootTestInputError(`MAC ${JSON.stringify(mac)} is not of the form 52:54:00:12:34:56`);
  const arch = opts.arch ?? manifestArch(manifest);
  if (arch === "aarch64") {
    if (opts.bootscriptUrl !== undefined)
      throw new BootTestInputError(
        "an aarch64 image boots with QEMU's direct kernel boot (Debian has no arm64 iPXE for QEMU), so a --bootscript-url iPXE script cannot be followed: boot-test the artifact directory",
      );
    return manifest;
  }
  if (!existsSync(IPXE_VIRTIO_ROM))
    throw new BootTestInputError(`${IPXE_VIRTIO_ROM} is missing: QEMU's virtio NIC needs the iPXE ROM (apt-get install ipxe-qemu)`);
  return manifest;
}

/** The boot script as the host fetches it, or why it could not be used. */
async function fetchBootscript(url: string): Promise<{ script: string } | { problem: string }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return { problem: `boot script ${url} is unreachable from the host: ${(error as Error).message}` };
  }
  const text = await res.text();
  if (!res.ok) return { problem: `boot script ${url} answered HTTP ${res.status}: ${text.trim().slice(0, 200)}` };
  if (!text.startsWith("#!ipxe")) return { problem: `boot script ${url} is not an iPXE script (does not start with #!ipxe): ${text.trim().slice(0, 200)}` };
  return { script: text };
}

/** The rootfs URL node K fetches (kernel and initramfs URLs are unused in direct boot but keep the template's {{ }} filled). */
function directUrls(guestBase: string, node: number): Record<BootRole, string> {
  const tagged = (file: string) => `${guestBase}/${file}?node=${node}`;
  return { kernel: tagged(ARTIFACT_FILES.kernel), initrd: tagged(ARTIFACT_FILES.initrd), rootfs: tagged(ARTIFACT_FILES.rootfs) };
}

/** The arm64 UEFI firmware: --firmware FILE, "none", or Debian's QEMU_EFI.fd when installed. */
async function aarch64Firmware(opts: BootTestOptions): Promise<string | undefined> {
  if (opts.firmware === "none") return undefined;
  const file = opts.firmware ?? AARCH64_UEFI_FIRMWARE;
  const present = await access(file).then(
    () => true,
    () => false,
  );
  if (present) return file;
  if (opts.firmware !== undefined) throw new BootTestInputError(`--firmware ${file}: no such file`);
  throw new BootTestInputError(`${file} is missing: arm64 boot tests boot through UEFI (apt-get install qemu-efi-aarch64), or pass --firmware none`);
}

function manifestMarker(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new BootTestInputError(`manifest.json bootTest.marker ${JSON.stringify(source)} is not a valid regular expression: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
