// Detached OpenPGP signatures with GnuPG, the tool every EL and Debian head node already has
// (`gpgv` ships in Debian's essential set and with EL's gnupg2): a site verifies with
// `gpgv --keyring ./key.gpg SHA256SUMS.sig SHA256SUMS` without installing anything.
//
// Keys from a file or an environment variable are imported into a private GNUPGHOME (a 0700
// temporary directory) that lives only as long as the signer: its removal, and the stop of the
// gpg-agent gpg starts for it, are on the cleanup stack, so a failed or interrupted build leaves
// no secret key behind. Key material reaches gpg as a file argument or on standard input, never
// on a command line, so it is never in build.log.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BootsmithError, EXIT } from "../core/errors.js";
import type { CleanupStack } from "../exec/cleanup.js";
import { silentReporter, type Reporter } from "../exec/events.js";
import { isCommandError, run, type Command } from "../exec/run.js";
import { describeKey, type SigningKeySpec } from "./key.js";

/** A key problem found before anything is built: bad input (exit 2). */
export class SigningKeyError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
  }
}

export interface Signer {
  /** Fingerprint of the signing key, for messages and the manifest. */
  readonly fingerprint: string;
  /** Write a binary detached signature of `file` to `signature`. */
  sign(file: string, signature: string, ctx: { step: string; reporter: Reporter; signal?: AbortSignal }): Promise<void>;
  /**
   * What `skopeo copy` needs to sign an image with this key (GPG "simple signing", the only
   * signing buildah 1.28 and skopeo 1.9 share with the SHA256SUMS signature's key): the flags and
   * the private GNUPGHOME in the environment. skopeo reads a passphrase only from a file (its
   * standard input is a socket under Node, which /dev/stdin cannot open): the file is written
   * 0600 into the signer's private 0700 directory, which close() and the cleanup stack remove.
   */
  imageSigning(): ImageSigning;
  /** Remove the private GNUPGHOME now (also on the cleanup stack). */
  close(): Promise<void>;
}

