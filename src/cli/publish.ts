// `bootsmith publish <artifact-dir> --to TARGET`: put a built image where nodes can fetch it.
import { BootsmithError, EXIT, UserError, withContext } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseBool, parseCommandArgs, STORAGE_OPTIONS, storageFlags, targetSpecOptions } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { imageStorageArgs, type StorageFlags } from "../builder/storage.js";
import {
  formatTransfer,
  publish,
  writePublishedRecord,
  PublishError,
  S3_LAYOUTS,
  S3_VERIFY_MODES,
  type PublishTarget,
  type S3Layout,
  type S3Verify,
} from "../publish/index.js";
import { MIB } from "../publish/s3-upload.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import { loadArtifactSet } from "../publish/artifacts.js";
import { publishManifestList } from "../publish/manifest-list.js";
import { loadMultiArchSet, publishMultiArch, type MultiArchSet } from "../publish/multi-arch.js";
import { CleanupStack } from "../exec/cleanup.js";
import { messageReporter, silentReporter } from "../exec/events.js";
import { INTERRUPT_EXIT_CODES, onInterruptSignals, type InterruptSignal } from "../exec/signals.js";
import { openSigner, type Signer } from "../sign/gpg.js";
import { DEFAULT_PASSPHRASE_ENV, parseSigningKey } from "../sign/key.js";
import { signArtifactDir } from "../sign/sign-dir.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import { rmSync } from "node:fs";
import path from "node:path";

const usage = `Usage: bootsmith publish <artifact-dir> --to TARGET [options]
       bootsmith publish <artifact-dir> <artifact-dir>… --to registry:HOST[:PORT]/REPO [options]

Publish the image a build left in <artifact-dir> (vmlinuz, initramfs.img, rootfs.squashfs,
manifest.json) under every tag its manifest lists. manifest.json is written last: its presence
means the set is complete. Objects that already hold the same bytes (sha256) are skipped.

Targets (--to):
  s3://BUCKET[/PREFIX]         S3 or compatible (Ceph RGW, MinIO): <PREFIX>/<name>/<tag>/<file>
  dir:PATH                     a directory: PATH/<name>/<tag>/<file> (serve it with bootsmith serve)
  registry:HOST[:PORT]/REPO    an OCI registry: buildah push of the built image to REPO:<tag>
                               (with --sign-key: signed, each tag pushed after its signature)

A recipe built for several architectures (arches:): give its combined directory
<out>/<name>/<tag> (manifest.json listing the architectures, one directory per architecture).
A registry gets one manifest list per tag (as below); S3 and dir: targets get each
architecture under <name>/<tag>/<arch>/ and then the combined manifest.json at
<name>/<tag>/manifest.json, written last. Register one architecture with register --arch.
With --sign-key each architecture's set is signed, and signed again after a registry push
records the image and list digests in its manifest.json.

Several architectures (registry only): give one artifact directory per architecture (their
manifests' arch differ, their tags agree). Each image is pushed as REPO:<tag>-<arch> (amd64,
arm64) and REPO:<tag> becomes a manifest list (OCI index) of them by platform, so a node's
container engine pulls its own architecture. \`skopeo inspect --raw docker://REPO:<tag>\` shows it.

S3 options:
  --prefix P             key prefix (overrides the PREFIX of --to). bootsmith layout: a folder,
                         with or without its trailing "/"; image-builder layout: pasted into
                         the names, as image-builder's s3_prefix
  --force-path-style=BOOL  path-style URLs (default: true with --endpoint, false on AWS)
  --endpoint URL         upload endpoint, e.g. http://rgw.example:7480 (default: $S3_ENDPOINT, else AWS)
  --region NAME          default us-east-1
  --public-base URL      base URL nodes fetch from (default: <endpoint>/<bucket>)
  --layout NAME          bootsmith (default) or image-builder (efi-images/<prefix>vmlinuz-KVER, …)
  --ca-file PATH         PEM CA for an https endpoint with a private CA
  --part-size MIB        multipart part size (default 8)
  --concurrency N        parts in flight (default 4; memory ≈ N × part size)
  --verify MODE          metadata (default): HEAD each object, compare its size and the sha256
                         the upload stored in its metadata; full: also download every object
                         and hash the bytes the server returns before manifest.json is written
  Credentials: S3_ACCESS/S3_SECRET, else the AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
  AWS_PROFILE, …). They are never printed.

Directory options:
  --public-base URL      base URL under which PATH is served (default: file:// URLs)

Registry options:
  --tls-verify=BOOL      true (default) or false for a plain-http registry
  --authfile PATH        containers auth file (default: $REGISTRY_AUTH_FILE / buildah's default)
  --lookaside DIR        with --sign-key: write the image signatures under DIR (registries.d
                         lookaside-staging; default: the host's registries.d configuration)
  --root DIR, --runroot DIR, --storage-driver D
                         buildah storage the image is pushed from. Default: the storage
                         \`bootsmith build\` uses here (as \`bootsmith plan\` shows): root
                         $BOOTSMITH_STORAGE_ROOT, else buildah's own; run root: for a root given
                         either way, the one bootsmith keeps for it (/run/bootsmith/runroot-<hash>),
                         else buildah's; driver $BOOTSMITH_STORAGE_DRIVER, else the root's own

Signing:
  --sign-key KEY         write SHA256SUMS (every file manifest.json lists, and manifest.json) and
                         SHA256SUMS.sig (GnuPG detached signature) into <artifact-dir> first, and
                         publish them; KEY is a secret key file, env:NAME or keyring:KEYID.
                         A registry image gets a GPG "simple signing" signature per tag
                         (what policy.json signedBy checks), in the lookaside store.
                         A set the build already signed is published with its signature as is.
  --sign-passphrase-env NAME  variable holding the key's passphrase (default BOOTSMITH_SIGN_PASSPHRASE)

Output:
  One line per object on stderr (uploaded / copied / skipped, size, MB/s), then the primary
  tag's URLs on stdout; --json prints its PublishedImage instead; --record FILE also writes
  that JSON to FILE (what \`bootsmith register FILE\` reads; a build's publish step does this).

Examples:
  bootsmith publish out/compute --to s3://boot-images/ --endpoint http://127.0.0.1:7480 \\
      --public-base http://10.0.2.2:7480/boot-images
  bootsmith publish out/compute --to dir:/srv/boot --public-base http://10.0.2.2:8080
  bootsmith publish out/compute --to registry:127.0.0.1:5000/bootsmith/compute --tls-verify=false

Exit codes: 0 published, 1 the publish failed, 2 bad arguments or artifact directory.
`;

