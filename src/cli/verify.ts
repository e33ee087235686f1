// `bootsmith verify DIR|URL|s3://…  [--key PUB]`: check a published (or built) set against its
// signed SHA256SUMS (an unsigned set: against manifest.json), streaming every file, and name
// each file that fails.
import { existsSync } from "node:fs";
import type { CliCommand } from "./command.js";
import { BootsmithError, EXIT, messageWithCause, UserError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";
import { formatBytes } from "../core/format.js";
import { PublicKeyError } from "../sign/verify-signature.js";
import { baseUrlSource, directorySource, s3Source, type SetSource } from "../verify/sources.js";
import { verifySet, type FileCheck } from "../verify/verify.js";

const usage = `Usage: bootsmith verify DIR|URL|s3://BUCKET/PREFIX/ [--key PUB | --require-signature] [options]

Check an artifact set against its SHA256SUMS: the detached signature SHA256SUMS.sig must be a
good signature by the public key PUB (an exported key file, armored or binary; checked with
gpgv), and every file SHA256SUMS lists (vmlinuz, initramfs.img, rootfs.squashfs, the SBOMs,
manifest.json) must hash to its line and have manifest.json's size. Files are streamed, never
held in memory. Without --key only the checksums are checked, and the output says so.

An unsigned set (built and published without a signing key: no SHA256SUMS) is checked against
manifest.json instead: every artifact it lists must have its sha256 and size. That finds a
damaged or half-copied set, not a forged one, and the output says the set is UNSIGNED. With
--key or --require-signature an unsigned set fails (exit 1), as \`register\` with a verify key
does.

Sources:
  DIR                    a build's output directory or a published tag directory
  http(s)://HOST/PATH/   the tag directory as nodes fetch it (e.g. --public-base/<name>/<tag>/)
  s3://BUCKET/PREFIX/    the tag directory in S3 (credentials as for publish)

Options:
  --key PUB              public key file (gpg --export KEYID > key.gpg)
  --require-signature    fail unless the set carries SHA256SUMS and SHA256SUMS.sig (implied
                         by --key, which also checks who signed)
  --endpoint URL         S3 endpoint (default $S3_ENDPOINT, else AWS)
  --region NAME          S3 region
  --ca-file PATH         PEM CA for an https S3 endpoint
  --json                 print the report as JSON

Exit codes: 0 every file verified, 1 a file failed (each named), 2 bad arguments or key file.
`;

export const verifyCommand: CliCommand = {
  name: "verify",
  summary: "Check a published image against its signed SHA256SUMS (streamed), naming any file that fails",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("verify", args, {
      key: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "ca-file": { type: "string" },
      json: { type: "boolean" },
      "require-signature": { type: "boolean" },
    });
    if (positionals.length !== 1) throw new UserError(`bootsmith verify: give one directory, URL or s3:// prefix\n${usage.split("\n")[0]}`);
    if (values.key !== undefined && !existsSync(values.key))
      throw new UserError(`--key ${values.key}: no such file; export the public key with \`gpg --export KEYID > key.gpg\``);
    const source = openSource(positionals[0]!, values);
    const controller = new AbortController();
    const interrupt = () => controller.abort(new Error("interrupted"));
    process.once("SIGINT", interrupt);
    try {
      const report = await verifySet(source, {
        keyFile: values.key,
        requireSignature: values["require-signature"] === true,
        signal: controller.signal,
        onFile: values.json ? undefined : (c) => process.stdout.write(`${line(c)}\n`),
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else if (report.ok) {
        process.stdout.write(
          report.signatureChecked
            ? `verified: ${source.description}, signed by ${report.signedBy}\n`
            : report.unsigned
              ? `checksums match manifest.json: ${source.description} (UNSIGNED set: no SHA256SUMS, so nothing shows who built it; sign builds with --sign-key)\n`
              : `checksums match: ${source.description} (signature NOT checked: no --key)\n`,
        );
      }
      if (!report.ok) {
        for (const f of report.files.filter((c) => !c.ok)) process.stderr.write(`bootsmith verify: ${f.file}: ${f.reason}\n`);
        return EXIT.failed;
      }
      return EXIT.ok;
    } catch (error) {
      if (error instanceof PublicKeyError) throw new UserError(`--key: ${error.message}`);
      if (controller.signal.aborted) throw new BootsmithError("bootsmith verify: interrupted", EXIT.interrupted, { cause: error });
      // Whatever stopped the check (unreachable, unreadable, malformed), the set is not verified: exit 1.
      throw new BootsmithError(`bootsmith verify: ${source.description}: ${messageWithCause(error)}`, EXIT.failed, {
        cause: error,
      });
    } finally {
      process.off("SIGINT", interrupt);
      source.close();
    }
  },
};

function openSource(where: string, values: { endpoint?: string; region?: string; "ca-file"?: string }): SetSource {
  if (/^https?:\/\//.test(where)) return baseUrlSource(where);
  if (where.startsWith("s3://")) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(where)) throw new UserError(`${where}: expected s3://BUCKET/PREFIX/ with a valid bucket name`);
    return s3Source(where, { endpoint: values.endpoint ?? process.env.S3_ENDPOINT, region: values.region, caFile: values["ca-file"] });
  }
  if (!existsSync(where)) throw new UserError(`${where}: no such directory (give a directory, an http(s):// URL or an s3:// prefix)`);
  return directorySource(where);
}

/** One file's line on stdout; a failure's reason is said once, on stderr (`bootsmith verify: FILE: REASON`). */
function line(c: FileCheck): string {
  return `${c.ok ? "ok    " : "FAILED"} ${c.file}${c.size !== undefined ? `  ${formatBytes(c.size)}` : ""}`;
}
