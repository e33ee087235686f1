// Signed registry publishing: GPG "simple signing" (the containers/image signature format that
// `skopeo copy`, podman and CRI-O check under a policy.json `signedBy` requirement), written to a
// lookaside store (registries.d `lookaside-staging`), with the same key as SHA256SUMS.sig.
// buildah 1.28 (Debian 12) can only sign while it pushes a tag, which puts the tag before the
// signature; skopeo 1.9 can sign a push by digest with a chosen identity. So the order is:
//   1. buildah push the local image into an OCI layout in a private work directory: the manifest
//      and its digest D are fixed now (skopeo --preserve-digests keeps them byte for byte);
//   2. skopeo copy the layout to REPO@D: blobs and manifest by digest, no tag yet;
//   3. per tag, skopeo copy REPO@D onto itself with --sign-by and --sign-identity REPO:TAG: one
//      signature per tag identity (what policy.json's default matchRepoDigestOrExact wants),
//      added to those already in the store (a copy carries the source's signatures along);
//   4. per tag, skopeo copy REPO@D to REPO:TAG: only now does a tag point at D.
// Guarantee: a tag is never visible before every tag's signature is in the lookaside store. A
// failure in 1-3 publishes no tag (the untagged manifest is left to registry garbage collection);
// a failure in 4 leaves the tags already moved, each signed. `bootsmith import` pushes a
// bundle's OCI layout through steps 2-4 (pushLayout), signed the same way when given a key.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Reporter } from "../exec/events.js";
import { run } from "../exec/run.js";
import type { Signer } from "../sign/gpg.js";
import { PublishError } from "./errors.js";
import { explainingRefusal } from "./registry-credentials.js";
import type { RegistryTarget } from "./targets.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface SignedPushRequest {
  readonly target: RegistryTarget;
  readonly localRef: string;
  readonly tags: readonly string[];
  readonly signer: Signer;
  /** A private, empty directory for the OCI layout and the skopeo configuration; the caller removes it. */
  readonly work: string;
  readonly buildahGlobalArgs?: readonly string[];
  readonly ctx: { readonly step: string; readonly reporter: Reporter; readonly signal?: AbortSignal };
}

/** Push, sign and tag; returns the manifest digest every tag now points at. */
export async function pushSigned(request: SignedPushRequest): Promise<string> {
  const { localRef, work, ctx } = request;
  const layout = `oci:${join(work, "layout")}:image`;
  const layoutDigest = join(work, "layout.digest");
  await run({ file: "buildah", args: [...(request.buildahGlobalArgs ?? []), "push", "--quiet", "--digestfile", layoutDigest, localRef, layout] }, ctx);
  const digest = await readDigest(layoutDigest, `buildah push ${localRef} to an OCI layout`);
  return pushLayout({ ...request, layout, digest });
}

export interface LayoutPushRequest {
  readonly target: RegistryTarget;
  /** The image to push, as skopeo names an OCI layout's image: `oci:DIR:NAME`. */
  readonly layout: string;
  /** Its manifest digest: what every tag must end up pointing at. */
  readonly digest: string;
  readonly tags: readonly string[];
  /** Sign each tag's identity before any tag exists (steps 3 and 4 above); unsigned without. */
  readonly signer?: Signer;
  /** A private, empty directory for the skopeo configuration; the caller removes it. */
  readonly work: string;
  readonly ctx: SignedPushRequest["ctx"];
  /** The layout holds a manifest list (OCI index) whose images the repository already has: copy the index only. */
  readonly index?: boolean;
}

/**
 * Steps 2-4 from an OCI layout (a build's, or an imported bundle's): blobs and manifest by digest,
 * then the signatures, then the tags. Returns the digest the tags point at.
 */
export async function pushLayout(request: LayoutPushRequest): Promise<string> {
  const { target, layout, digest, tags, signer, work, ctx } = request;
  const byDigest = `docker://${target.repository}@${digest}`;
  const skopeo = [...(await skopeoCopyArgs(target, work)), ...(request.index ? INDEX_ONLY : [])];
  const pushedDigest = join(work, "pushed.digest");
  await explainingRefusal(run({ file: "skopeo", args: [...skopeo, "--digestfile", pushedDigest, layout, byDigest] }, ctx), target);
  const pushed = await readDigest(pushedDigest, `skopeo copy to ${byDigest}`);
  if (pushed !== digest) throw new PublishError(`skopeo pushed ${pushed}, not the layout's ${digest}: the manifest changed on the way`, "verify-failed");
  if (signer)
    await signIdentities(
      skopeo,
      byDigest,
      tags.map((tag) => `${target.repository}:${tag}`),
      signer,
      ctx,
      target,
    );
  for (const tag of tags) await explainingRefusal(run({ file: "skopeo", args: [...skopeo, byDigest, `docker://${target.repository}:${tag}`] }, ctx), target);
  return digest;
}

