// bootsmith register: point nodes at a published image in BSS / boot-service (or export the
// payload for `ochami`). The recipe-driven flow calls src/boot/register.ts directly; this is
// the same thing by hand.
import { writeFile } from "node:fs/promises";
import { EXIT, UserError, withContext } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { findOchamiCluster, loadOchamiConfig, ochamiConfigPaths, ochamiServiceUri, OchamiConfigError } from "../register/auth.js";
import { RegistrationError } from "../register/errors.js";
import { exportPayload } from "../register/export.js";
import { renderParams } from "../core/params.js";
import { register, type ConnectionOptions, type RegisterResult } from "../register/register.js";
import { loadRegisterSource } from "../register/source.js";
import { validateSelectors, type BootTarget, type Selectors } from "../register/targets.js";
import type { ArtifactCheck } from "../register/preflight.js";
import { redactUrl } from "../register/http.js";
import { ARCHES } from "../core/arch.js";
import { nidProblem } from "../core/nid.js";
import { hostNameProblem } from "../core/host-name.js";

/** Options shared by register and rollback: where, who, which nodes. */
export const TARGET_OPTIONS = {
  bss: { type: "string" },
  "boot-service": { type: "string" },
  name: { type: "string" },
  group: { type: "string", multiple: true },
  priority: { type: "string" },
  legacy: { type: "boolean" },
  cluster: { type: "string" },
  token: { type: "string" },
  "token-env": { type: "string" },
  "ca-file": { type: "string" },
  mac: { type: "string", multiple: true },
  host: { type: "string", multiple: true },
  nid: { type: "string", multiple: true },
  "state-dir": { type: "string" },
  timeout: { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
} as const;

export const TARGET_HELP = `Boot service (one of):
  --bss URL              OpenCHAMI BSS base URL (…/boot/v1 is appended unless present)
  --boot-service URL     OpenCHAMI boot-service (v0.2) base URL; needs --name
    --name NAME          BootConfiguration name (created, or replaced when it exists)
    --group G            node group to target; repeatable
    --priority N         0–100, the higher wins when configurations overlap
    --legacy             use the service's BSS-compatible /boot/v1 API instead (refused,
                         nothing written, where it answers in boot-service's own shape)
  --cluster NAME         ochami cluster: its bss URI (with neither --bss nor --boot-service)
                         and its token ($<NAME>_ACCESS_TOKEN)

Nodes (at least one; repeatable, or comma-separated):
  --mac aa:bb:cc:dd:ee:ff   --host XNAME|TAG|HOSTNAME   --nid N
  (a MAC may be written aa-bb-cc-dd-ee-ff, in either case: it is sent as aa:bb:cc:dd:ee:ff)

Authentication and transport:
  --token TOKEN          bearer token (else $BSS_TOKEN, else the ochami cluster's
                         $<CLUSTER>_ACCESS_TOKEN, cluster found in ~/.config/ochami/config.yaml
                         or /etc/ochami/config.yaml by --cluster, by URL or default-cluster)
  --token-env VAR        read the token from $VAR
  --ca-file PEM          CA certificate for an https service with a site CA
  --timeout SECONDS      per-request timeout (default 30); 5xx and connection errors are
                         retried 4 times with backoff`;

type TargetValues = {
  [K in keyof typeof TARGET_OPTIONS]?: (typeof TARGET_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof TARGET_OPTIONS)[K]["type"] extends "boolean"
      ? boolean
      : string;
};

function list(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

export function selectorsFrom(cmd: string, values: TargetValues): Selectors {
  const nids = list(values.nid).map((n) => {
    const nid = wholeNumber(n);
    if (nid === undefined) throw new UserError(`bootsmith ${cmd}: --nid ${JSON.stringify(n)} is not a node number`);
    // Named as typed: Number("99999999999999999999") is already another number.
    const problem = nidProblem(nid);
    if (problem) throw new UserError(`bootsmith ${cmd}: --nid ${n} ${problem}`);
    return nid;
  });
  const hosts = list(values.host);
  for (const host of hosts) {
    const problem = hostNameProblem(host, { macs: "--mac", nids: "--nid" });
    if (problem) throw new UserError(`bootsmith ${cmd}: --host ${JSON.stringify(host)} ${problem}`);
  }
  return { macs: list(values.mac), hosts, nids };
}

/** The boot target from --bss / --boot-service / --cluster. */
export function targetFrom(cmd: string, values: TargetValues, env: NodeJS.ProcessEnv = process.env): BootTarget | undefined {
  const given = [values.bss, values["boot-service"]].filter((v) => v !== undefined);
  if (given.length > 1) throw new UserError(`bootsmith ${cmd}: give either --bss or --boot-service, not both`);
  const common = { ...(values["token-env"] ? { tokenEnv: values["token-env"] } : {}), ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}) };
  if (values["boot-service"] !== undefined) {
    if (!values.name) throw new UserError(`bootsmith ${cmd}: --boot-service needs --name NAME (the BootConfiguration to create or replace)`);
    let priority: number | undefined;
    if (values.priority !== undefined) {
      priority = wholeNumber(values.priority);
      if (priority === undefined || priority > 100) throw new UserError(`bootsmith ${cmd}: --priority ${values.priority}: expected an integer 0–100`);
    }
    return {
      type: "boot-service",
      url: values["boot-service"],
      name: values.name,
      ...(values.group ? { groups: list(values.group) } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(values.legacy ? { legacy: true } : {}),
      ...common,
    };
  }
  if (values.bss !== undefined) return { type: "bss", url: values.bss, ...common };
  if (values.cluster !== undefined) {
    try {
      const cluster = findOchamiCluster(loadOchamiConfig(ochamiConfigPaths(env)), values.cluster);
      const url = ochamiServiceUri(cluster, "bss");
      if (!url)
        throw new UserError(`bootsmith ${cmd}: ochami cluster "${cluster.name}" (${cluster.file}) has neither cluster.uri nor cluster.bss.uri; pass --bss URL`);
      return { type: "bss", url, ...common };
    } catch (error) {
      if (error instanceof OchamiConfigError) throw new UserError(`bootsmith ${cmd}: ${error.message}`);
      throw error;
    }
  }
  return undefined;
}

export function connectionFrom(cmd: string, values: TargetValues, log: (l: string) => void): ConnectionOptions {
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!(s > 0)) throw new UserError(`bootsmith ${cmd}: --timeout ${values.timeout}: expected a number of seconds > 0`);
    timeoutMs = s * 1000;
  }
  return {
    token: values.token,
    cluster: values.cluster,
    log,
    http: { ...(timeoutMs ? { timeoutMs } : {}), onRetry: (r) => log(`  retry ${r.attempt} in ${r.delayMs} ms: ${r.reason}`) },
  };
}

