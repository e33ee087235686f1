// boot-test: prove an image netboots the way real nodes do. Serve the artifacts and a BSS-shaped
// iPXE script on 127.0.0.1, boot QEMU from its iPXE ROM with user networking (the guest reaches
// the host as 10.0.2.2), watch the serial console for the image's "up" line or a known failure,
// then stop everything. Or boot from a boot script someone else serves (a BSS) for a MAC. This
// module prepares and serves; each node's run is boot-node.ts, the result's shape result.ts.
import { existsSync } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ARTIFACT_FILES, BOOT_FILES, type ArtifactRole, type BootRole, type Manifest } from "../core/manifest.js";
import { CleanupStack } from "../exec/cleanup.js";
import { silentReporter } from "../exec/events.js";
import { startStaticServer } from "../serve/static-server.js";
import { bootNode, nodeMac, type NodeContext } from "./boot-node.js";
import { harnessCpio, HARNESS_PATH } from "./check-harness.js";
import { resolveChecks, type NodeCheck } from "./checks.js";
import { appendInitrd, IpxeScriptError, renderIpxeScript, rewriteLoopbackUrls, scriptParams, scriptUrls } from "./ipxe-script.js";
import { BOOT_TEST_DEFAULTS, BOOT_TEST_STEP, BootTestInputError, MAX_NODES, type BootTestOptions } from "./options.js";
import { bootTestParams, DEFAULT_PARAMS_TEMPLATE } from "./params.js";
import { formatPreflight, manifestArch, preflight, readManifestIfPresent, type PreflightResult } from "./preflight.js";
import { AARCH64_UEFI_FIRMWARE, chooseAccel, GUEST_HOST_ADDRESS, IPXE_VIRTIO_ROM } from "./qemu.js";
import { round1, stormResult, type BootTestResult } from "./result.js";
import { BootTimeline, type FetchRole } from "./timeline.js";
import { messageWithCause } from "../core/errors.js";
import { hostArch } from "../core/arch.js";
import { normalizeMac } from "../core/mac.js";

export async function bootTest(opts: BootTestOptions): Promise<BootTestResult> {
  const began = performance.now();
  const reporter = opts.reporter ?? silentReporter;
  const info = (text: string) => reporter.emit({ type: "message", level: "info", text });
  const elapsed = () => round1((performance.now() - began) / 1000);
  const memoryMiB = opts.memoryMiB ?? BOOT_TEST_DEFAULTS.memoryMiB;
  const mac = testNicMac(opts.mac ?? BOOT_TEST_DEFAULTS.mac);

  const manifest = await validate(opts);
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
        ctx: { step: BOOT_TEST_STEP, reporter, signal: opts.signal },
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
          nothingBooted: true,
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
          nothingBooted: true,
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
    let requests = 0;
    const server = await startStaticServer({
      root: opts.artifactDir ?? emptyRoot!,
      host: "127.0.0.1",
      port: opts.port ?? 0,
      extraFiles,
      onRequest: (e) => {
        requests++;
        info(`http: ${e.method} ${e.path} ${e.status}${e.range ? ` (${e.range})` : ""}`);
      },
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
      serverHeardFromGuest: () => requests > 0,
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

/** Checks the options and returns the artifact directory's manifest.json (read once, here). */
async function validate(opts: BootTestOptions): Promise<Manifest | undefined> {
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
  // The fetched script carries its own kernel line (BSS's params): --params would be ignored.
  if (opts.params !== undefined && opts.bootscriptUrl !== undefined)
    throw new BootTestInputError(
      "--params sets the kernel params of the script boot-test generates; a --bootscript-url script brings its own (the boot service's params): change them there, or boot-test the artifact directory with --params",
    );
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

/**
 * The test NIC's MAC in the one spelling BSS stores (lower case, colons), read like every other
 * MAC a user gives (recipe `register:`, `register --mac`): a boot script URL keyed by that MAC
 * then matches the MAC the guest's iPXE reports.
 */
function testNicMac(text: string): string {
  const mac = normalizeMac(text);
  if (mac === undefined)
    throw new BootTestInputError(`--mac ${JSON.stringify(text)} is not a MAC address of the form aa:bb:cc:dd:ee:ff (or aa-bb-cc-dd-ee-ff)`);
  return mac;
}

/** The boot script as the host fetches it, or why it could not be used. */
async function fetchBootscript(url: string): Promise<{ script: string } | { problem: string }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return { problem: `boot script ${url} is unreachable from the host: ${messageWithCause(error)}` };
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
