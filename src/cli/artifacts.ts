// bootsmith artifacts: the steps of a build that bootsmith performs on the output directory, as
// commands a person can run (`bootsmith plan` prints them; the build logs them). Not in the
// main help: it is the plan's vocabulary, documented in docs/plan.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions, STORAGE_OPTIONS, storageFlags } from "./args.js";
import { wholeNumber } from "../core/whole-number.js";
import { lookupStorageArgs } from "../builder/storage.js";
import { loadRecipe } from "../recipe/load.js";
import { verifyInitramfsKernel } from "../builder/initramfs.js";
import { readKernelRecord } from "../builder/kernel.js";
import { writeManifest, type ManifestInputs } from "../builder/manifest-writer.js";
import { writeIdentity } from "../builder/image-identity.js";
import { signArtifactSet } from "./publish.js";
import { detectTools } from "../builder/host-tools.js";
import { sourceDateEpochFrom } from "../builder/options.js";
import { silentReporter } from "../exec/events.js";
import { judgeScan, readScanRecord } from "../builder/openscap.js";
import { tidySupersededImages } from "../builder/superseded-images.js";
import { SCAN_SEVERITIES, type ScanSeverity } from "../recipe/schema.js";

const usage = `Usage: bootsmith artifacts verify-initramfs FILE KVER
       bootsmith artifacts image-identity ROOT DIR --recipe RECIPE [--var K=V]... --id NAME
                                          --version TAG [--kernel-record FILE] [--packages FILE]
       bootsmith artifacts write-manifest DIR --recipe RECIPE [--var K=V]... [--image-id ID | --not-committed]
                                         [--base-image-id ID]
                                              [--kernel-record FILE] [--packages FILE]
       bootsmith artifacts scan-verdict RESULTS --profile ID --datastream FILE --fail-on SEVERITY
                                            --max N --dir DIR [--file NAME]... --record FILE
                                            [--before RESULTS]
       bootsmith artifacts sign DIR --sign-key KEY [--sign-passphrase-env NAME]
       bootsmith artifacts remove-superseded NAME [--root DIR] [--runroot DIR] [--storage-driver D]

image-identity and write-manifest also take --scan-record FILE (the scan-verdict record).

The steps of a build that bootsmith performs itself on the output directory, exactly as
\`bootsmith build\` does them:

  verify-initramfs  check that the initramfs FILE holds lib/modules/KVER (an initramfs made
                    for another kernel cannot load its modules); exit 1 when it does not
  image-identity    write DIR/sbom.cdx.json and DIR/sbom.spdx.json from the package list and
                    ROOT's os-release, the manifest so far (no rootfs digest) into ROOT as
                    /usr/lib/bootsmith/manifest.json, and IMAGE_ID/IMAGE_VERSION into ROOT's
                    os-release (ROOT: the mounted image; every path stays inside it)
  write-manifest    hash DIR's artifacts and write DIR/manifest.json (written last: its presence
                    means the set is complete), from the recipe (loaded with the same --var
                    values), the committed image's id (--not-committed: the build made no
                    image, recorded as image.committed false), the kernel record written by
                    \`bootsmith rootfs select-kernel --record\` and the package list the build's
                    list-packages step saved, and the base image's id (--base-image-id: the
                    image the working container was made from, which tells a later build
                    that its parent was rebuilt). SOURCE_DATE_EPOCH is recorded when set.
                    Step timings exist only in a build's own manifest.
  scan-verdict      count the rule results of an OpenSCAP scan (RESULTS: oscap xccdf eval
                    --results; --before: the scan before remediation), write them to the
                    record FILE for the manifest, and exit 1 when more rules of SEVERITY
                    (unknown, info, low, medium, high) or higher failed than N, or when no
                    rule applied to the image at all
  sign              write DIR/SHA256SUMS over the files manifest.json lists and manifest.json,
                    and its GnuPG detached signature DIR/SHA256SUMS.sig; KEY is a secret key
                    file, env:NAME or keyring:KEYID (as signing.key in a recipe)
  remove-superseded remove the images recipe NAME committed earlier that no name points at
                    any more (a rebuild moved its names to the new image); images in use by
                    a container stay; and the NAME:building-ID names of builds killed between
                    commit and naming (their working container bootsmith-NAME-ID is gone).
                    --root/--runroot/--storage-driver: the build's buildah storage (default:
                    the one \`bootsmith build\` uses here, from $BOOTSMITH_STORAGE_ROOT /
                    $BOOTSMITH_STORAGE_DRIVER as for publish). Never fails for what it cannot
                    remove: it says so`;

