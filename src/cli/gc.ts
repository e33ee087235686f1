// bootsmith gc: argument parsing only; the plan and the deletion are src/lifecycle/gc.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError, withContext } from "../core/errors.js";
import { parseCommandArgs, targetSpecOptions } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { applyGc, describeReasons, describeSetPart, planGc } from "../lifecycle/gc.js";
import { LifecycleInputError } from "../lifecycle/errors.js";
import { openStore } from "../lifecycle/open-store.js";
import { RegistryStore } from "../lifecycle/store-registry.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import { findOchamiCluster, loadOchamiConfig, ochamiConfigPaths, ochamiServiceUri } from "../register/auth.js";
import { bootReferences, type BootReference, type ConnectionOptions } from "../register/register.js";
import { BootServiceLegacyError } from "../register/bss.js";
import { RegistrationError } from "../register/errors.js";
import { runLifecycle } from "./lifecycle-run.js";

export const gcCommand: CliCommand = {
  name: "gc",
  summary: "Delete old published images, keeping the newest, the promoted and what nodes boot",
  usage: `Usage: bootsmith gc TARGET --keep N (--bss URL | --boot-service URL | --cluster NAME | --no-references) [--yes]

Lists the tags of every image in TARGET (dir:ROOT or s3://BUCKET[/PREFIX], bootsmith layout, or
registry:HOST[:PORT]/REPO) and deletes, per image name, every complete tag except:
  - the newest N (by the manifest's builtAt),
  - any tag a boot service still points nodes at: its <name>/<tag>/ appears in a kernel, initrd
    or params URL of a BSS entry or boot-service BootConfiguration (asked now, read-only); for a
    registry, an image reference there (HOST[:PORT]/REPO:TAG or @DIGEST) names it exactly, and
    one that may name it (the same REPO:TAG under another host spelling, 127.0.0.1 for
    localhost; a blob URL of REPO) keeps it too, saying why,
  - any tag named in a promotion (the manifests' \`promotions\`: both the source and the new tag).
A dry run by default: it prints what would be kept (and why) and what would be deleted. With
--yes each tag is deleted manifest.json first, then its artifacts, so a run cut short leaves
tags without a manifest (incomplete), never a complete-looking set with missing files. Tags
that already lack manifest.json (a publish in progress or cut short) are listed, not deleted.
If a boot service cannot be asked, nothing is deleted.

Options:
  --keep N            newest complete tags to keep per image name (required, ≥ 1)
  --name NAME         only this image name
  --yes               delete (default: dry run)
  --dry-run           only show the plan (the default; refuses to go with --yes)
  --bss URL           ask this BSS which images nodes boot (repeatable)
  --boot-service URL  ask this boot-service (repeatable)
  --cluster NAME      ask the ochami cluster's BSS (~/.config/ochami/config.yaml, /etc/ochami/…)
  --no-references     no node boots from TARGET: skip the boot-service check
  --token TOKEN       bearer token (else $BSS_TOKEN, else the ochami cluster's token)
  --endpoint URL      S3 endpoint (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region
  --ca-file FILE      CA certificate for an https S3 endpoint
  --json              the plan (and what was deleted) as JSON
  -h, --help          this help
  --tls-verify=BOOL   registry targets: false for a plain-http registry (default true)
  --authfile PATH     registry targets: containers auth file
Registry targets: a tag is complete when it exists; its age is the image config's created time;
a tag the build did not give the image (label io.bootsmith.tags) was made by promote and is
kept; a tag is deleted by its manifest digest (the registry API's only delete, which removes
every tag on that digest), so a digest any kept tag has is kept. A recipe with arches: is a set
per tag: the manifest list <tag> and its images <tag>-amd64 / <tag>-arm64, ranked, kept and
deleted together (the list first); a set whose image a kept list names is kept. The registry needs deletes
enabled (docker-registry: storage.delete.enabled: true); reclaiming the blobs is its own
garbage collection's job.

Example:
  bootsmith gc s3://boot-images --endpoint http://s3:7480 --keep 3 --bss http://bss:27778 --yes

Exit codes: 0 done (or dry run), 1 a boot service or the target failed (nothing more deleted),
2 bad arguments.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("gc", args, {
      keep: { type: "string" },
      name: { type: "string" },
      yes: { type: "boolean" },
      "dry-run": { type: "boolean" },
      bss: { type: "string", multiple: true },
      "boot-service": { type: "string", multiple: true },
      cluster: { type: "string" },
      "no-references": { type: "boolean" },
      token: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      json: { type: "boolean" },
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith gc: give one target, dir:ROOT, s3://BUCKET[/PREFIX] or registry:HOST[:PORT]/REPO");
    if (values.yes && values["dry-run"]) throw new UserError("bootsmith gc: --yes and --dry-run exclude each other");
    const keep = wholeNumber(values.keep);
    if (keep === undefined || keep < 1)
      throw new UserError(`bootsmith gc: --keep N is required, a whole number ≥ 1${values.keep !== undefined ? ` (got ${values.keep})` : ""}`);
    /** Each service to ask, with the option that named it (for advice about that option). */
    const services: { type: "bss" | "boot-service"; url: string; given: string }[] = [
      ...(values.bss ?? []).map((url) => ({ type: "bss" as const, url, given: "--bss" })),
      ...(values["boot-service"] ?? []).map((url) => ({ type: "boot-service" as const, url, given: "--boot-service" })),
    ];
    if (values.cluster !== undefined) {
      const cluster = findOchamiCluster(loadOchamiConfig(ochamiConfigPaths()), values.cluster);
      const url = ochamiServiceUri(cluster, "bss");
      if (!url) throw new UserError(`bootsmith gc: ochami cluster "${cluster.name}" (${cluster.file}) has no bss URI; pass --bss URL`);
      services.push({ type: "bss", url, given: `--cluster ${cluster.name} (its bss URI)` });
    }
    if (services.length === 0 && !values["no-references"]) {
      throw new UserError(
        "bootsmith gc: it must know which images nodes boot: give --bss URL, --boot-service URL or --cluster NAME (or --no-references when no node boots from this target)",
      );
    }
    const target = parseTargetSpec(positionals[0]!, targetSpecOptions(values), null);
    const store = openStore(target);
    try {
      const { plan, deleted } = await runLifecycle(async (signal) => {
        const references: BootReference[] = [];
        const connection = { ...(values.token ? { token: values.token } : {}), ...(values.cluster ? { cluster: values.cluster } : {}) };
        for (const s of services) references.push(...(await askBootService(s, connection)));
        // A registry deletes by digest, repository-wide: every tag there (of any image name) keeps
        // what it needs, so --name narrows what is decided, not what is listed.
        const tags = await store.list(store instanceof RegistryStore ? undefined : values.name, signal);
        // A mistyped --name is not an image with nothing to delete ("0 deleted, 0 kept", exit 0).
        if (values.name !== undefined && !tags.some((t) => t.name === values.name))
          throw new LifecycleInputError(`--name ${values.name}: ${store.label} holds no image of that name; give the NAME of a published NAME:TAG`);
        const plan = planGc(tags, references, keep, (reference, t) => store.matchReference(reference, t), values.name);
        const deleted = values.yes ? await applyGc(store, plan, signal, (n, t) => !values.json && process.stdout.write(`deleted ${n}:${t}\n`)) : 0;
        return { plan, deleted };
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ target: store.label, dryRun: !values.yes, ...plan, deleted }, null, 2)}\n`);
        return EXIT.ok;
      }
      if (!values.yes) {
        for (const k of plan.keep)
          process.stdout.write(
            `keep        ${k.name}:${k.tag}  built ${k.builtAt ?? "?"}  (${k.set !== undefined ? `set ${k.set}: ` : ""}${describeReasons(k.reasons)})\n`,
          );
        for (const r of plan.remove) process.stdout.write(`would delete ${r.name}:${r.tag}  built ${r.builtAt}${describeSetPart(plan.remove, r)}\n`);
      }
      for (const i of plan.incomplete) process.stdout.write(`incomplete  ${i.name}:${i.tag}  (no manifest.json: left alone)\n`);
      process.stdout.write(
        values.yes
          ? `${store.label}: deleted ${deleted} tag(s), kept ${plan.keep.length}\n`
          : `${store.label}: dry run: ${plan.remove.length} tag(s) would be deleted, ${plan.keep.length} kept; run again with --yes to delete\n`,
      );
    } finally {
      store.close();
    }
    return EXIT.ok;
  },
};

/**
 * Which images a boot service points nodes at. Its errors say "bootsmith gc:" and, for
 * boot-service's own /boot/v1 given as BSS, how to give it to gc instead of register's advice.
 * Nothing has been deleted when this fails: the references are read first.
 */
async function askBootService(service: { type: "bss" | "boot-service"; url: string; given: string }, connection: ConnectionOptions): Promise<BootReference[]> {
  try {
    return await bootReferences(service, connection);
  } catch (error) {
    if (error instanceof BootServiceLegacyError)
      throw withContext(
        "bootsmith gc",
        new RegistrationError(
          "rejected",
          `${error.answered}: give it to gc as --boot-service ${error.bootService} (gc then reads its BootConfigurations) instead of ${service.given}; nothing was deleted`,
          { cause: error },
        ),
      );
    if (error instanceof RegistrationError) throw withContext("bootsmith gc", error);
    throw error;
  }
}
