// bootsmith import: argument parsing only; the bundle is read by src/lifecycle/bundle-import.ts.
import path from "node:path";
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";
import { importBundle, type ImportDestination } from "../lifecycle/bundle-import.js";
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

Targets (--to):
  s3://BUCKET[/PREFIX]   S3 or compatible: <PREFIX>/<name>/<tag>/<file>, every tag
  dir:PATH               a directory target: PATH/<name>/<tag>/<file>
  DIR                    a new artifact directory (as \`bootsmith build\` leaves it, SBOM and
                         signature files included), to publish or boot-test later

Options:
  --endpoint URL         S3 endpoint (default: $S3_ENDPOINT, else AWS)
  --region NAME          S3 region (default us-east-1)
  --public-base URL      base URL nodes fetch from
  --ca-file FILE         CA certificate for an https endpoint
  -h, --help             this help
  Staging directory: under $BOOTSMITH_WORK_DIR (default /var/tmp/bootsmith); it needs room for
  the unpacked image and is removed afterwards. SBOM and signature files reach DIR destinations
  only (the publishers carry the artifacts and the manifest).

Example:
  bootsmith import compute-9.5.tar --to s3://boot-images --endpoint http://s3.airgap:7480

Exit codes: 0 imported, 1 the publish failed, 2 bad arguments or a bad bundle (nothing published).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("import", args, {
      to: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "public-base": { type: "string" },
      "ca-file": { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith import: give one bundle file and --to TARGET");
    if (!values.to) throw new UserError("bootsmith import: --to is required (s3://BUCKET[/PREFIX], dir:PATH or a new directory)");
    const to = values.to;
    if (to.startsWith("registry:"))
      throw new UserError(
        "bootsmith import: --to registry: is not supported (a bundle carries artifacts, not the OCI image); import to s3://, dir: or a directory",
      );
    const result = await runLifecycle(async (signal) => {
      const destination: ImportDestination = /^(s3:\/\/|dir:)/.test(to)
        ? {
            kind: "target",
            target: parseTargetSpec(to, {
              endpoint: values.endpoint ?? process.env.S3_ENDPOINT,
              region: values.region,
              publicBase: values["public-base"],
              caFile: values["ca-file"],
            }),
            workDir: path.resolve(process.env.BOOTSMITH_WORK_DIR ?? "/var/tmp/bootsmith"),
          }
        : { kind: "directory", dir: to };
      return importBundle(positionals[0]!, destination, { signal, publish: { onTransfer: (t) => process.stderr.write(`${formatTransfer(t)}\n`) } });
    });
    const what = `${result.manifest.name}:${result.manifest.tags[0] ?? ""}`;
    if (result.dir) process.stdout.write(`${what}: verified ${result.index.files.length} files, unpacked into ${result.dir}\n`);
    else
      process.stdout.write(
        `${what}: verified ${result.index.files.length} files, published ${result.outcome?.images.map((i) => i.manifestUrl ?? `${i.name}:${i.tag}`).join(", ")}\n`,
      );
    return EXIT.ok;
  },
};