/**
 * A failed registration or rollback (the service, an artifact check) is shown as "bootsmith: …";
 * bad input as is. cli/main.ts reports it with its exit code (2 bad input, else 1).
 */
export function registrationContext(error: unknown): unknown {
  return error instanceof RegistrationError && error.kind !== "invalid" ? withContext("bootsmith", error) : error;
}

/** A target for --json output: the URL without user:password or token query values (stdout lands in CI logs and files). */
export function printableTarget<T extends { readonly url: string }>(target: T): T {
  return { ...target, url: redactUrl(target.url) };
}

function artifactLines(checks: readonly ArtifactCheck[]): string[] {
  return checks.map((c) => `  ${c.role.padEnd(6)} ${c.status.padEnd(11)} ${redactUrl(c.url)} (${c.detail})`);
}

export const registerCommand: CliCommand = {
  name: "register",
  summary: "Point nodes at a published image in OpenCHAMI BSS or boot-service",
  usage: `Usage: bootsmith register SOURCE (--bss URL | --boot-service URL --name NAME | --cluster NAME)
                          (--mac MAC | --host XNAME | --nid N)... [options]
       bootsmith register SOURCE --export FILE (--mac … | --host … | --nid …)

SOURCE is a published image record (the output of \`bootsmith publish --json\`: one image, a
list, or {images: […]}), "-" to read it from standard input, or an artifact directory (with
published.json, or with manifest.json plus --base-url).

Sets kernel, initrd and params for the nodes (PUT: idempotent, creates or replaces). Before
writing it shows the diff against what the service has now, checks with HEAD that the kernel,
initrd and root=live: URLs answer (and refuses, writing nothing, when one does not), saves what it
replaces under --state-dir so \`bootsmith rollback\` can restore it, writes, and reads back.

Image and params:
  --tag TAG              which published tag (default: the first)
  --arch ARCH            x86_64 or aarch64: which architecture's artifacts these nodes get.
                         Required for a recipe built for several architectures (arches:);
                         checked against a single-architecture set's manifest. BSS has no
                         architecture field: register each architecture for its own nodes
  --base-url URL         where an artifact directory's files are served (nodes fetch from it)
  --params-template T    kernel command line template; default: the one recorded by the build
                         (manifest.params; publish --json/--record and promote --json carry it
                         as paramsTemplate). Placeholders: {{ rootfs.url }} {{ kernel.url }}
                         {{ initrd.url }} {{ name }} {{ tag }}
  --extra-params P       site-wide params appended to the template

Mode:
  --dry-run              print the diff and the artifact checks; write nothing
  --patch                change params only (kernel and initrd stay); entries must exist
  --export FILE          write the payload as YAML for \`ochami bss boot params set -f yaml
                         -d @FILE\` (a BootConfiguration for --boot-service) and stop
  --verify-key PUB       refuse (exit 1, nothing written) unless the set verifies as nodes will
                         fetch it: SHA256SUMS.sig a good signature by PUB (gpgv), and every
                         file at its URL with SHA256SUMS' sha256 and manifest.json's size
  --state-dir DIR        registration records (default ~/.local/state/bootsmith/registrations)
  --json                 print the result as JSON

${TARGET_HELP}

Examples:
  bootsmith publish artifacts/compute/v3 --to dir:/srv/images --public-base http://10.0.0.1/images --record published.json
  bootsmith register published.json --bss https://ochami.example:8443 --mac 52:54:00:12:34:56 --dry-run
  bootsmith register published.json --cluster demo --host x1000c0s0b0n0,x1000c0s0b1n0
  bootsmith register artifacts/compute/v3 --base-url http://10.0.0.1/images/compute/v3/ --nid 1 --export params.yaml

Exit codes: 0 registered (or nothing to change), 1 the service or an artifact check failed,
2 bad arguments.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("register", args, {
      ...TARGET_OPTIONS,
      tag: { type: "string" },
      arch: { type: "string" },
      "base-url": { type: "string" },
      "params-template": { type: "string" },
      "extra-params": { type: "string" },
      patch: { type: "boolean" },
      export: { type: "string" },
      "verify-key": { type: "string" },
    });
    if (positionals.length !== 1)
      throw new UserError("bootsmith register: name exactly one SOURCE (published.json or an artifact directory); see bootsmith register --help");
    const log = (l: string) => process.stderr.write(`${l}\n`);
    try {
      if (values.arch !== undefined && !(values.arch in ARCHES))
        throw new UserError(`bootsmith register: --arch ${values.arch}: expected one of ${Object.keys(ARCHES).join(", ")}`);
      const source = await loadRegisterSource(positionals[0] as string, { baseUrl: values["base-url"], tag: values.tag, arch: values.arch });
      const template = values["params-template"] ?? source.paramsTemplate;
      if (template === undefined)
        throw new UserError(
          `bootsmith register: ${source.origin} records no params template; pass --params-template, e.g. --params-template 'ro ip=dhcp console=ttyS0,115200 root=live:{{ rootfs.url }}'`,
        );
      const params = renderParams(template, source.image, values["extra-params"]);
      const selectors = selectorsFrom("register", values);
      const target = targetFrom("register", values);
      const input = { image: source.image, params, selectors };

      if (values.export !== undefined) {
        const problems = validateSelectors(selectors);
        if (problems.length > 0) throw new UserError(`bootsmith register: ${problems.join("; ")}`);
        await writeFile(values.export, exportPayload(input, target));
        log(`wrote ${values.export} for ${source.image.name}:${source.image.tag}`);
        return EXIT.ok;
      }
      if (!target)
        throw new UserError("bootsmith register: say where to register: --bss URL, --boot-service URL --name NAME, or --cluster NAME (or --export FILE)");

      const result: RegisterResult = await register(input, target, {
        ...connectionFrom("register", values, values.json ? () => {} : log),
        mode: values.patch ? "patch" : "put",
        dryRun: values["dry-run"] === true,
        stateDir: values["state-dir"],
        ...(values["verify-key"] !== undefined ? { verifyKey: values["verify-key"] } : {}),
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ image: source.image, params, ...result, target: printableTarget(result.target) }, null, 2)}\n`);
      } else if (result.dryRun) {
        process.stdout.write(`${result.diff}\n`);
        if (result.artifacts.length > 0) process.stdout.write(`artifacts:\n${artifactLines(result.artifacts).join("\n")}\n`);
        if (result.artifactProblems.length > 0)
          process.stdout.write(`a real run would refuse: ${result.artifactProblems.length} artifact URL(s) do not answer\n`);
      } else {
        process.stdout.write(
          result.written
            ? `registered ${source.image.name}:${source.image.tag} at ${redactUrl(target.url)} (undo: bootsmith rollback; record ${result.stateFile ?? "-"})\n`
            : `nothing to change: ${redactUrl(target.url)} already boots ${source.image.name}:${source.image.tag} with these params\n`,
        );
      }
      return result.artifactProblems.length > 0 ? EXIT.failed : EXIT.ok;
    } catch (error) {
      throw registrationContext(error);
    }
  },
};
