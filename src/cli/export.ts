// bootsmith export: argument parsing only; the bundle is written by src/lifecycle/bundle-export.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { parseBool, parseCommandArgs, STORAGE_OPTIONS, storageFlags } from "./args.js";
import { imageStorageArgs } from "../builder/storage.js";
import { stageImage, type BundleImageSource } from "../lifecycle/bundle-image.js";
import { loadImageDir } from "../lifecycle/image-dir.js";
import { exportBundle } from "../lifecycle/bundle-export.js";
import { openSource, resolveSourceSpec } from "../lifecycle/source.js";
import { formatBytes } from "../core/format.js";
import { runLifecycle } from "./lifecycle-run.js";

export const exportCommand: CliCommand = {
  name: "export",
  summary: "Write an image (artifacts, manifest, SBOM/signatures) into one tar for air-gapped sites",
  usage: `Usage: bootsmith export NAME:TAG | DIR | s3://BUCKET/[PREFIX/]NAME/TAG -o BUNDLE.tar [--from TARGET] [--with-image]

Writes one plain tar holding bundle.json (every file's size and sha256), manifest.json, the
artifacts it lists, and any SBOM (sbom*.json) or signature files (SHA256SUMS, *.sig, *.asc,
*.pem, *.intoto.jsonl, *.sigstore.json, *.cosign.bundle) next to the manifest. Carry it across the air
gap and run \`bootsmith import BUNDLE.tar --to TARGET\` there. Files are streamed (memory stays
flat whatever the rootfs size) and checked against the manifest's sha256 on the way; the tar is
written as BUNDLE.tar.partial-PID and renamed when complete.

With --with-image the bundle also carries the container image as an OCI image layout under
image/ (oci-layout, index.json, blobs/sha256/…; every blob listed in bundle.json with its
sha256, which is also its name), for \`bootsmith import BUNDLE.tar --to registry:HOST/REPO\`.
By default that is the image the build committed (manifest.json image.ref, copied out of
buildah's storage with \`buildah push\` and refused unless it has the id the build recorded;
a graph leaf's build, which commits no image, has none to carry);
--image takes the pushed one from a registry instead (skopeo copy --preserve-digests, so its
digest and signatures stay valid; refused if the build recorded pushing another digest there).
The layout is staged under $BOOTSMITH_WORK_DIR (default /var/tmp/bootsmith) and removed after.

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
  --with-image        also carry the container image as an OCI layout (see above)
  --image REF         with --with-image: take it from a registry, registry:HOST/REPO:TAG or
                      docker://HOST/REPO:TAG (default: the build's image in buildah's storage)
  --root DIR, --runroot DIR, --storage-driver D
                      buildah storage the build committed the image to (default: the one
                      \`bootsmith build\` uses here, from $BOOTSMITH_STORAGE_ROOT and
                      $BOOTSMITH_STORAGE_DRIVER; see \`bootsmith publish --help\`)
  --tls-verify=BOOL   --image: false for a plain-http registry (default true)
  --authfile PATH     --image: containers auth file
  -h, --help          this help

Example:
  bootsmith export compute:9.5 -o compute-9.5.tar
  bootsmith export compute:prod --from s3://boot-images --endpoint http://s3:7480 -o prod.tar
  bootsmith export compute:9.5 --with-image -o compute-9.5.tar
  bootsmith export compute:9.5 --with-image --image registry:reg.local/hpc/compute:9.5 -o c.tar

Exit codes: 0 written, 1 failed (an artifact changed since the build, S3 unreachable),
2 bad arguments or not an image.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("export", args, {
      output: { type: "string", short: "o" },
      from: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      "with-image": { type: "boolean" },
      image: { type: "string" },
      ...STORAGE_OPTIONS,
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith export: give one image (NAME:TAG, a directory or s3://…/NAME/TAG) and -o BUNDLE.tar");
    if (!values.output) throw new UserError("bootsmith export: -o BUNDLE.tar is required");
    const output = values.output;
    const withImage = values["with-image"] ?? false;
    for (const flag of ["image", "root", "runroot", "storage-driver", "tls-verify", "authfile"] as const)
      if (values[flag] !== undefined && !withImage) throw new UserError(`bootsmith export: --${flag} is about the image; it needs --with-image`);
    const tlsVerify = parseBool("--tls-verify", values["tls-verify"]);
    const imageSource: BundleImageSource =
      values.image !== undefined
        ? {
            kind: "registry",
            spec: values.image,
            access: { ...(tlsVerify !== undefined ? { tlsVerify } : {}), ...(values.authfile ? { authFile: values.authfile } : {}) },
          }
        : {
            kind: "local",
            buildahGlobalArgs: withImage ? await imageStorageArgs(storageFlags(values)) : [],
          };
    const result = await runLifecycle(async (signal) => {
      const spec = resolveSourceSpec(positionals[0]!, values.from);
      const endpoint = values.endpoint ?? process.env.S3_ENDPOINT;
      const source = await openSource(spec, {
        signal,
        ...(endpoint ? { endpoint } : {}),
        ...(values.region ? { region: values.region } : {}),
        ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
      });
      let staging: string | undefined;
      try {
        let image;
        if (withImage) {
          const { manifest } = await loadImageDir(source.dir, spec);
          const workDir = path.resolve(process.env.BOOTSMITH_WORK_DIR ?? "/var/tmp/bootsmith");
          await mkdir(workDir, { recursive: true });
          staging = await mkdtemp(path.join(workDir, "export-image-"));
          const layout = path.join(staging, "layout");
          image = { layout, ...(await stageImage(manifest, imageSource, layout, signal)) };
        }
        return await exportBundle(source.dir, output, {
          signal,
          ...(image ? { image } : {}),
          onFile: (f) => process.stderr.write(`packed    ${f.name.padEnd(16)} ${formatBytes(f.size).padStart(9)}\n`),
        });
      } finally {
        if (staging) await rm(staging, { recursive: true, force: true });
        await source.close();
      }
    });
    process.stdout.write(
      `${result.output}: ${result.index.name}:${result.index.tags[0] ?? ""}, ${result.index.files.length + 1} files, ${formatBytes(result.bytes)}${result.index.image ? `, image ${result.index.image.digest}` : ""}\n`,
    );
    return EXIT.ok;
  },
};
