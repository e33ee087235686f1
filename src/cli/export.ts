// bootsmith export: argument parsing only; the bundle is written by src/lifecycle/bundle-export.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";
import { exportBundle } from "../lifecycle/bundle-export.js";
import { openSource, resolveSourceSpec } from "../lifecycle/source.js";
import { formatBytes } from "../core/format.js";
import { runLifecycle } from "./lifecycle-run.js";

export const exportCommand: CliCommand = {
  name: "export",
  summary: "Write an image (artifacts, manifest, SBOM/signatures) into one tar for air-gapped sites",
  usage: `Usage: bootsmith export NAME:TAG | DIR | s3://BUCKET/[PREFIX/]NAME/TAG -o BUNDLE.tar [--from TARGET]

Writes one plain tar holding bundle.json (every file's size and sha256), manifest.json, the
artifacts it lists, and any SBOM (sbom*.json) or signature files (*.sig, *.asc, *.pem,
*.intoto.jsonl, *.sigstore.json, *.cosign.bundle) next to the manifest. Carry it across the air
gap and run \`bootsmith import BUNDLE.tar --to TARGET\` there. Files are streamed (memory stays
flat whatever the rootfs size) and checked against the manifest's sha256 on the way; the tar is
written as BUNDLE.tar.partial-PID and renamed when complete.

The image:
  NAME:TAG            ./artifacts/NAME/TAG (where \`bootsmith build\` puts it), or with --from
  DIR | dir:DIR       an artifact directory with manifest.json
  s3://…/NAME/TAG     an image published to S3 (fetched and checked first)

Options:
  -o, --output FILE   the bundle to write (required; refused if it exists)
  --from TARGET       where NAME:TAG was published: dir:ROOT or s3://BUCKET[/PREFIX]
  --endpoint URL      S3 endpoint for s3:// (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region (default us-east-1)
  --ca-file FILE      CA certificate for an https endpoint
  -h, --help          this help

Example:
  bootsmith export compute:9.5 -o compute-9.5.tar
  bootsmith export compute:prod --from s3://boot-images --endpoint http://s3:7480 -o prod.tar

Exit codes: 0 written, 1 failed (an artifact changed since the build, S3 unreachable),
2 bad arguments or not an image.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("export", args, {
      output: { type: "string", short: "o" },
      from: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith export: give one image (NAME:TAG, a directory or s3://…/NAME/TAG) and -o BUNDLE.tar");
    if (!values.output) throw new UserError("bootsmith export: -o BUNDLE.tar is required");
    const output = values.output;
    const result = await runLifecycle(async (signal) => {
      const spec = resolveSourceSpec(positionals[0]!, values.from);
      const endpoint = values.endpoint ?? process.env.S3_ENDPOINT;
      const source = await openSource(spec, {
        signal,
        ...(endpoint ? { endpoint } : {}),
        ...(values.region ? { region: values.region } : {}),
        ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
      });
      try {
        return await exportBundle(source.dir, output, {
          signal,
          onFile: (f) => process.stderr.write(`packed    ${f.name.padEnd(16)} ${formatBytes(f.size).padStart(9)}\n`),
        });
      } finally {
        await source.close();
      }
    });
    process.stdout.write(
      `${result.output}: ${result.index.name}:${result.index.tags[0] ?? ""}, ${result.index.files.length + 1} files, ${formatBytes(result.bytes)}\n`,
    );
    return EXIT.ok;
  },
};
