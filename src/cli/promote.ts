// bootsmith promote: argument parsing only; the promotion is src/lifecycle/promote.ts.
import type { CliCommand } from "./command.js";
import { EXIT, UserError } from "../core/errors.js";
import { parseCommandArgs, targetSpecOptions } from "./args.js";
import { promote } from "../lifecycle/promote.js";
import { parseImageRef } from "../lifecycle/source.js";
import { openStore } from "../lifecycle/open-store.js";
import { parseTargetSpec } from "../publish/target-spec.js";
import { runLifecycle } from "./lifecycle-run.js";

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

Options:
  --to TAG2           the tag to create or replace (required)
  --target TARGET     where the image is published: dir:ROOT (ROOT/NAME/TAG) or
                      s3://BUCKET[/PREFIX] (bootsmith layout); default dir:artifacts, the
                      output of \`bootsmith build\`
  --force             promote without a passed boot test (recorded as forced)
  --json              print the new tag's published-image record (URLs) on stdout, as
                      \`publish --json\` does, to pipe into \`bootsmith register -\`
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
    });
    if (positionals.length !== 1) throw new UserError("bootsmith promote: give one image as NAME:TAG, e.g. bootsmith promote compute:9.5 --to prod");
    const ref = parseImageRef(positionals[0]!);
    if (!ref) throw new UserError(`bootsmith promote: ${JSON.stringify(positionals[0])} is not NAME:TAG`);
    if (!values.to) throw new UserError("bootsmith promote: --to TAG2 is required");
    const to = values.to;
    const target = parseTargetSpec(values.target ?? "dir:artifacts", targetSpecOptions(values));
    const store = openStore(target, values.artifacts !== undefined ? { artifacts: values.artifacts } : {});
    try {
      const result = await runLifecycle((signal) => promote(store, { name: ref.name, tag: ref.tag, to, force: values.force ?? false, signal }));
      const why = result.bootTest
        ? `boot test passed ${result.bootTest.at}${result.bootTest.seconds !== undefined ? ` (${result.bootTest.seconds} s)` : ""}`
        : "FORCED: no passed boot test on record";
      const line = `promoted ${ref.name}:${ref.tag} → ${ref.name}:${to} in ${store.label} (${why})`;
      if (values.json) {
        // The published-image record of the new tag, as \`publish --json\` prints one: pipe it to
        // \`bootsmith register -\` to point nodes at it.
        process.stderr.write(`${line}\n`);
        process.stdout.write(`${JSON.stringify(store.publishedImage(ref.name, to, result.manifest), null, 2)}\n`);
      } else process.stdout.write(`${line}\n`);
    } finally {
      store.close();
    }
    return EXIT.ok;
  },
};