export const artifactsCommand: CliCommand = {
  name: "artifacts",
  summary: "Steps a build does on its output: verify-initramfs, image-identity, scan-verdict, write-manifest, sign, remove-superseded",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("artifacts", args, {
      recipe: { type: "string" },
      var: { type: "string", multiple: true },
      "image-id": { type: "string" },
      "base-image-id": { type: "string" },
      "not-committed": { type: "boolean" },
      "kernel-record": { type: "string" },
      packages: { type: "string" },
      id: { type: "string" },
      version: { type: "string" },
      "sign-key": { type: "string" },
      "sign-passphrase-env": { type: "string" },
      "scan-record": { type: "string" },
      before: { type: "string" },
      profile: { type: "string" },
      datastream: { type: "string" },
      "fail-on": { type: "string" },
      max: { type: "string" },
      dir: { type: "string" },
      file: { type: "string", multiple: true },
      record: { type: "string" },
      ...STORAGE_OPTIONS,
    });
    const manifestInputs = async (dir: string): Promise<ManifestInputs> => {
      const recipe = loadRecipe(values.recipe!, { vars: parseVarOptions(values.var) });
      const tools = await detectTools(process.env.PATH, silentReporter);
      return {
        recipe,
        outDir: path.resolve(dir),
        kernel: values["kernel-record"] ? readKernelRecord(values["kernel-record"]) : undefined,
        packages: values.packages ? readFileSync(values.packages, "utf8") : "",
        tools: Object.fromEntries(tools.filter((t) => t.version).map((t) => [t.name, t.version!])),
        timings: [],
        sourceDateEpoch: sourceDateEpochFrom(process.env),
        ...(values["scan-record"] ? { scan: readScanRecord(values["scan-record"]) } : {}),
      };
    };
    const [sub, ...rest] = positionals;
    switch (sub) {
      case "verify-initramfs": {
        if (rest.length !== 2) throw new UserError("bootsmith artifacts verify-initramfs: expected FILE KVER");
        await verifyInitramfsKernel(rest[0]!, rest[1]!);
        return EXIT.ok;
      }
      case "image-identity": {
        if (rest.length !== 2 || !values.recipe || !values.id || !values.version)
          throw new UserError("bootsmith artifacts image-identity: expected ROOT DIR --recipe RECIPE --id NAME --version TAG");
        const { osRelease, sbomSha256 } = await writeIdentity({
          root: path.resolve(rest[0]!),
          id: values.id,
          version: values.version,
          manifest: await manifestInputs(rest[1]!),
        });
        process.stderr.write(`${path.resolve(rest[1]!)}: SBOMs written; IMAGE_ID=${values.id} IMAGE_VERSION=${values.version} in ${osRelease}\n`);
        // stdout: the SBOMs' sha256s, which the build script reads into the commit's labels.
        process.stdout.write(`${sbomSha256.sbomCycloneDx} ${sbomSha256.sbomSpdx}\n`);
        return EXIT.ok;
      }
      case "scan-verdict": {
        const severity = values["fail-on"] as ScanSeverity | undefined;
        const max = wholeNumber(values.max);
        if (rest.length !== 1 || !values.profile || !values.datastream || !values.dir || !values.record || values.max === undefined)
          throw new UserError(
            "bootsmith artifacts scan-verdict: expected RESULTS --profile ID --datastream FILE --fail-on SEVERITY --max N --dir DIR --record FILE",
          );
        if (!severity || !SCAN_SEVERITIES.includes(severity))
          throw new UserError(`bootsmith artifacts scan-verdict: --fail-on must be one of ${SCAN_SEVERITIES.join(", ")}`);
        if (max === undefined) throw new UserError("bootsmith artifacts scan-verdict: --max must be a whole number, 0 or more");
        const record = judgeScan(
          {
            results: path.resolve(rest[0]!),
            ...(values.before ? { before: path.resolve(values.before) } : {}),
            profile: values.profile,
            datastream: values.datastream,
            failOn: { severity, max },
            dir: path.resolve(values.dir),
            files: values.file ?? [],
          },
          values.record,
        );
        process.stdout.write(
          `openscap: ${record.results.pass ?? 0} passed, ${record.results.fail ?? 0} failed, ${record.counted} of severity ${severity}+ (max ${max})\n`,
        );
        return EXIT.ok;
      }
      case "sign": {
        if (rest.length !== 1 || !values["sign-key"]) throw new UserError("bootsmith artifacts sign: expected DIR --sign-key KEY");
        await signArtifactSet(rest[0]!, values["sign-key"], values["sign-passphrase-env"]);
        return EXIT.ok;
      }
      case "write-manifest": {
        if (rest.length !== 1 || !values.recipe) throw new UserError("bootsmith artifacts write-manifest: expected DIR --recipe RECIPE");
        if (values["not-committed"] && values["image-id"])
          throw new UserError("bootsmith artifacts write-manifest: --image-id and --not-committed contradict each other");
        const manifest = await writeManifest({
          ...(await manifestInputs(rest[0]!)),
          imageId: values["image-id"] || undefined,
          notCommitted: values["not-committed"] ?? false,
          baseImageId: values["base-image-id"] || undefined,
        });
        process.stdout.write(
          `${path.join(path.resolve(rest[0]!), "manifest.json")}: ${Object.keys(manifest.artifacts).length} artifacts, ${manifest.packages.length} packages\n`,
        );
        return EXIT.ok;
      }
      case "remove-superseded": {
        if (rest.length !== 1) throw new UserError("bootsmith artifacts remove-superseded: expected NAME (the recipe's name)");
        // A storage no build has used holds nothing to remove (and buildah would lay it out).
        const storage = await lookupStorageArgs(storageFlags(values));
        const outcome = storage === undefined ? undefined : await tidySupersededImages(rest[0]!, storage);
        if (outcome?.level === "warn") process.stderr.write(`warning: ${outcome.text}\n`);
        else process.stdout.write(`${outcome?.text ?? `no unnamed image of ${rest[0]!}`}\n`);
        return EXIT.ok;
      }
      default:
        throw new UserError(
          `bootsmith artifacts: ${sub === undefined ? "name a subcommand" : `unknown subcommand "${sub}"`}: verify-initramfs, image-identity, scan-verdict, write-manifest, sign or remove-superseded\n${usage}`,
        );
    }
  },
};
