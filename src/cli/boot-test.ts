// `bootsmith boot-test <artifact-dir>`: netboot the image in QEMU through iPXE and a BSS-shaped
// boot script, PASS when it reports it is up, FAIL (exit 1) with the reason and the console tail.
import { BootsmithError, EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { parsePort } from "./serve.js";
import { CleanupStack } from "../exec/cleanup.js";
import { createReporter } from "../exec/reporters/index.js";
import { isInterruptedError, withInterruptHandling } from "../exec/signals.js";
import { bootTest } from "../boottest/boot-test.js";
import { BOOT_TEST_DEFAULTS, BootTestInputError, MAX_NODES } from "../boottest/options.js";
import type { BootTestResult, StormSummary } from "../boottest/result.js";
import { firstLine, formatBytes, formatRate } from "../core/format.js";
import { GUEST_HOST_ADDRESS, type AccelChoice } from "../boottest/qemu.js";
import { rewriteLoopbackUrls } from "../boottest/ipxe-script.js";
import { CheckOptionError, parseCheckOption } from "../boottest/checks.js";
import { formatBreakdown, junitCases, manifestRecord, recordInManifest, REPORT_FILE, reportJson } from "../boottest/report.js";
import { junitXml } from "../core/junit.js";
import { BOOT_FILES, MANIFEST_FILE, type BootCheckRecord } from "../core/manifest.js";
import { replaceFile } from "../core/replace-file.js";
import { readManifestIfPresent } from "../boottest/preflight.js";
import { defaultOutDir } from "../builder/options.js";
import { loadRecipe } from "../recipe/load.js";
import { refreshCombinedManifest } from "../publish/multi-arch.js";

const usage = `Usage: bootsmith boot-test <artifact-dir> [options]
       bootsmith boot-test RECIPE.yaml [--out DIR] [--var KEY=VALUE] [options]
       bootsmith boot-test --bootscript-url URL [--mac MAC] [<artifact-dir> | RECIPE.yaml] [options]

Boot the image the way a diskless node does and report whether it came up: the artifacts
(vmlinuz, initramfs.img, rootfs.squashfs) are served on 127.0.0.1 with an iPXE script at
/boot.ipxe shaped like the one OpenCHAMI BSS generates, QEMU's iPXE ROM fetches it over user
networking (the guest sees the host as 10.0.2.2), and the serial console is watched until the
image prints its marker. Then checks run inside the booted node (the recipe's boot.test.checks,
--check, and built-in ones), delivered by the harness as a second initrd so the image is not
changed; each reports PASS/FAIL with its output. A boot preflight runs first (live modules in the initramfs, squashfs
compression, sizes). PASS prints the boot time; FAIL prints the reason and the last console
lines, a failing check its output. A table shows where the boot's time went; the run is
recorded in manifest.json (bootTest.lastRun; one architecture's directory of a recipe built for
several: the combined manifest.json above it is written again too). An attempt where no guest
ran (the preflight refused, QEMU missing or refusing its options) prints NOT BOOTED and records
nothing: the last real boot's records stay. Exit code 0 when the node came up and every
check passed, 1 fail or not booted, 2 bad input, 130/143/129 interrupted (Ctrl-C / SIGTERM / hang-up).

Given a recipe, the build output is taken from where \`bootsmith build\` writes it (--out DIR,
else ./artifacts/<name>/<primary tag>). The recipe's boot.test marker and timeout (recorded in
manifest.json) are the defaults for --marker and --timeout.

aarch64 images (manifest.json arch) boot in qemu-system-aarch64's virt machine: emulated (TCG)
on an x86 host, so slower (default timeout ${BOOT_TEST_DEFAULTS.aarch64TimeoutMs / 1000} s). Debian has no arm64 iPXE for QEMU, so QEMU
hands the kernel and initramfs over itself (-kernel/-initrd, through the UEFI firmware
QEMU_EFI.fd from qemu-efi-aarch64) and only the squashfs is fetched over HTTP, as on x86;
--bootscript-url is not available for them. Use console=ttyAMA0 in their params.

Kernel params: manifest.json's params template ({{ rootfs.url }}, {{ kernel.url }},
{{ initrd.url }} filled with the local URLs), else
  console=ttyS0 ip=dhcp rd.neednet=1 root=live:{{ rootfs.url }} rd.live.overlay.overlayfs=1
plus test-only knobs so failures end fast:
  rd.shell=0 rd.emergency=poweroff panic=10 modprobe.blacklist=kvm,kvm_amd,kvm_intel

Options:
  --marker REGEX        console line that means "up" (default: the manifest's, else
                        BOOTSMITH-READY|BOOT-MARKER-OK)
  --marker-target       also accept systemd's "Reached target multi-user.target" line
  --timeout SECONDS     whole boot, QEMU start to marker (default: the manifest's, else ${BOOT_TEST_DEFAULTS.timeoutMs / 1000})
  --out DIR             with a recipe: its build output directory
  --var KEY=VALUE       with a recipe: a recipe variable, as for build; repeatable
  --params STRING       params template instead of the manifest's (not with --bootscript-url:
                        that script brings its own)
  --bootscript-url URL  boot from this script (e.g. a BSS /boot/v1/bootscript?mac=…) instead of
                        a generated one. It is fetched on the host and served to the guest as
                        registered, except that 127.0.0.1/localhost URLs in it are rewritten
                        to 10.0.2.2 (the guest's name for the host; each rewrite is printed)
  --mac MAC             the test NIC's MAC, aa:bb:cc:dd:ee:ff or AA-BB-CC-DD-EE-FF (default
                        ${BOOT_TEST_DEFAULTS.mac})
  --port N              serve the artifacts on this port (default: a free one; give the port
                        a BSS entry's URLs name, http://127.0.0.1:N/… or http://10.0.2.2:N/…)
  --accel MODE          auto (default: KVM only if /dev/kvm is usable and the CPU has vmx/svm),
                        kvm or tcg
  --firmware FILE       aarch64: UEFI firmware to boot through (default
                        /usr/share/qemu-efi-aarch64/QEMU_EFI.fd), or none: QEMU starts the
                        kernel itself (faster under TCG, but not what a node's firmware does)
  --memory MIB          guest RAM (default ${BOOT_TEST_DEFAULTS.memoryMiB})
  --cpus N              guest CPUs (default ${BOOT_TEST_DEFAULTS.cpus})
  --console-log PATH    keep the serial console here (default: boot-test.console.log next to
                        the report)
  --skip-preflight      boot even if the preflight fails
  --show-console        print every console line while booting
  --check NAME=SCRIPT   also run this shell script in the booted node (/bin/sh -ec); it passes
                        on exit 0; repeatable. The recipe's boot.test.checks run too.
  --no-builtin-checks   skip bootsmith's built-in checks (system state, image id, live root,
                        kernel modules)
  --report FILE         the result as JSON (default: <artifact-dir>/boot-test.json, else
                        ./boot-test.json); the serial console is kept next to it
                        (boot-test.console.log) unless --console-log says otherwise
  --junit FILE          a JUnit report: one test case per boot phase and per check
  --nodes N             boot N nodes at once from the same server (a small boot storm, at
                        most ${MAX_NODES}; MACs count up from --mac); reports each node's time,
                        the total and the server's peak throughput
  --json                print the result as JSON on stdout

Examples:
  bootsmith boot-test artifacts/debian-12-live/bookworm
  bootsmith boot-test artifacts/debian-12-live/bookworm --marker-target --timeout 600
  bootsmith boot-test --bootscript-url 'http://127.0.0.1:27778/boot/v1/bootscript?mac=52:54:00:12:34:56' \\
      --mac 52:54:00:12:34:56 --port 8080 artifacts/debian-12-live/bookworm
  bootsmith boot-test --bootscript-url "$BSS/boot/v1/bootscript?mac=52:54:00:12:34:56" \\
      --mac 52:54:00:12:34:56 --port 8080 recipes/debian-12-live.yaml   # with the recipe's checks
`;

const ACCELS: readonly AccelChoice[] = ["auto", "kvm", "tcg"];

function positiveInt(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = wholeNumber(value);
  if (n === undefined || n <= 0) throw new UserError(`--${option} ${JSON.stringify(value)}: expected a positive whole number`);
  return n;
}

export const bootTestCommand: CliCommand = {
  name: "boot-test",
  summary: "Netboot an image in QEMU via iPXE and check that it comes up",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("boot-test", args, {
      marker: { type: "string" },
      "marker-target": { type: "boolean" },
      timeout: { type: "string" },
      params: { type: "string" },
      "bootscript-url": { type: "string" },
      mac: { type: "string" },
      port: { type: "string" },
      accel: { type: "string" },
      memory: { type: "string" },
      cpus: { type: "string" },
      "console-log": { type: "string" },
      "skip-preflight": { type: "boolean" },
      "show-console": { type: "boolean" },
      json: { type: "boolean" },
      out: { type: "string" },
      var: { type: "string", multiple: true },
      check: { type: "string", multiple: true },
      "no-builtin-checks": { type: "boolean" },
      report: { type: "string" },
      junit: { type: "string" },
      nodes: { type: "string" },
      firmware: { type: "string" },
    });
    if (positionals.length > 1) throw new UserError(`bootsmith boot-test: expected one artifact directory, got ${positionals.length}`);
    const target = positionals[0] === undefined ? undefined : resolveTarget(positionals[0], values.out, parseVarOptions(values.var));
    const artifactDir = target?.dir;
    let extraChecks: BootCheckRecord[];
    try {
      extraChecks = (values.check ?? []).map(parseCheckOption);
    } catch (error) {
      if (error instanceof CheckOptionError) throw new UserError(`bootsmith boot-test: ${error.message}`);
      throw error;
    }
    const reportFile = path.resolve(values.report ?? path.join(artifactDir ?? ".", REPORT_FILE));
    const consoleLog = values["console-log"] ?? path.join(path.dirname(reportFile), "boot-test.console.log");
    if (!artifactDir && !values["bootscript-url"]) throw new UserError(`bootsmith boot-test: give an artifact directory or --bootscript-url\n\n${usage}`);
    let marker: RegExp | undefined;
    if (values.marker !== undefined) {
      try {
        marker = new RegExp(values.marker);
      } catch (error) {
        throw new UserError(`--marker: not a valid regular expression: ${(error as Error).message}`);
      }
    }
    const accel = (values.accel ?? "auto") as AccelChoice;
    if (!ACCELS.includes(accel)) throw new UserError(`--accel ${values.accel}: expected ${ACCELS.join(", ")}`);
    const timeout = positiveInt("timeout", values.timeout);

    const reporter = createReporter({ mode: "plain", verbose: values["show-console"] ?? false });
    const cleanup = new CleanupStack();
    let result: BootTestResult;
    try {
      result = await withInterruptHandling(
        cleanup,
        (signal) =>
          bootTest({
            artifactDir,
            bootscriptUrl: values["bootscript-url"],
            mac: values.mac,
            params: values.params,
            marker,
            markerTarget: values["marker-target"],
            timeoutMs: timeout === undefined ? undefined : timeout * 1000,
            accel,
            memoryMiB: positiveInt("memory", values.memory),
            cpus: positiveInt("cpus", values.cpus),
            port: parsePort(values.port, 0),
            consoleLog,
            recipeChecks: target?.recipeChecks,
            checks: extraChecks,
            builtinChecks: values["no-builtin-checks"] ? false : undefined,
            nodes: positiveInt("nodes", values.nodes),
            firmware: values.firmware,
            skipPreflight: values["skip-preflight"],
            showConsole: values["show-console"],
            reporter,
            signal,
          }),
        reporter,
      );
    } catch (error) {
      if (error instanceof BootTestInputError || error instanceof CheckOptionError) throw new UserError(`bootsmith boot-test: ${error.message}`);
      if (isInterruptedError(error))
        throw new BootsmithError(`boot-test interrupted (${error.signal}); QEMU and the server were stopped`, error.exitCode, { cause: error });
      throw error;
    } finally {
      await reporter.close();
    }
    const at = new Date();
    // A run where no guest ran says nothing about the image: the records of the last real boot
    // (manifest.json bootTest.lastRun, which promote is gated on, and the default boot-test.json)
    // stay as they were. A report asked for by name is still written, saying so.
    const writeReport = !result.nothingBooted || values.report !== undefined;
    if (writeReport) {
      await mkdir(path.dirname(reportFile), { recursive: true });
      await replaceFile(reportFile, reportJson(result, at));
    }
    if (values.junit) {
      await mkdir(path.dirname(path.resolve(values.junit)), { recursive: true });
      await replaceFile(values.junit, junitXml(`boot-test ${artifactDir ?? values["bootscript-url"]}`, junitCases(result)));
    }
    const recorded = artifactDir && !result.nothingBooted ? await recordInManifest(artifactDir, manifestRecord(result, at)) : false;
    // One architecture of a recipe built for several: the combined manifest above lists this
    // manifest's sha256, so it follows (publish and promote of the whole set then see the run).
    const combined = recorded ? await refreshCombinedManifest(artifactDir!) : undefined;
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    else {
      const notes = [
        ...(writeReport
          ? [
              `report: ${reportFile}${recorded ? ` (recorded in ${path.join(artifactDir!, "manifest.json")} bootTest.lastRun${combined ? `, and ${combined} updated` : ""})` : ""}`,
            ]
          : []),
        ...(result.nothingBooted ? [await keptRecordNote(artifactDir)] : []),
        ...(values.junit ? [`JUnit: ${values.junit}`] : []),
      ];
      process.stdout.write([formatResult(result), ...notes].join("\n") + "\n");
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  },
};

/**
 * The positional is an artifact directory, or a recipe whose build output is looked up where
 * `bootsmith build` puts it (--out, else ./artifacts/<name>/<primary tag>).
 */
export function resolveTarget(arg: string, out: string | undefined, vars: Record<string, string>): { dir: string; recipeChecks?: readonly BootCheckRecord[] } {
  const isRecipe = /\.ya?ml$/i.test(arg) || (existsSync(arg) && statSync(arg).isFile());
  if (!isRecipe) return { dir: arg };
  const recipe = loadRecipe(arg, { vars });
  const dir = out ? path.resolve(out) : defaultOutDir(recipe);
  const missing = Object.values(BOOT_FILES).filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new UserError(
      `bootsmith boot-test: no build of ${recipe.spec.name} in ${dir} (missing ${missing.join(", ")}): ` +
        `run \`bootsmith build ${arg} --no-publish\` first${out ? "" : ", or pass --out DIR"}`,
    );
  }
  // The recipe as it is now is the source of its checks (the manifest holds those of the last build).
  return { dir, recipeChecks: recipe.spec.boot === false ? undefined : recipe.spec.boot.test.checks };
}