export const PUBLISH_OPTIONS = {
  to: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  "public-base": { type: "string" },
  layout: { type: "string" },
  "ca-file": { type: "string" },
  "part-size": { type: "string" },
  concurrency: { type: "string" },
  verify: { type: "string" },
  "tls-verify": { type: "string" },
  authfile: { type: "string" },
  lookaside: { type: "string" },
  json: { type: "boolean" },
  prefix: { type: "string" },
  "force-path-style": { type: "string" },
  ...STORAGE_OPTIONS,
  record: { type: "string" },
  "sign-key": { type: "string" },
  "sign-passphrase-env": { type: "string" },
} as const;

type PublishValues = ReturnType<typeof parseCommandArgs<typeof PUBLISH_OPTIONS>>["values"];

/**
 * The target and buildah storage flags. `bootsmith plan` renders a recipe's target as these
 * flags (plan/commands.ts); test/plan/commands.test.ts parses them back here.
 */
export function publishRequest(values: PublishValues, env: NodeJS.ProcessEnv = process.env): { target: PublishTarget; storage: StorageFlags } {
  if (!values.to) throw new UserError("bootsmith publish: --to is required (s3://BUCKET[/PREFIX], dir:PATH or registry:HOST/REPO)");
  const layout = values.layout;
  if (layout !== undefined && !S3_LAYOUTS.includes(layout as S3Layout)) throw new UserError(`--layout ${layout}: expected one of ${S3_LAYOUTS.join(", ")}`);
  const target = parseTargetSpec(values.to, {
    ...targetSpecOptions(values, env),
    layout: layout as S3Layout | undefined,
    prefix: values.prefix,
    forcePathStyle: parseBool("--force-path-style", values["force-path-style"]),
  });
  return { target, storage: storageFlags(values) };
}

/** buildah's options for the storage the image is pushed from: only a registry target reads it. */
async function pushStorage(target: PublishTarget, flags: StorageFlags): Promise<string[]> {
  return target.type === "registry" ? imageStorageArgs(flags) : [];
}

