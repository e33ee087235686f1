// Several architectures of one image under one registry tag: each architecture's committed image
// is pushed as <repository>:<tag>-<oci arch>, then a manifest list (OCI image index) naming them
// by platform is pushed as <repository>:<tag>, so `podman pull <repository>:<tag>` on an Arm node
// gets the arm64 image. Either all from this host's storage (publishManifestList), or in two
// parts on runners that share no storage: each architecture's job pushes its own image and
// records the digest (pushArchitecture), and the join lists those digests without having the
// images (publishManifestListOfPushed: buildah reads them from the registry by digest).
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ARCHES, type Arch } from "../core/arch.js";
import { MANIFEST_FILE } from "../core/manifest.js";
import { silentReporter } from "../exec/events.js";
import { CommandError, run, type RunContext } from "../exec/run.js";
import type { ArtifactSet } from "./artifacts.js";
import { PublishError, PublishInputError } from "./errors.js";
import { publishToRegistry, recordPushedKeepingSignature, registryAccessArgs, type RegistryPublishOptions } from "./registry.js";
import type { RegistryTarget } from "./targets.js";
import { pushLayout, signPushedImages } from "./registry-signed.js";
import type { Signer } from "../sign/gpg.js";

export interface ManifestListOutcome {
  /** Per tag: the list's ref and digest, and each architecture's pushed image. */
  readonly lists: readonly {
    readonly ref: string;
    readonly digest: string;
    readonly platforms: readonly { readonly arch: Arch; readonly os: "linux"; readonly ref: string; readonly digest: string }[];
  }[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The sets must be one per architecture and carry the same tags (the first set's order). */
export function checkManifestListSets(sets: readonly ArtifactSet[]): void {
  if (sets.length < 2) throw new PublishInputError("a manifest list needs artifact directories of at least two architectures");
  const seen = new Map<string, string>();
  for (const set of sets) {
    const other = seen.get(set.manifest.arch);
    if (other !== undefined) throw new PublishInputError(`${other} and ${set.dir} are both ${set.manifest.arch}: give one artifact directory per architecture`);
    if (!(set.manifest.arch in ARCHES))
      throw new PublishInputError(`${set.dir}: manifest.json arch ${JSON.stringify(set.manifest.arch)} is not one of ${Object.keys(ARCHES).join(", ")}`);
    seen.set(set.manifest.arch, set.dir);
  }
  const tags = sets[0]!.manifest.tags.join(",");
  for (const set of sets.slice(1))
    if (set.manifest.tags.join(",") !== tags)
      throw new PublishInputError(
        `${set.dir} has tags ${set.manifest.tags.join(", ")} but ${sets[0]!.dir} has ${sets[0]!.manifest.tags.join(", ")}: every architecture must carry the same tags`,
      );
}

/** Per architecture, per recipe tag: the image pushed as <tag>-<oci arch>. */
type ArchitecturePushes = ReadonlyMap<Arch, ReadonlyMap<string, { readonly ref: string; readonly digest: string }>>;

/** Each architecture's image from this host's buildah storage, then one list per tag. */
export async function publishManifestList(
  sets: readonly ArtifactSet[],
  target: RegistryTarget,
  options: RegistryPublishOptions = {},
): Promise<ManifestListOutcome> {
  checkManifestListSets(sets);
  const pushed = new Map<Arch, ReadonlyMap<string, { ref: string; digest: string }>>();
  for (const set of sets) pushed.set(set.manifest.arch as Arch, await pushArchitecture(set, target, { ...options, recordInManifest: false }));
  return pushLists(sets, target, pushed, options);
}

/**
 * The lists of images the architectures' own jobs pushed earlier (pushArchitecture on runners
 * that share no storage; each recorded its digests in its manifest.json): nothing is pushed
 * from, or needed in, this host's storage but the lists themselves.
 */
export async function publishManifestListOfPushed(
  sets: readonly ArtifactSet[],
  target: RegistryTarget,
  options: RegistryPublishOptions = {},
): Promise<ManifestListOutcome> {
  checkManifestListSets(sets);
  return pushLists(sets, target, recordedPushes(sets, target), options);
}

/**
 * One architecture's committed image as <repository>:<tag>-<oci arch> for every tag of its set
 * (never the recipe's own tags: those are the lists), recorded in its manifest.json unless
 * `recordInManifest: false`. Returns the pushes by recipe tag.
 */
export async function pushArchitecture(
  set: ArtifactSet,
  target: RegistryTarget,
  options: RegistryPublishOptions = {},
): Promise<ReadonlyMap<string, { ref: string; digest: string }>> {
  const arch = set.manifest.arch as Arch;
  if (!(arch in ARCHES)) throw new PublishInputError(`${set.dir}: manifest.json arch ${JSON.stringify(arch)} is not one of ${Object.keys(ARCHES).join(", ")}`);
  const tags = set.manifest.tags;
  const suffixed: ArtifactSet = { ...set, manifest: { ...set.manifest, tags: tags.map((t) => archTag(t, arch)) } };
  const outcome = await publishToRegistry(suffixed, target, options);
  return new Map(outcome.images.map((i, n) => [tags[n]!, i.image!]));
}

/** The tag one architecture's image is pushed under. */
function archTag(tag: string, arch: Arch): string {
  return `${tag}-${ARCHES[arch].oci}`;
}

/** What each set's manifest.json records as pushed to <repository>:<tag>-<arch>; bad input when one is missing. */
function recordedPushes(sets: readonly ArtifactSet[], target: RegistryTarget): ArchitecturePushes {
  const pushes = new Map<Arch, Map<string, { ref: string; digest: string }>>();
  for (const set of sets) {
    const arch = set.manifest.arch as Arch;
    const byTag = new Map<string, { ref: string; digest: string }>();
    for (const tag of set.manifest.tags) {
      const ref = `${target.repository}:${archTag(tag, arch)}`;
      const recorded = set.manifest.image.pushed?.find((p) => p.ref === ref);
      if (!recorded || !DIGEST.test(recorded.digest))
        throw new PublishInputError(
          `${join(set.dir, MANIFEST_FILE)} records no push of ${ref}: that architecture's job pushes it (\`bootsmith ci push\`) when runners share no buildah storage; with shared storage, join without --pushed`,
        );
      byTag.set(tag, { ref, digest: recorded.digest });
    }
    pushes.set(arch, byTag);
  }
  return pushes;
}

/**
 * Per tag, a list naming each architecture's pushed image by digest, pushed as <repository>:<tag>.
 * Every list is made and checked (it names exactly the recorded digests, each once, with its
 * platform) before the first is pushed, so a bad or missing image leaves the tags as they were.
 * The lists are built in buildah's local storage and removed afterwards, pushed or not.
 */
async function pushLists(
  sets: readonly ArtifactSet[],
  target: RegistryTarget,
  pushed: ArchitecturePushes,
  options: RegistryPublishOptions,
): Promise<ManifestListOutcome> {
  const reporter = options.reporter ?? silentReporter;
  const ctx: RunContext = { step: "publish", reporter, signal: options.signal };
  const global = options.buildahGlobalArgs ?? [];
  const access = registryAccessArgs(target);
  const tags = sets[0]!.manifest.tags;
  const work = await mkdtemp(join(tmpdir(), "bootsmith-manifest-list-"));
  const made: { tag: string; list: string; platforms: ManifestListOutcome["lists"][number]["platforms"][number][] }[] = [];
  const lists: ManifestListOutcome["lists"][number][] = [];
  try {
    for (const tag of tags) {
      const list = `localhost/bootsmith-manifest-list-${randomBytes(6).toString("hex")}:${tag}`;
      await run({ file: "buildah", args: [...global, "manifest", "create", list] }, ctx);
      const platforms: ManifestListOutcome["lists"][number]["platforms"][number][] = [];
      made.push({ tag, list, platforms });
      for (const set of sets) {
        const arch = set.manifest.arch as Arch;
        const image = pushed.get(arch)!.get(tag)!;
        // By digest: the list names exactly the image pushed, whatever the tag holds later.
        const byDigest = `docker://${target.repository}@${image.digest}`;
        await run({ file: "buildah", args: [...global, "manifest", "add", ...access, "--arch", ARCHES[arch].oci, "--os", "linux", list, byDigest] }, ctx).catch(
          (error: unknown) => {
            const why = error instanceof CommandError ? error.outputTail.at(-1) : undefined;
            throw new PublishError(
              `cannot list ${arch}'s image ${target.repository}@${image.digest} (${image.ref}, from ${join(set.dir, MANIFEST_FILE)})${why ? `: ${why}` : ""}; no tag was changed`,
              "verify-failed",
              { cause: error },
            );
          },
        );
        platforms.push({ arch, os: "linux", ref: image.ref, digest: image.digest });
      }
      await checkList(list, platforms, global, ctx);
    }
    for (const { tag, list, platforms } of made) {
      const digestFile = join(work, `${tag}.digest`);
      const ref = `${target.repository}:${tag}`;
      if (options.signer) {
        lists.push({ ref, digest: await pushSignedList(list, tag, platforms, target, options.signer, { global, work, ctx }), platforms });
        continue;
      }
      await run(
        {
          file: "buildah",
          args: [...global, "manifest", "push", "--all", ...access, "--format", "oci", "--digestfile", digestFile, list, `docker://${ref}`],
        },
        ctx,
      );
      const digest = (await readFile(digestFile, "utf8")).trim();
      if (!DIGEST.test(digest)) throw new PublishError(`buildah manifest push ${ref} wrote no digest (got ${JSON.stringify(digest)})`, "verify-failed");
      lists.push({ ref, digest, platforms });
    }
  } finally {
    for (const { list } of made) await run({ file: "buildah", args: [...global, "manifest", "rm", list] }, ctx).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
  // Each set's manifest.json records its own pushed image and the list it is part of (a signed
  // set is signed again, or left as it is without a key).
  if (options.recordInManifest ?? true)
    for (const set of sets) {
      const arch = set.manifest.arch as Arch;
      const own = [...pushed.get(arch)!.values()];
      await recordPushedKeepingSignature(set, [...own, ...lists.map((l) => ({ ref: l.ref, digest: l.digest }))], options.signer, ctx);
    }
  return { lists };
}

/**
 * A signed set's list, as a signed single image is pushed (registry-signed.ts): every image it
 * names signed for <repository>:<tag> too (what a pull host checks when it pulls the tag and gets
 * the image of its architecture), the list itself pushed by digest from an OCI layout and signed
 * for that identity (what `skopeo copy --all` or `--multi-arch index-only` checks), and only then
 * the tag moved. Returns the list's digest.
 */
async function pushSignedList(
  list: string,
  tag: string,
  platforms: readonly { readonly digest: string }[],
  target: RegistryTarget,
  signer: Signer,
  where: { readonly global: readonly string[]; readonly work: string; readonly ctx: RunContext },
): Promise<string> {
  const { global, ctx } = where;
  const work = await mkdtemp(join(where.work, `signed-${tag}-`));
  const identity = `${target.repository}:${tag}`;
  const imagesWork = join(work, "images");
  await mkdir(imagesWork);
  await signPushedImages(target, platforms, [identity], signer, { work: imagesWork, ctx });
  const layout = `oci:${join(work, "layout")}:list`;
  const digestFile = join(work, "list.digest");
  // The list alone (no --all): its images are in the repository, only the index goes into the layout.
  await run({ file: "buildah", args: [...global, "manifest", "push", "--format", "oci", "--digestfile", digestFile, list, layout] }, ctx);
  const digest = (await readFile(digestFile, "utf8")).trim();
  if (!DIGEST.test(digest))
    throw new PublishError(`buildah manifest push ${list} to an OCI layout wrote no digest (got ${JSON.stringify(digest)})`, "verify-failed");
  const listWork = join(work, "list");
  await mkdir(listWork);
  await pushLayout({ target, layout, digest, tags: [tag], signer, work: listWork, ctx, index: true });
  ctx.reporter.emit({
    type: "message",
    level: "info",
    text: `signed ${identity} (list ${digest} and its ${platforms.length} images) with key ${signer.fingerprint}`,
  });
  return digest;
}

/** The list as buildah holds it names each expected digest once, with its platform, and nothing else. */
async function checkList(list: string, expected: readonly { arch: Arch; digest: string }[], global: readonly string[], ctx: RunContext): Promise<void> {
  const { stdout } = await run({ file: "buildah", args: [...global, "manifest", "inspect", list] }, ctx);
  const entries = ((JSON.parse(stdout) as { manifests?: { digest?: string; platform?: { architecture?: string; os?: string } }[] }).manifests ?? []).map(
    (m) => `${m.platform?.os}/${m.platform?.architecture} ${m.digest}`,
  );
  const wanted = expected.map((e) => `linux/${ARCHES[e.arch].oci} ${e.digest}`);
  if (entries.sort().join(",") !== [...wanted].sort().join(","))
    throw new PublishError(
      `the manifest list names ${entries.join(", ") || "nothing"}, not the pushed images ${wanted.join(", ")}; no tag was changed`,
      "verify-failed",
    );
}
