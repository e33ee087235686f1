// bootsmith import: argument parsing only; the bundle is read by src/lifecycle/bundle-import.ts.
import path from "node:path";
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs, targetSpecOptions } from "./args.js";
import { withSigner } from "./publish.js";
import type { Signer } from "../sign/gpg.js";
import { importBundle, type ImportDestination } from "../lifecycle/bundle-import.js";
import { nothingPublishedSummary } from "../lifecycle/import-tags.js";
import { formatTransfer } from "../publish/progress.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import { runLifecycle } from "./lifecycle-run.js";

export const importCommand: CliCommand = {
  name: "import",
  summary: "Verify a bundle from bootsmith export and publish it (or unpack it into a directory)",
  usage: `Usage: bootsmith import BUNDLE.tar --to TARGET [options]

Reads a bundle written by \`bootsmith export\` as a stream into a staging directory and checks
it completely before anything is published: the first entry is bundle.json; every other entry
must be listed there, arrive once, and match its size and sha256; every listed file must be
present; manifest.json must list the same artifacts with the same digests. A truncated bundle,
an extra file or a wrong digest is refused (exit 2) and nothing is published. Then the ordinary
publisher runs (manifest.json last, so an interrupted upload never looks complete).
Tags: each tag of the bundle's manifest.json is pointed at the bundle's build when the target
does not have it, holds the same build, or holds a strictly older one (dir:/s3://: the stored
manifest.json's builtAt; registry: the image's created time, to the nanosecond). A tag holding
a newer build, a different build of the same time (builds with SOURCE_DATE_EPOCH are all
created at that second) or one of unknown age is kept and named in a note, so importing an old
bundle never moves \`latest\` or \`prod\` back; --replace-newer moves it anyway (a rollback).
A bundle written with --with-image also carries the OCI image (image/: its layout must name the
digest bundle.json does and hold every blob its manifest refers to).

Targets (--to):
  s3://BUCKET[/PREFIX]   S3 or compatible: <PREFIX>/<name>/<tag>/<file>, tags as above
  dir:PATH               a directory target: PATH/<name>/<tag>/<file>, tags as above
  DIR                    a new artifact directory (as \`bootsmith build\` leaves it, SBOM and
                         signature files included), to publish or boot-test later; a bundle's
                         OCI image stays in DIR/image/ as a layout
  registry:HOST[:PORT]/REPO
                         push the bundle's OCI image (needs a --with-image bundle) as the
                         registry publisher does: blobs and manifest by digest, then with
                         --sign-key one signature per tag, then the tags (as above), so
                         no tag exists before it is complete and signed; the digest is the one
                         exported. The boot artifacts go to an s3:// or dir: target (import
                         again); to those targets the image part is verified but not published.

Options:
  --endpoint URL         S3 endpoint (default: $S3_ENDPOINT, else AWS)
  --region NAME          S3 region (default us-east-1)
  --public-base URL      base URL nodes fetch from
  --ca-file FILE         CA certificate for an https endpoint
  --tls-verify=BOOL      registry: false for a plain-http registry (default true)
  --authfile PATH        registry: containers auth file
  --sign-key KEY         registry: sign each tag (GPG simple signing, as publish --sign-key);
                         KEY is a secret key file, env:NAME or keyring:KEYID
  --sign-passphrase-env NAME  the key's passphrase variable (default BOOTSMITH_SIGN_PASSPHRASE)
  --lookaside DIR        registry, with --sign-key: where the signatures are written
                         (registries.d lookaside-staging; default: the host's registries.d)
  --replace-newer        also move tags that hold a newer build at the target (rollback)
  -h, --help             this help
  Staging directory: under $BOOTSMITH_WORK_DIR (default /var/tmp/bootsmith); it needs room for
  the unpacked image and is removed afterwards. SBOM and signature files reach DIR destinations
  only (the publishers carry the artifacts and the manifest).

Examples:
  bootsmith import compute-9.5.tar --to s3://boot-images --endpoint http://s3.airgap:7480
  bootsmith import compute-9.5.tar --to registry:reg.airgap:5000/hpc/compute --sign-key site.key

Exit codes: 0 imported, 1 the publish failed, 2 bad arguments or a bad bundle (nothing published).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("import", args, {
      to: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "public-base": { type: "string" },
      "ca-file": { type: "string" },
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
      "sign-key": { type: "string" },
      "sign-passphrase-env": { type: "string" },
      lookaside: { type: "string" },
      "replace-newer": { type: "boolean" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith import: give one bundle file and --to TARGET");
    if (!values.to) throw new UserError("bootsmith import: --to is required (s3://BUCKET[/PREFIX], dir:PATH, registry:HOST/REPO or a new directory)");
    const to = values.to;
    const toRegistry = to.startsWith("registry:");
    for (const flag of ["tls-verify", "authfile", "sign-key", "sign-passphrase-env", "lookaside"] as const)
      if (values[flag] !== undefined && !toRegistry) throw new UserError(`bootsmith import: --${flag} is for registry: targets`);
    const workDir = path.resolve(process.env.BOOTSMITH_WORK_DIR ?? "/var/tmp/bootsmith");
    const destination: ImportDestination = /^(s3:\/\/|dir:|registry:)/.test(to)
      ? {
          kind: "target",
          target: parseTargetSpec(to, targetSpecOptions(values)),
          workDir,
        }
      : { kind: "directory", dir: to };
    const run = (signer?: Signer) =>
      runLifecycle((signal) =>
        importBundle(positionals[0]!, destination, {
          signal,
          ...(signer ? { signer } : {}),
          replaceNewer: values["replace-newer"] === true,
          publish: { onTransfer: (t) => process.stderr.write(`${formatTransfer(t)}\n`) },
          onNote: (text) => process.stderr.write(`note: ${text}\n`),
        }),
      );
    const result = values["sign-key"] !== undefined ? await withSigner(values["sign-key"], values["sign-passphrase-env"], run) : await run();
    const what = `${result.manifest.name}:${result.manifest.tags[0] ?? ""}`;
    const verified = `verified ${result.index.files.length} files`;
    if (!result.dir && !result.pushed && !result.outcome) process.stdout.write(`${what}: ${verified}, ${nothingPublishedSummary(result.kept, to)}\n`);
    else if (result.dir) process.stdout.write(`${what}: ${verified}, unpacked into ${result.dir}\n`);
    else if (result.pushed)
      process.stdout.write(
        `${what}: ${verified}, pushed ${result.pushed.refs.join(", ")} (${result.pushed.digest}${result.pushed.signed ? ", signed" : ""})\n`,
      );
    else process.stdout.write(`${what}: ${verified}, published ${result.outcome?.images.map((i) => i.manifestUrl ?? `${i.name}:${i.tag}`).join(", ")}\n`);
    return EXIT.ok;
  },
};
