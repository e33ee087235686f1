// bootsmith promote: argument parsing only; the promotion is src/lifecycle/promote.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs, targetSpecOptions } from "./args.js";
import { promote, type PassedBootTest } from "../lifecycle/promote.js";
import { parseImageRef } from "../lifecycle/source.js";
import { openStore } from "../lifecycle/open-store.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import { runLifecycle } from "./lifecycle-run.js";
import { withSigner } from "./publish.js";

export const promoteCommand: CliCommand = {
  name: "promote",
  summary: "Point another tag (e.g. prod) at a boot-tested image's artifacts, without re-uploading",
  usage: `Usage: bootsmith promote NAME:TAG --to TAG2 [--target TARGET] [--force]

Makes TAG2 hold exactly the artifacts of NAME:TAG where they are published: hard links in a
directory target, server-side copies (CopyObject) in S3, the image's manifest copied by digest
in a registry (skopeo copy --all --preserve-digests: TAG2 gets the same digest, no blob is
uploaded); nothing is uploaded again. TAG2's
manifest.json is written last, with the promotion appended to its \`promotions\` history (from,
to, time, user, forced); until then TAG2 is not complete, so a failed promotion never leaves a
TAG2 that looks complete but is not. An existing TAG2 is replaced.

Only an image whose manifest records a passed boot test (\`bootsmith boot-test DIR\` records its
latest run in manifest.json's \`bootTest.lastRun\`; publish the directory afterwards) is
promoted; otherwise promote refuses with exit 1, unless --force, which the history records as
forced.

A recipe built for several architectures (\`arches:\`) is promoted whole: every architecture's
manifest.json must record a passed boot test (the refusal names those that do not, and the
\`bootsmith boot-test artifacts/NAME/TAG/ARCH\` to run); each architecture's files and
manifest.json are carried to TAG2/ARCH/, then the combined manifest.json, last. In a registry
the tag's manifest list is copied by digest with every image it lists.

Options:
  --to TAG2           the tag to create or replace (required)
  --target TARGET     where the image is published: dir:ROOT (ROOT/NAME/TAG) or
                      s3://BUCKET[/PREFIX] (bootsmith layout); default dir:artifacts, the
                      output of \`bootsmith build\`
  --force             promote without a passed boot test (recorded as forced)
  --sign-key KEY      a signed set (SHA256SUMS.sig): the key that signed it (file, env:NAME or
                      keyring:KEYID), to sign the new tag's SHA256SUMS (its manifest records the
                      promotion) and, in a registry, the new tag's identity; required for a signed set
  --sign-passphrase-env NAME  variable holding the key's passphrase (default BOOTSMITH_SIGN_PASSPHRASE)
  --lookaside DIR     registry targets, with --sign-key: write the new tag's image signatures under
                      DIR (as publish --lookaside; default: the host's registries.d configuration)
  --json              print the new tag's published-image record (URLs) on stdout, as
                      \`publish --json\` does, to pipe into \`bootsmith register -\`;
                      several architectures: a list of one record per architecture
                      (\`register - --arch ARCH\` picks one)
  --public-base URL   base URL nodes fetch from (for --json; as for publish)
  --endpoint URL      S3 endpoint (default: $S3_ENDPOINT, else AWS)
  --region NAME       S3 region (default us-east-1)
  --ca-file FILE      CA certificate for an https endpoint
  -h, --help          this help
  --artifacts ROOT    registry targets: where the build's artifact directory (ROOT/NAME/TAG)
                      is, whose manifest.json must record pushing the digest the tag has now
                      and a passed boot test; the promotion is recorded there (default artifacts)
  --tls-verify=BOOL   registry targets: false for a plain-http registry (default true)
  --authfile PATH     registry targets: containers auth file
  To register the promoted tag, pipe --json into
  register:  bootsmith promote c:9.5 --to prod --target … --json |
             bootsmith register - --params-template '…{{ rootfs.url }}' --bss URL --nid 1

Examples:
  bootsmith promote compute:9.5 --to prod --target s3://boot-images --endpoint http://s3:7480
  bootsmith promote compute:9.5 --to staging                  # in ./artifacts/compute/

Exit codes: 0 promoted, 1 refused (no passed boot test) or the copy failed, 2 bad arguments or
an unknown image.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("promote", args, {
      to: { type: "string" },
      target: { type: "string" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      "public-base": { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      artifacts: { type: "string" },
      "tls-verify": { type: "string" },
      authfile: { type: "string" },
      "sign-key": { type: "string" },
      lookaside: { type: "string" },
      "sign-passphrase-env": { type: "string" },
    });
    if (positionals.length !== 1) throw new UserError("bootsmith promote: give one image as NAME:TAG, e.g. bootsmith promote compute:9.5 --to prod");
    const ref = parseImageRef(positionals[0]!);
    if (!ref) throw new UserError(`bootsmith promote: ${JSON.stringify(positionals[0])} is not NAME:TAG`);
    if (!values.to) throw new UserError("bootsmith promote: --to TAG2 is required");
    const to = values.to;
    const target = parseTargetSpec(values.target ?? "dir:artifacts", targetSpecOptions(values), "--target");
    const store = openStore(target, values.artifacts !== undefined ? { artifacts: values.artifacts } : {});
    try {
      const request = { name: ref.name, tag: ref.tag, to, force: values.force ?? false };
      const signKey = values["sign-key"];
      const result = await runLifecycle((signal) =>
        signKey !== undefined
          ? withSigner(signKey, values["sign-passphrase-env"], (signer) => promote(store, { ...request, signal, signer }))
          : promote(store, { ...request, signal }),
      );
      const tested = (test: PassedBootTest | undefined) => (test ? `${test.at}${test.seconds !== undefined ? ` (${test.seconds} s)` : ""}` : "none");
      const why = result.promotion.forced
        ? result.arches
          ? `FORCED: passed boot tests on record: ${result.arches.map((a) => `${a.manifest.arch} ${tested(a.bootTest)}`).join(", ")}`
          : "FORCED: no passed boot test on record"
        : result.arches
          ? `boot tests passed: ${result.arches.map((a) => `${a.manifest.arch} ${tested(a.bootTest)}`).join(", ")}`
          : `boot test passed ${tested(result.bootTest)}`;
      const line = `promoted ${ref.name}:${ref.tag} → ${ref.name}:${to} in ${store.label} (${why})`;
      if (values.json) {
        // The published-image record of the new tag, as \`publish --json\` prints one: pipe it to
        // \`bootsmith register -\` to point nodes at it. Several architectures in a directory or
        // bucket: one record per architecture (register --arch picks one); a registry's manifest
        // list is one image for every architecture.
        process.stderr.write(`${line}\n`);
        const records =
          result.arches && target.type !== "registry"
            ? result.arches.map((a) => store.publishedImage(ref.name, to, a.manifest))
            : store.publishedImage(ref.name, to, result.manifest);
        process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
      } else process.stdout.write(`${line}\n`);
    } finally {
      store.close();
    }
    return EXIT.ok;
  },
};