export const publishCommand: CliCommand = {
  name: "publish",
  summary: "Upload a built image to S3, a directory or an OCI registry",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("publish", args, PUBLISH_OPTIONS);
    const [dir, ...extra] = positionals;
    if (!dir) throw new UserError(`bootsmith publish: give an artifact directory.\n${usage.split("\n")[0]}`);
    if (extra.length > 0) return publishArchitectures(positionals, values);
    const multi = await loadMultiArchSet(dir);
    if (multi) return publishCombined(multi, values);
    const verify = values.verify;
    if (verify !== undefined && !S3_VERIFY_MODES.includes(verify as S3Verify))
      throw new UserError(`--verify ${verify}: expected one of ${S3_VERIFY_MODES.join(", ")}`);

    const controller = new AbortController();
    let received: InterruptSignal | undefined;
    const interrupt = (signal: InterruptSignal) => {
      received ??= signal;
      controller.abort(new Error("interrupted"));
    };
    const stopListening = onInterruptSignals(interrupt);
    try {
      const request = publishRequest(values);
      const { target } = request;
      if (target.type === "registry") await refuseOneArchitectureToRegistry(dir);
      const storage = await pushStorage(target, request.storage);
      const partSize = parsePositive("--part-size", values["part-size"]);
      const queueSize = parsePositive("--concurrency", values.concurrency);
      const publishWith = async (signer?: Signer) => {
        if (signer) await signOpenedSet(dir, signer);
        return publish(dir, target, {
          signal: controller.signal,
          onTransfer: (t) => process.stderr.write(`${formatTransfer(t)}\n`),
          s3: { partSize: partSize === undefined ? undefined : partSize * MIB, queueSize, verify: verify as S3Verify | undefined },
          registry: { buildahGlobalArgs: storage, ...(signer ? { signer } : {}) },
        });
      };
      // The key signs SHA256SUMS and, for a registry, the pushed image: it stays open for both.
      const outcome = values["sign-key"] !== undefined ? await withSigner(values["sign-key"], values["sign-passphrase-env"], publishWith) : await publishWith();
      const primary = outcome.images[0];
      if (!primary) throw new PublishError("nothing was published (the manifest lists no tags)", "verify-failed");
      if (values.record) writePublishedRecord(values.record, primary);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(primary, null, 2)}\n`);
      } else {
        for (const [role, url] of Object.entries(primary.urls)) process.stdout.write(`${role.padEnd(8)} ${url}\n`);
        if (primary.manifestUrl) process.stdout.write(`manifest ${primary.manifestUrl}\n`);
        if (primary.signatureUrl) process.stdout.write(`signature ${primary.signatureUrl}\n`);
        if (primary.image) process.stdout.write(`image    ${primary.image.ref}@${primary.image.digest}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      // Context only: cli/main.ts reports every error and picks its exit code (bad input 2, a failed publish 1).
      if (received)
        throw new BootsmithError(
          "bootsmith publish: interrupted; partial uploads were aborted, manifest.json was not written",
          INTERRUPT_EXIT_CODES[received],
          {
            cause: error,
          },
        );
      if (error instanceof PublishError) throw withContext("bootsmith publish", error);
      throw error;
    } finally {
      stopListening();
    }
  },
};