/**
 * After an attempt where nothing booted: that nothing was recorded, and the boot test that is on
 * record (what promote will read).
 */
export async function keptRecordNote(artifactDir: string | undefined): Promise<string> {
  const head = "no guest ran, so this is no verdict on the image";
  if (!artifactDir) return `${head}; fix the cause above and run it again`;
  const manifest = await readManifestIfPresent(artifactDir).catch(() => undefined);
  const last = manifest?.bootTest?.lastRun;
  const file = path.join(artifactDir, MANIFEST_FILE);
  const onRecord = last ? `the last boot test on record is still ${last.at}, ${last.ok ? "passed" : "failed"}` : "it records no boot test yet";
  return `${head}: nothing was recorded (${file} and ${REPORT_FILE} are as they were; ${onRecord}); fix the cause above and run it again`;
}

export function formatResult(r: BootTestResult): string {
  if (r.nodeResults && r.storm) return formatStorm(r, r.nodeResults, r.storm);
  const lines = [
    r.ok ? `PASS boot-test: ${r.message}` : r.nothingBooted ? `NOT BOOTED boot-test (${r.reason}): ${r.message}` : `FAIL boot-test (${r.reason}): ${r.message}`,
  ];
  for (const url of r.rewrittenUrls ?? [])
    lines.push(
      `note: the boot script's ${url} was booted as ${rewriteLoopbackUrls(url, GUEST_HOST_ADDRESS).script} (the guest's name for the host's loopback)`,
    );
  for (const c of r.checks) {
    lines.push(
      `  ${c.status.toUpperCase().padEnd(4)} ${c.name}${c.builtin ? " (built-in)" : ""}${c.seconds !== undefined ? ` ${c.seconds.toFixed(1)} s` : ""}: ${c.status === "pass" ? firstLine(c.stdout) : c.message}`,
    );
    if (c.status === "fail") {
      for (const [label, text] of [
        ["stdout", c.stdout],
        ["stderr", c.stderr],
      ] as const) {
        if (text.trim() !== "")
          lines.push(
            `       ${label}:`,
            ...text
              .trimEnd()
              .split("\n")
              .map((l) => `       | ${l}`),
          );
      }
    }
  }
  const table = formatBreakdown(r);
  if (table.length > 0) lines.push("boot time breakdown:", ...table.map((l) => `  ${l}`));
  if (!r.ok && r.reason !== "check-failed" && r.consoleTail.length > 0)
    lines.push(`last ${r.consoleTail.length} console lines:`, ...r.consoleTail.map((l) => `  | ${l}`));
  if (r.consoleLog) lines.push(`full console: ${r.consoleLog}`);
  return lines.join("\n");
}

function formatStorm(r: BootTestResult, nodes: readonly BootTestResult[], storm: StormSummary): string {
  const lines = [
    r.ok
      ? `PASS boot-test storm: ${r.message}`
      : r.nothingBooted
        ? `NOT BOOTED boot-test storm (${r.reason}): ${r.message}`
        : `FAIL boot-test storm (${r.reason}): ${r.message}`,
    `  ${storm.nodes} nodes, ${storm.totalSeconds} s in all; server sent ${formatBytes(storm.bytesServed)}, peak ${formatRate(storm.peakBytesPerSecond, 1)} over one second`,
  ];
  nodes.forEach((n, i) =>
    lines.push(
      `  node ${i + 1} (${n.mac}): ${n.ok ? "PASS" : `FAIL (${n.reason})`} ${n.ok ? `up in ${n.bootSeconds} s, total ${n.breakdown?.totalSeconds ?? "?"} s` : n.message}`,
    ),
  );
  for (const [i, n] of nodes.entries()) {
    if (!n.ok)
      lines.push(
        `--- node ${i + 1}`,
        ...formatResult(n)
          .split("\n")
          .map((l) => `  ${l}`),
      );
  }
  return lines.join("\n");
}
