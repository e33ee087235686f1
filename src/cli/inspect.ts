// bootsmith inspect: argument parsing only; the report is src/lifecycle/inspect.ts.
import { rename, writeFile } from "node:fs/promises";
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";
import { inspectImage } from "../lifecycle/inspect.js";
import { renderInspectHtml } from "../lifecycle/inspect-html.js";
import { renderInspectText } from "../lifecycle/inspect-text.js";
import { openSource, resolveSourceSpec } from "../lifecycle/source.js";
import { runLifecycle } from "./lifecycle-run.js";

export const inspectCommand: CliCommand = {
  name: "inspect",
  summary: "What makes an image big: installed size per package, largest rootfs and initramfs directories",
  usage: `Usage: bootsmith inspect NAME:TAG | DIR | s3://BUCKET/[PREFIX/]NAME/TAG [--json] [--html FILE]

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

Options:
  --json              the report as JSON
  --html FILE         also write the report as an HTML page to FILE
  --from TARGET       where NAME:TAG was published: dir:ROOT or s3://BUCKET[/PREFIX]
  --endpoint URL      S3 endpoint for s3:// (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region (default us-east-1)
  --ca-file FILE      CA certificate for an https endpoint
  -h, --help          this help

Examples:
  bootsmith inspect artifacts/compute/9.5
  bootsmith inspect compute:9.5 --html compute-size.html

Exit codes: 0 reported, 1 an artifact could not be read, 2 bad arguments or not an image.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("inspect", args, {
      json: { type: "boolean" },
      html: { type: "string" },
      from: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith inspect: give one image (NAME:TAG, an artifact directory or s3://…/NAME/TAG)");
    if (values.html === "") throw new UserError("bootsmith inspect: --html needs a file name, e.g. --html size.html");
    const report = await runLifecycle(async (signal) => {
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
