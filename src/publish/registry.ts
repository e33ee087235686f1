// Publish the image's container form: `buildah push` of the locally committed image
// (manifest.image.ref) to `<repository>:<tag>` for every tag, recording each pushed digest
// (--digestfile) in the outcome and in the artifact directory's manifest.json (image.pushed), so
// a child recipe can pull its base by digest. Labels are set when the build commits the image.
// With a signing key the push goes through ./registry-signed.ts (signatures before tags).
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { REPOSITORY } from "../core/image-ref.js";
import { silentReporter } from "../exec/events.js";
import { run, type RunContext } from "../exec/run.js";
import type { ArtifactSet } from "./artifacts.js";
import { PublishError, PublishInputError } from "./errors.js";
import type { ArtifactTransfer } from "./progress.js";
import type { PublishOptions, PublishOutcome } from "./publisher.js";
import type { RegistryTarget } from "./targets.js";
import type { PublishedImage } from "../core/published-image.js";
import type { Signer } from "../sign/gpg.js";
import { signArtifactDir } from "../sign/sign-dir.js";
import { SIGN_KEY_FIX } from "../sign/key.js";
import { pushSigned } from "./registry-signed.js";
import { explainingRefusal, registryHost } from "./registry-credentials.js";

export interface RegistryPublishOptions extends PublishOptions {
  /** buildah options placed before `push`, e.g. ["--root", dir, "--runroot", dir, "--storage-driver", "vfs"]. */
  readonly buildahGlobalArgs?: readonly string[];
  /** Write the pushed digests into <artifact dir>/manifest.json (default true). */
  readonly recordInManifest?: boolean;
  /**
   * Sign the pushed image with this key (the one that signed SHA256SUMS): a GPG simple signing
   * signature per tag in the lookaside store, each in place before its tag is pushed.
   */
  readonly signer?: Signer;
}

/** How buildah reaches the target registry: TLS verification (on unless the target says) and its auth file. */
export function registryAccessArgs(target: RegistryTarget): string[] {
  return [`--tls-verify=${target.tlsVerify ?? true}`, ...(target.authFile ? ["--authfile", target.authFile] : [])];
}

export function pushArgs(target: RegistryTarget, localRef: string, tag: string, digestFile: string, globalArgs: readonly string[] = []): string[] {
  return [...globalArgs, "push", ...registryAccessArgs(target), "--digestfile", digestFile, localRef, `docker://${target.repository}:${tag}`];
}

export async function publishToRegistry(set: ArtifactSet, target: RegistryTarget, options: RegistryPublishOptions = {}): Promise<PublishOutcome> {
  if (!REPOSITORY.test(target.repository)) {
    throw new PublishInputError(
      `registry repository ${JSON.stringify(target.repository)} must look like HOST[:PORT]/PATH (lowercase path, no tag), e.g. 127.0.0.1:5000/bootsmith/${set.manifest.name}`,
    );
  }
  if (set.manifest.image.committed === false)
    throw new PublishInputError(
      `${set.dir}: its build committed no image (nothing needed one then), so there is nothing to push; build the recipe again with the commit (\`bootsmith build RECIPE\` without --no-commit)`,
    );
  // buildah would fail only after starting the push, with "checking authfile: stat …".
  if (target.authFile !== undefined && !existsSync(target.authFile))
    throw new PublishInputError(
      `registry auth file ${target.authFile} (--authfile or authFile:) does not exist; write it with \`buildah login --authfile ${target.authFile} ${registryHost(target)}\``,
    );
  const localRef = set.manifest.image.ref;
  const reporter = options.reporter ?? silentReporter;
  const work = await mkdtemp(join(tmpdir(), "bootsmith-push-"));
  const images: PublishedImage[] = [];
  const transfers: ArtifactTransfer[] = [];
  const ctx = { step: "publish", reporter, signal: options.signal };
  const record = (tag: string, digest: string, started: number) => {
    const ref = `${target.repository}:${tag}`;
    const transfer: ArtifactTransfer = {
      action: "pushed",
      tag,
      file: "image",
      seconds: (performance.now() - started) / 1000,
      destination: `docker://${ref}@${digest}`,
    };
    transfers.push(transfer);
    options.onTransfer?.(transfer);
    images.push({ name: set.manifest.name, tag, target: "registry", urls: {}, image: { ref, digest } });
  };
  try {
    if (options.signer) {
      const started = performance.now();
      const digest = await pushSigned({
        target,
        localRef,
        tags: set.manifest.tags,
        signer: options.signer,
        work,
        buildahGlobalArgs: options.buildahGlobalArgs,
        ctx,
      });
      for (const tag of set.manifest.tags) record(tag, digest, started);
      reporter.emit({ type: "message", level: "info", text: `signed ${target.repository}@${digest} with key ${options.signer.fingerprint}` });
    } else {
      for (const tag of set.manifest.tags) {
        const digestFile = join(work, `${tag}.digest`);
        const started = performance.now();
        await explainingRefusal(run({ file: "buildah", args: pushArgs(target, localRef, tag, digestFile, options.buildahGlobalArgs) }, ctx), target);
        const digest = (await readFile(digestFile, "utf8")).trim();
        if (!/^sha256:[0-9a-f]{64}$/.test(digest))
          throw new PublishError(`buildah push ${localRef} wrote no digest (got ${JSON.stringify(digest)})`, "verify-failed");
        record(tag, digest, started);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (options.recordInManifest ?? true)
    await recordPushedKeepingSignature(
      set,
      images.map((i) => i.image!),
      options.signer,
      ctx,
    );
  return { images, transfers };
}

/**
 * Record pushes in a set's manifest.json. That changes manifest.json: a signed set is signed
 * again over it, and one that cannot be (no key here) keeps its manifest, so its signature stays
 * valid (said as a warning).
 */
export async function recordPushedKeepingSignature(
  set: ArtifactSet,
  pushed: readonly { ref: string; digest: string }[],
  signer: Signer | undefined,
  ctx: RunContext,
): Promise<void> {
  if (set.signature && !signer) {
    ctx.reporter.emit({
      type: "message",
      level: "warn",
      text: `${join(set.dir, MANIFEST_FILE)}: the pushed digests are not recorded: the set is signed and no signing key was given to sign it again; ${SIGN_KEY_FIX}`,
    });
    return;
  }
  await recordPushed(set.dir, pushed);
  if (set.signature && signer) await signArtifactDir(set.dir, signer, ctx);
}

/** Merge pushed refs into manifest.json (replacing earlier digests for the same ref), atomically. */
export async function recordPushed(dir: string, pushed: readonly { ref: string; digest: string }[]): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  const manifest = JSON.parse(await readFile(path, "utf8")) as Manifest;
  const refs = new Set(pushed.map((p) => p.ref));
  const updated: Manifest = {
    ...manifest,
    image: { ...manifest.image, pushed: [...(manifest.image.pushed ?? []).filter((p) => !refs.has(p.ref)), ...pushed] },
  };
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(updated, null, 2) + "\n");
  await rename(temp, path);
  return updated;
}
