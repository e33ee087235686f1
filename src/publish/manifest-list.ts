// Several architectures of one image under one registry tag: each architecture's committed image
// is pushed as <repository>:<tag>-<oci arch> (where a per-architecture job can also push it on
// its own), then a manifest list (OCI image index) naming them by platform is pushed as
// <repository>:<tag>, so `podman pull <repository>:<tag>` on an Arm node gets the arm64 image.
// The list is built in buildah's local storage and removed afterwards, pushed or not.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ARCHES, type Arch } from "../core/arch.js";
import { silentReporter } from "../exec/events.js";
import { run, type RunContext } from "../exec/run.js";
import type { ArtifactSet } from "./artifacts.js";
import { PublishError, PublishInputError } from "./errors.js";
import { publishToRegistry, recordPushed, registryAccessArgs, type RegistryPublishOptions } from "./registry.js";
import type { RegistryTarget } from "./targets.js";

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

export async function publishManifestList(
  sets: readonly ArtifactSet[],
  target: RegistryTarget,
  options: RegistryPublishOptions = {},
): Promise<ManifestListOutcome> {
  checkManifestListSets(sets);
  const reporter = options.reporter ?? silentReporter;
  const ctx: RunContext = { step: "publish", reporter, signal: options.signal };
  const global = options.buildahGlobalArgs ?? [];
  const access = registryAccessArgs(target);
  const tags = sets[0]!.manifest.tags;

  // 1. Each architecture's image under <tag>-<arch>, through the ordinary registry publisher.
  const pushed = new Map<Arch, Map<string, { ref: string; digest: string }>>();
  for (const set of sets) {
    const arch = set.manifest.arch as Arch;
    const suffixed: ArtifactSet = { ...set, manifest: { ...set.manifest, tags: tags.map((t) => `${t}-${ARCHES[arch].oci}`) } };
    const outcome = await publishToRegistry(suffixed, target, { ...options, recordInManifest: false });
    pushed.set(arch, new Map(outcome.images.map((i, n) => [tags[n]!, i.image!])));
  }

  // 2. Per tag, a list of those images by platform, pushed as <tag>.
  const work = await mkdtemp(join(tmpdir(), "bootsmith-manifest-list-"));
  const lists: ManifestListOutcome["lists"][number][] = [];
  try {
    for (const tag of tags) {
      const list = `localhost/bootsmith-manifest-list-${randomBytes(6).toString("hex")}:${tag}`;
      await run({ file: "buildah", args: [...global, "manifest", "create", list] }, ctx);
      try {
        const platforms: ManifestListOutcome["lists"][number]["platforms"][number][] = [];
        for (const set of sets) {
          const arch = set.manifest.arch as Arch;
          const image = pushed.get(arch)!.get(tag)!;
          // By digest: the list names exactly the image just pushed, whatever the tag holds later.
          const byDigest = `docker://${target.repository}@${image.digest}`;
          await run({ file: "buildah", args: [...global, "manifest", "add", ...access, "--arch", ARCHES[arch].oci, "--os", "linux", list, byDigest] }, ctx);
          platforms.push({ arch, os: "linux", ref: image.ref, digest: image.digest });
        }
        const digestFile = join(work, `${tag}.digest`);
        const ref = `${target.repository}:${tag}`;
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
      } finally {
        await run({ file: "buildah", args: [...global, "manifest", "rm", list] }, ctx).catch(() => undefined);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Each set's manifest.json records its own pushed image and the list it is part of.
  if (options.recordInManifest ?? true)
    for (const set of sets) {
      const arch = set.manifest.arch as Arch;
      const own = [...pushed.get(arch)!.values()];
      await recordPushed(set.dir, [...own, ...lists.map((l) => ({ ref: l.ref, digest: l.digest }))]);
    }
  return { lists };
}
