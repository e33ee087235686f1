// bootsmith inspect: argument parsing only; the report is src/lifecycle/inspect.ts.
import { rename, writeFile } from "node:fs/promises";
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseBool, parseCommandArgs } from "./args.js";
import { inspectImage, inspectRegistryImage } from "../lifecycle/inspect.js";
import { isRegistryRef, REGISTRY_REF_FORMS } from "../lifecycle/registry-ref.js";
import { renderInspectHtml } from "../lifecycle/inspect-html.js";
import { renderInspectText } from "../lifecycle/inspect-text.js";
import { openSource, resolveSourceSpec } from "../lifecycle/source.js";
import { runLifecycle } from "./lifecycle-run.js";

export const inspectCommand: CliCommand = {
  name: "inspect",
  summary: "What makes an image big: installed size per package, largest rootfs and initramfs directories",
  usage: `Usage: bootsmith inspect NAME:TAG | DIR | s3://BUCKET/[PREFIX/]NAME/TAG | registry:HOST/REPO:TAG [--json] [--html FILE]

Reports what makes an image big, read from its artifacts without mounting or unpacking them:
  - the size of each artifact as stored (compressed)
  - the installed size of every package, from the image's own package database in
    rootfs.squashfs (dpkg's status file, or the rpm database queried with the host's rpm)
  - the largest directories of the rootfs (from its squashfs directory table, unsquashfs -lln)
    and of the initramfs (its cpio listing), in uncompressed bytes of files and symlinks

Output: readable text (default), --json (everything, every package), or --html FILE: one
self-contained page (no network needed) with a treemap of each file tree and a bar chart of
the largest packages; the text report is printed as well.

The image:
  NAME:TAG            ./artifacts/NAME/TAG (where \`bootsmith build\` puts it), or with --from
  DIR | dir:DIR       an artifact directory with manifest.json
  s3://…/NAME/TAG     an image published to S3 (fetched and checked first)
  ${REGISTRY_REF_FORMS.join("\n  ")}
                      an image pushed to a registry, read as \`bootsmith diff\` reads one:
                      copied with skopeo into a temporary OCI layout, its layers read as tar
                      streams; the rootfs tree is the layers' files (without rootfs.exclude),
                      the initramfs is the one in /boot (checked against the image's
                      manifest); package sizes are not read (they come from rootfs.squashfs)

Options:
  --json              the report as JSON
  --html FILE         also write the report as an HTML page to FILE
  --from TARGET       where NAME:TAG was published: dir:ROOT or s3://BUCKET[/PREFIX]
  --endpoint URL      S3 endpoint for s3:// (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region (default us-east-1)
  --ca-file FILE      CA certificate for an https endpoint
  --tls-verify=BOOL   registry images: false for a plain-http registry (default true)
  --authfile PATH     registry images: containers auth file
  -h, --help          this help

Examples:
  bootsmith inspect artifacts/compute/9.5
  bootsmith inspect compute:9.5 --html compute-size.html
  bootsmith inspect registry:127.0.0.1:5000/bootsmith/compute:9.5 --tls-verify=false

Exit codes: 0 reported, 1 an artifact could not be read, 2 bad arguments or not an image.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("inspect", args, {
      json: { type: "boolean" },
      html: { type: "string" },
      from: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
    });
    if (positionals.length !== 1)
      throw new UserError("bootsmith inspect: give one image (NAME:TAG, an artifact directory, s3://…/NAME/TAG or registry:HOST/REPO:TAG)");
    if (values.html === "") throw new UserError("bootsmith inspect: --html needs a file name, e.g. --html size.html");
    const tlsVerify = parseBool("--tls-verify", values["tls-verify"]);
    const report = await runLifecycle(async (signal) => {
      if (isRegistryRef(positionals[0]!)) {
        if (values.from !== undefined) throw new UserError(`bootsmith inspect: --from is for NAME:TAG, not with ${positionals[0]}`);
        return inspectRegistryImage(positionals[0]!, {
          signal,
          ...(tlsVerify !== undefined ? { tlsVerify } : {}),
          ...(values.authfile ? { authFile: values.authfile } : {}),
        });
      }
      const endpoint = values.endpoint ?? process.env.S3_ENDPOINT;
      const spec = resolveSourceSpec(positionals[0]!, values.from);
      const source = await openSource(spec, {
        signal,
        ...(endpoint ? { endpoint } : {}),
        ...(values.region ? { region: values.region } : {}),
        ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
      });
      try {
        return await inspectImage(source.dir, signal, spec.startsWith("s3://") ? spec : source.dir);
      } finally {
        await source.close();
      }
    });
    if (values.html) {
      // Written beside the target and renamed, so a reader never sees half a page.
      const partial = `${values.html}.partial-${process.pid}`;
      await writeFile(partial, renderInspectHtml(report));
      await rename(partial, values.html);
    }
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderInspectText(report));
    if (values.html && !values.json) process.stdout.write(`\nwrote ${values.html}\n`);
    return EXIT.ok;
  },
};