/** skopeo copy of a manifest list without the images it names (they are in the repository already). */
const INDEX_ONLY = ["--multi-arch", "index-only"];

/** An image the repository holds, by digest; `index`: a manifest list, signed without its images. */
export interface PushedImage {
  readonly digest: string;
  readonly index?: boolean;
}

/**
 * Sign images the repository holds (by digest) for more identities, each signature added to the
 * lookaside store before any tag with that identity points at them. A multi-architecture set
 * needs it: a pull host that pulls <repository>:<tag> gets the list and checks the signatures of
 * the image it picks for that identity, not for the <tag>-<arch> the image was pushed as. Publish
 * signs a list's images so before it pushes the list (pushLayout signs the list); promote signs
 * the images and the list the registry has for the new tag.
 */
export async function signPushedImages(
  target: RegistryTarget,
  images: readonly PushedImage[],
  identities: readonly string[],
  signer: Signer,
  request: Pick<LayoutPushRequest, "work" | "ctx">,
): Promise<void> {
  const skopeo = await skopeoCopyArgs(target, request.work);
  for (const image of images)
    await signIdentities(
      [...skopeo, ...(image.index ? INDEX_ONLY : [])],
      `docker://${target.repository}@${image.digest}`,
      identities,
      signer,
      request.ctx,
      target,
    );
}

/** `skopeo copy REF REF --sign-by … --sign-identity ID` per identity: a signature each, nothing else changes. */
async function signIdentities(
  skopeo: readonly string[],
  byDigest: string,
  identities: readonly string[],
  signer: Signer,
  ctx: LayoutPushRequest["ctx"],
  target: RegistryTarget,
): Promise<void> {
  const signing = signer.imageSigning();
  for (const identity of identities) {
    await explainingRefusal(
      run(
        { file: "skopeo", args: [...skopeo, ...signing.args, "--sign-identity", identity, byDigest, byDigest], ...(signing.env ? { env: signing.env } : {}) },
        ctx,
      ),
      target,
    );
  }
}

/**
 * `skopeo … copy --preserve-digests` with a private policy (the sources are bootsmith's own
 * layout and REPO@D, addressed by the digest it just made, so the host's policy has nothing to
 * decide) and, with `lookaside:`, a private registries.d that points the repository at it.
 */
async function skopeoCopyArgs(target: RegistryTarget, work: string): Promise<string[]> {
  const policy = join(work, "policy.json");
  await writeFile(policy, `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] })}\n`);
  const global = ["--policy", policy];
  if (target.lookaside) {
    const registriesD = join(work, "registries.d");
    await mkdir(registriesD);
    global.push("--registries.d", registriesD);
    await writeFile(join(registriesD, "bootsmith.yaml"), registriesDConfig(target.repository, target.lookaside));
  }
  const tls = target.tlsVerify ?? true;
  return [
    ...global,
    "copy",
    "--quiet",
    "--preserve-digests",
    `--src-tls-verify=${tls}`,
    `--dest-tls-verify=${tls}`,
    ...(target.authFile ? ["--authfile", target.authFile] : []),
  ];
}

/** A registries.d file (JSON is YAML) that reads and writes the repository's signatures under `dir`. */
export function registriesDConfig(repository: string, dir: string): string {
  const store = `file://${resolve(dir)}`;
  return `${JSON.stringify({ docker: { [repository]: { lookaside: store, "lookaside-staging": store } } }, null, 2)}\n`;
}

async function readDigest(file: string, what: string): Promise<string> {
  const digest = (await readFile(file, "utf8").catch(() => "")).trim();
  if (!DIGEST.test(digest)) throw new PublishError(`${what} wrote no digest (got ${JSON.stringify(digest)})`, "verify-failed");
  return digest;
}