/** Several artifact directories, one per architecture, as one manifest list per tag. */
async function publishArchitectures(dirs: readonly string[], values: PublishValues): Promise<number> {
  const request = publishRequest(values);
  const { target } = request;
  if (target.type !== "registry")
    throw new UserError(
      `bootsmith publish: several artifact directories go to a registry (one manifest list per tag); publish them to ${target.type} one at a time`,
    );
  for (const flag of ["sign-key", "record"] as const)
    if (values[flag] !== undefined)
      throw new UserError(`bootsmith publish: --${flag} takes one artifact directory; use it on each architecture's set on its own`);
  // Errors go to cli/main.ts, which reports them: bad input (PublishInputError) exits 2, a failed push 1.
  const sets = await Promise.all(dirs.map((d) => loadArtifactSet(d)));
  const { lists } = await publishManifestList(sets, target, {
    buildahGlobalArgs: await pushStorage(target, request.storage),
    onTransfer: (t) => process.stderr.write(`${formatTransfer(t)}\n`),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(lists, null, 2)}\n`);
  else
    for (const l of lists) {
      process.stdout.write(`list     ${l.ref}@${l.digest}\n`);
      for (const p of l.platforms) process.stdout.write(`  ${p.os}/${p.arch.padEnd(7)} ${p.ref}@${p.digest}\n`);
    }
  return EXIT.ok;
}

/**
 * The directory of a recipe built for several architectures (combined manifest.json above one
 * directory per architecture): every architecture to the target, the combined manifest last.
 */
async function publishCombined(multi: MultiArchSet, values: PublishValues): Promise<number> {
  const request = publishRequest(values);
  const { target } = request;
  if (values.record !== undefined)
    throw new UserError(`bootsmith publish: --record takes one architecture's set (${multi.dir}/<arch>); the combined directory's is published.json`);
  const verify = values.verify;
  if (verify !== undefined && !S3_VERIFY_MODES.includes(verify as S3Verify))
    throw new UserError(`--verify ${verify}: expected one of ${S3_VERIFY_MODES.join(", ")}`);
  const storage = await pushStorage(target, request.storage);
  // With --sign-key every architecture's set is signed first, and again after a registry records
  // the pushed image and list digests in its manifest.json (the combined manifest follows them).
  const publishWith = async (signer?: Signer) => {
    if (signer) for (const set of multi.sets) await signOpenedSet(set.dir, signer);
    // Read again: the sets now carry their signatures (what the publishers upload and re-sign).
    const signed = signer ? ((await loadMultiArchSet(multi.dir)) ?? multi) : multi;
    return publishMultiArch(signed, target, {
      onTransfer: (t) => process.stderr.write(`${formatTransfer(t)}\n`),
      reporter: messageReporter((line) => process.stderr.write(`${line}\n`)),
      s3: { verify: verify as S3Verify | undefined },
      registry: { buildahGlobalArgs: storage, ...(signer ? { signer } : {}) },
    });
  };
  const outcome = values["sign-key"] !== undefined ? await withSigner(values["sign-key"], values["sign-passphrase-env"], publishWith) : await publishWith();
  if (values.json) process.stdout.write(`${JSON.stringify(outcome.images, null, 2)}\n`);
  else {
    process.stdout.write(
      `${multi.manifest.name}:${multi.manifest.tags.join(",")} for ${Object.keys(multi.manifest.arches).join(", ")} published to ${target.type}\n`,
    );
    for (const image of outcome.images.filter((i) => i.tag === multi.manifest.tags[0]))
      for (const [role, url] of Object.entries(image.urls)) process.stdout.write(`${(image.arch ?? "").padEnd(8)} ${role.padEnd(8)} ${url}\n`);
  }
  return EXIT.ok;
}

/**
 * One architecture's set of a recipe built for several would replace REPO:<tag> (the manifest
 * list of all of them) with that architecture alone: the combined directory publishes the list.
 */
async function refuseOneArchitectureToRegistry(dir: string): Promise<void> {
  const { manifest } = await loadArtifactSet(dir);
  if (manifest.arches)
    throw new UserError(
      `${dir} is the ${manifest.arch} set of ${manifest.name}, built for ${manifest.arches.join(", ")}: publishing it alone would make each tag ${manifest.arch} only; publish the combined directory (${path.dirname(path.resolve(dir))}), one manifest list per tag`,
    );
}

/** Check the directory, prove the key (exit 2 when it cannot sign), then sign the set in place. */
export async function signArtifactSet(dir: string, key: string, passphraseEnv: string | undefined): Promise<void> {
  await withSigner(key, passphraseEnv, (signer) => signOpenedSet(dir, signer));
}

/**
 * Open the --sign-key signer (exit 2 when it cannot sign, before anything is read or pushed), run
 * `work` with it, and remove its private GnuPG home afterwards, whatever happens.
 */
export async function withSigner<T>(key: string, passphraseEnv: string | undefined, work: (signer: Signer) => Promise<T>): Promise<T> {
  const cleanup = new CleanupStack();
  let signer: Signer;
  try {
    signer = await openSigner(parseSigningKey(key), { cleanup, passphrase: process.env[passphraseEnv ?? DEFAULT_PASSPHRASE_ENV] });
  } catch (error) {
    throw new UserError(`--sign-key: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return await work(signer);
  } finally {
    await signer.close();
    await cleanup.unwind();
  }
}

async function signOpenedSet(dir: string, signer: Signer): Promise<void> {
  // A previous signature is replaced; the set itself is checked first (exit 2 when it is not one).
  for (const file of [SUMS_FILE, SIGNATURE_FILE]) rmSync(path.join(dir, file), { force: true });
  await loadArtifactSet(dir);
  await signArtifactDir(dir, signer, { step: "sign", reporter: silentReporter });
  process.stderr.write(`signed SHA256SUMS with key ${signer.fingerprint}\n`);
}

function parsePositive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = wholeNumber(value);
  if (n === undefined || n <= 0) throw new UserError(`${flag} ${value}: expected a positive whole number`);
  return n;
}
