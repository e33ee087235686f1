// bootsmith diff A B: argument parsing only; the comparison is src/lifecycle/diff.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseBool, parseCommandArgs } from "./args.js";
import { diffSources } from "../lifecycle/diff.js";
import { renderDiff, type DiffFormat } from "../lifecycle/diff-render.js";
import { SOURCE_FORMS } from "../lifecycle/source.js";
import { REGISTRY_REF_FORMS } from "../lifecycle/registry-ref.js";
import { runLifecycle } from "./lifecycle-run.js";

export const diffCommand: CliCommand = {
  name: "diff",
  summary: "Compare two images: packages, rootfs and initramfs files, kernel, params, sizes",
  usage: `Usage: bootsmith diff A B [--json | --markdown] [--endpoint URL] [--tls-verify=false]

Compares image A (before) with image B (after):
  - packages added, removed, changed (old → new version), from the manifests
  - rootfs files added, removed, changed in size, mode, owner or link target, read from the
    squashfs directory table with \`unsquashfs -lln\` (nothing is unpacked); directory sizes and
    times are not compared, and a file rewritten with the same length does not show
  - initramfs files (added, removed, changed in size or mode) and dracut modules (modules.txt)
  - kernel version, kernel params template, and the size of each artifact (and whether its
    bytes are the same, by sha256)

A and B are each one of (any two, e.g. a directory against a registry image):
  ${[...SOURCE_FORMS, ...REGISTRY_REF_FORMS].join("\n  ")}
DIR is an artifact directory as \`bootsmith build\` leaves it, or a directory publish target's
<dir>/<name>/<tag>. s3:// images are fetched to a temporary directory, every artifact checked
against the manifest's sha256 (credentials: S3_ACCESS/S3_SECRET or the AWS SDK chain).
A registry image is copied with skopeo into a temporary OCI layout (the host's policy.json
applies) and its layers are read as tar streams, nothing unpacked: the manifest the build put in
the image (/usr/lib/bootsmith/manifest.json) gives packages, kernel, params and artifact sizes,
the merged layers give the rootfs files (without the recipe's rootfs.exclude paths, as in the
squashfs), /boot/initramfs-live-KVER.img (checked against that manifest) the initramfs files. A
registry image holds no rootfs.squashfs, so that artifact's size is not compared.

Options:
  --json              the diff as JSON
  --markdown          the diff as Markdown, for a merge-request comment
  --endpoint URL      S3 endpoint for s3:// images (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region (default us-east-1)
  --ca-file FILE      CA certificate for an https endpoint
  --tls-verify=BOOL   registry images: false for a plain-http registry (default true)
  --authfile PATH     registry images: containers auth file
  -h, --help          this help

Examples:
  bootsmith diff artifacts/compute/9.4 artifacts/compute/9.5
  bootsmith diff s3://boot-images/compute/prod artifacts/compute/9.5 --endpoint http://s3:7480 --markdown
  bootsmith diff registry:127.0.0.1:5000/bootsmith/compute:9.4 artifacts/compute/9.5 --tls-verify=false

Exit codes: 0 compared (whether or not they differ), 1 could not read a published image,
2 bad arguments, a side that is not an image, or an unknown registry tag.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("diff", args, {
      json: { type: "boolean" },
      markdown: { type: "boolean" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
    });
    if (positionals.length !== 2)
      throw new UserError(
        `bootsmith diff: give two images, A (before) and B (after), e.g. bootsmith diff artifacts/x/1 artifacts/x/2; got ${positionals.length}`,
      );
    if (values.json && values.markdown) throw new UserError("bootsmith diff: --json and --markdown exclude each other; pick one");
    const format: DiffFormat = values.json ? "json" : values.markdown ? "markdown" : "text";
    const [a, b] = positionals as [string, string];
    const endpoint = values.endpoint ?? process.env.S3_ENDPOINT;
    const tlsVerify = parseBool("--tls-verify", values["tls-verify"]);
    const diff = await runLifecycle((signal) =>
      diffSources(a, b, {
        signal,
        ...(endpoint ? { endpoint } : {}),
        ...(values.region ? { region: values.region } : {}),
        ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
        registry: { ...(tlsVerify !== undefined ? { tlsVerify } : {}), ...(values.authfile ? { authFile: values.authfile } : {}) },
      }),
    );
    process.stdout.write(renderDiff(diff, format));
    return EXIT.ok;
  },
};