export interface ImageSigning {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface OpenSignerOptions {
  readonly cleanup: CleanupStack;
  /** Passphrase for a protected key (from the environment; never logged). */
  readonly passphrase?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly reporter?: Reporter;
}

/**
 * Import (or find) the key and prove it can sign, before any build work: a missing file, an
 * empty variable, a public-only key or a wrong passphrase is a SigningKeyError.
 */
export async function openSigner(spec: SigningKeySpec, options: OpenSignerOptions): Promise<Signer> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const what = describeKey(spec);
  const home = spec.kind === "keyring" ? undefined : privateHome("bootsmith-gnupg-");
  // Where a passphrase file for skopeo goes: the private home, or its own private directory.
  let secrets = home;
  const removeHome = async () => {
    if (secrets && secrets !== home) rmSync(secrets, { recursive: true, force: true });
    if (!home) return;
    await run({ file: "gpgconf", args: ["--homedir", home, "--kill", "all"] }, { step: "signing", reporter: silentReporter }, { quiet: true }).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  };
  const drop = options.cleanup.push("remove the private GnuPG home", removeHome);
  const close = async () => {
    drop();
    await removeHome();
  };
  const gpg = (args: string[], input?: string): Command => ({
    file: "gpg",
    args: ["--batch", "--no-tty", ...(home ? ["--homedir", home] : []), ...args],
    ...(input !== undefined ? { input } : {}),
  });
  const quietly = async (cmd: Command) => run(cmd, { step: "signing", reporter }, { quiet: false });
  try {
    let id: string;
    if (spec.kind === "keyring") {
      id = spec.id;
    } else {
      // A file is imported by name (binary exports stay intact); a variable's text on stdin.
      const importCmd = spec.kind === "file" ? (checkKeyFile(spec.path), gpg(["--import", spec.path])) : gpg(["--import"], env[spec.name] ?? "");
      if (spec.kind === "env" && !env[spec.name]?.trim())
        throw new SigningKeyError(`${what}: the variable is not set or empty; put the output of \`gpg --export-secret-keys --armor KEYID\` in it`);
      await quietly(importCmd).catch((error: unknown) => {
        throw new SigningKeyError(
          `${what}: gpg cannot import it (${tailOf(error)}); it must be an OpenPGP secret key (gpg --export-secret-keys --armor KEYID)`,
          { cause: error },
        );
      });
      id = "";
    }
    const listed = await quietly(gpg(["--with-colons", "--list-secret-keys", ...(id ? [id] : [])])).catch((error: unknown) => {
      throw new SigningKeyError(`${what}: no secret key found (${tailOf(error)})`, { cause: error });
    });
    const fingerprint = firstSecretFingerprint(listed.stdout);
    if (!fingerprint)
      throw new SigningKeyError(`${what}: holds no secret key (a public key cannot sign); export it with \`gpg --export-secret-keys --armor KEYID\``);
    const passArgs = options.passphrase !== undefined ? ["--pinentry-mode", "loopback", "--passphrase-fd", "0"] : [];
    const signer: Signer = {
      fingerprint,
      async sign(file, signature, ctx) {
        rmSync(signature, { force: true });
        await run(
          gpg(["--yes", "--local-user", fingerprint, "--digest-algo", "SHA256", ...passArgs, "--output", signature, "--detach-sign", file], options.passphrase),
          ctx,
        );
      },
      imageSigning: () => {
        const args = ["--sign-by", fingerprint];
        if (options.passphrase !== undefined) {
          secrets ??= privateHome("bootsmith-sign-");
          const file = path.join(secrets, "passphrase");
          writeFileSync(file, options.passphrase, { mode: 0o600 });
          args.push("--sign-passphrase-file", file);
        }
        return { args, ...(home ? { env: { GNUPGHOME: home } } : {}) };
      },
      close,
    };
    // A trial signature: catches a wrong or missing passphrase and unusable keys now.
    const probeDir = privateHome("bootsmith-sign-probe-");
    try {
      writeFileSync(path.join(probeDir, "probe"), "bootsmith signing key check\n");
      await signer.sign(path.join(probeDir, "probe"), path.join(probeDir, "probe.sig"), { step: "signing", reporter }).catch((error: unknown) => {
        throw new SigningKeyError(
          `${what}: gpg cannot sign with it (${tailOf(error)}); ${options.passphrase === undefined ? "if the key has a passphrase, set it in the passphrase variable" : "check the passphrase"}`,
          { cause: error },
        );
      });
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
    return signer;
  } catch (error) {
    await close();
    throw error;
  }
}

function privateHome(prefix: string): string {
  // mkdtemp creates the directory 0700: gpg refuses homes others can read.
  return mkdtempSync(path.join(tmpdir(), prefix));
}

function checkKeyFile(file: string): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new SigningKeyError(`key file ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : (error as Error).message}`, {
      cause: error,
    });
  }
  if (size === 0) throw new SigningKeyError(`key file ${file}: is empty; export the secret key with \`gpg --export-secret-keys --armor KEYID > FILE\``);
}

/** The fingerprint of the first secret key that can sign, from `--with-colons` output. */
export function firstSecretFingerprint(colons: string): string | undefined {
  let inSigningKey = false;
  for (const line of colons.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "sec") inSigningKey = (fields[11] ?? "").includes("S") || (fields[11] ?? "").includes("s");
    else if (fields[0] === "fpr" && inSigningKey && fields[9]) return fields[9];
  }
  return undefined;
}

function tailOf(error: unknown): string {
  if (isCommandError(error))
    return (
      error.outputTail
        .filter((l) => l.startsWith("gpg:"))
        .slice(-2)
        .join("; ") || error.message
    );
  return error instanceof Error ? error.message : String(error);
}
