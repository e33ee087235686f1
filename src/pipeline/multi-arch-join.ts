// After the per-architecture nodes of a recipe built for several architectures (`arches:`):
// the combined manifest.json above their directories and, when the recipe publishes, one publish
// of all of them per target (registry: a manifest list per tag; S3/directory: <name>/<tag>/<arch>/
// keys, then the combined manifest.json). Runs only when every architecture's node succeeded or
// was up to date, so nothing points at a missing architecture.
import path from "node:path";
import { access, readFile, rm } from "node:fs/promises";
import { isMultiArchManifest, MANIFEST_FILE } from "../core/manifest.js";
import { UserError } from "../core/errors.js";
import { collectRecipeFiles, loadGraph, type RecipeGraph } from "./graph.js";
import { readManifestFacts } from "./cache.js";
import type { Outcome } from "./parallel.js";
import { defaultOutDir, detectBuildHost, multiArchDir, signingFor } from "../builder/options.js";
import { archesOf, registrationTargetType, type LoadedRecipe } from "../recipe/load.js";
import { publishMultiArch, renderMultiArchManifest, writeMultiArchManifest, type MultiArchSet } from "../publish/multi-arch.js";
import { formatTransfer } from "../publish/index.js";
import { writePublishedRecord } from "../publish/record.js";
import type { PublishedImage } from "../core/published-image.js";
import type { Arch } from "../core/arch.js";
import { pushArchitecture } from "../publish/manifest-list.js";
import { loadArtifactSet } from "../publish/artifacts.js";
import { registerForRecipe } from "./execute-plan.js";
import { recipePublishTarget } from "./publish-targets.js";
import { CleanupStack } from "../exec/cleanup.js";
import { messageReporter, type Reporter } from "../exec/events.js";
import { SIGNATURE_FILE } from "../core/sums.js";
import type { Signer } from "../sign/gpg.js";
import { openRecipeSigner, type SigningChoice } from "./recipe-signer.js";
import { SIGN_KEY_FIX } from "../sign/key.js";
import { signArtifactDir } from "../sign/sign-dir.js";

export interface MultiArchGroup {
  /** <out>/<name>/<tag>: where the combined manifest goes. */
  readonly dir: string;
  readonly recipe: LoadedRecipe;
  /** Node names, one per architecture, in the recipe's order. */
  readonly nodes: readonly string[];
}

/** The multi-architecture recipes among the selected nodes (pure). */
export function multiArchGroups(graph: RecipeGraph, selected: ReadonlySet<string>, outRoot?: string): MultiArchGroup[] {
  const groups = new Map<string, { recipe: LoadedRecipe; nodes: string[] }>();
  for (const name of graph.order) {
    const recipe = graph.nodes.get(name)!.recipe;
    if (!selected.has(name) || !recipe.spec.arches) continue;
    const dir = multiArchDir(recipe, outRoot);
    const group = groups.get(dir) ?? { recipe, nodes: [] };
    group.nodes.push(name);
    groups.set(dir, group);
  }
  return [...groups].map(([dir, g]) => ({ dir, recipe: g.recipe, nodes: g.nodes }));
}

export interface JoinOptions {
  readonly publish: boolean;
  /**
   * Registry targets: each architecture's job pushed its own image (`ci push`, runners without
   * shared storage) and recorded the digest; the join pushes only the lists of those digests.
   */
  readonly ofPushed?: boolean;
  /** Where registrations keep their rollback records (register's default when absent). */
  readonly stateDir?: string;
  readonly buildahArgs: () => Promise<readonly string[]>;
  readonly write: (line: string) => void;
  /**
   * The key that signs a signed set again after a registry publish records the pushed image and
   * list digests in its manifest.json: --sign-key, else the recipe's signing.key. Without one the
   * sets keep their manifests (and signatures) as built, with a warning naming the fix. With one,
   * sets built unsigned are signed before they are published, and so are the registry's lists.
   */
  readonly signing?: SigningChoice;
}

/**
 * Per group whose every architecture is done: write the combined manifest; publish when one of
 * them was built (an up-to-date set was published when it was built). Returns false when
 * something failed (already reported).
 */
export async function joinArchitectures(groups: readonly MultiArchGroup[], outcomes: ReadonlyMap<string, Outcome>, options: JoinOptions): Promise<boolean> {
  let ok = true;
  for (const group of groups) {
    const name = group.recipe.spec.name;
    const arches = archesOf(group.recipe.spec);
    const done = group.nodes.filter((n) => ["built", "up-to-date"].includes(outcomes.get(n)?.status ?? ""));
    if (done.length < arches.length || group.nodes.length < arches.length) {
      // A combined manifest from an earlier build would now list sets that changed or are gone.
      if (group.nodes.some((n) => ["built", "failed"].includes(outcomes.get(n)?.status ?? ""))) await removeCombinedManifest(group.dir);
      options.write(`[${name}] combined manifest not written: not every architecture (${arches.join(", ")}) was built`);
      ok &&= done.length === group.nodes.length;
      continue;
    }
    const published: PublishedImage[] = [];
    // Opened before anything is published: a key that cannot sign is bad input (exit 2).
    const cleanup = new CleanupStack();
    const signer = options.publish ? await joinSigner(group, arches, options.signing ?? {}, cleanup) : undefined;
    try {
      const before = await readFile(path.join(group.dir, MANIFEST_FILE)).catch(() => undefined);
      const multi = await writeMultiArchManifest(group.dir, arches);
      options.write(`[${name}] ${path.relative(process.cwd(), path.join(group.dir, MANIFEST_FILE))}: ${arches.join(", ")}`);
      // Published when an architecture was built, or the set is new (its architectures were built
      // in earlier runs, e.g. one --only NAME@ARCH at a time): an unchanged set was published already.
      const changed = !before?.equals(renderMultiArchManifest(multi.manifest));
      const built = group.nodes.some((n) => outcomes.get(n)?.status === "built");
      if (!options.publish || !(built || changed) || group.recipe.spec.publish.length === 0) continue;
      // Registries first: they record the pushed digests in the sets, which the others then publish.
      const targets = group.recipe.spec.publish
        .map((_, i) => recipePublishTarget(group.recipe, i))
        .sort((a, b) => Number(b.type === "registry") - Number(a.type === "registry"));
      // A set built without the key (a site that keeps it for the join alone) is signed before any target gets it.
      let current = signer ? await signUnsignedSets(multi, signer, messageReporter(options.write, `[${name}] `)) : multi;
      for (const target of targets) {
        const outcome = await publishMultiArch(current, target, {
          onTransfer: (t) => options.write(`[${name}] ${formatTransfer(t)}`),
          reporter: messageReporter(options.write, `[${name}] `),
          registry: { buildahGlobalArgs: await options.buildahArgs(), ...(signer ? { signer } : {}) },
          ofPushed: options.ofPushed,
        });
        published.push(...outcome.images);
        if (target.type === "registry") current = await writeMultiArchManifest(group.dir, arches);
      }
      // What `bootsmith register <dir> --arch ARCH` reads: every architecture's images.
      if (published.length > 0) writePublishedRecord(path.join(group.dir, "published.json"), published);
    } catch (error) {
      ok = false;
      options.write(`[${name}] publish failed: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    } finally {
      await signer?.close();
      await cleanup.unwind();
    }
    ok = (await registerArchitectures(group.recipe, published, options)) && ok;
  }
  return ok;
}

/**
 * The key the join signs with (--sign-key, else the recipe's signing.key), opened before anything
 * is published (exit 2 when it cannot sign): when a set is unsigned and a key is given, the join
 * signs it; when a registry target records digests in a signed set, it must sign it again.
 * Undefined when neither applies.
 */
async function joinSigner(group: MultiArchGroup, arches: readonly string[], choice: SigningChoice, cleanup: CleanupStack): Promise<Signer | undefined> {
  const { publish } = group.recipe.spec;
  if (publish.length === 0) return undefined;
  const signed = await Promise.all(
    arches.map((a) =>
      access(path.join(group.dir, a, SIGNATURE_FILE)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const resigns = signed.includes(true) && publish.some((t) => t.type === "registry");
  const signsUnsigned = signed.includes(false) && signingFor(group.recipe, choice) !== undefined;
  return resigns || signsUnsigned ? openRecipeSigner(group.recipe, choice, cleanup) : undefined;
}

/** Sign each architecture's set that has no signature yet (SHA256SUMS and SHA256SUMS.sig); the set read again. */
async function signUnsignedSets(multi: MultiArchSet, signer: Signer, reporter: Reporter): Promise<MultiArchSet> {
  const unsigned = multi.sets.filter((set) => !set.signature);
  if (unsigned.length === 0) return multi;
  for (const set of unsigned) await signArtifactDir(set.dir, signer, { step: "sign", reporter });
  return writeMultiArchManifest(
    multi.dir,
    multi.sets.map((set) => set.manifest.arch),
  );
}

/**
 * The recipe's `register:` entries, after the combined publish: each registers its `arch`'s
 * artifacts (from its `from:` target, else the first that is not a registry) for its nodes.
 */
async function registerArchitectures(recipe: LoadedRecipe, published: readonly PublishedImage[], options: JoinOptions): Promise<boolean> {
  const { name, register, boot } = recipe.spec;
  for (const [index, r] of register.entries()) {
    try {
      const image = registrationImage(recipe, published, index);
      const line = await registerForRecipe(r, image, boot ? boot.params : "", {
        recipeFile: recipe.file,
        ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
        log: (text) => options.write(`[${name}] ${text}`),
      });
      options.write(`[${name}] register[${index}]: ${line}`);
    } catch (error) {
      options.write(`[${name}] register[${index}] (${r.arch ?? "?"}) failed: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }
  return true;
}

/** The published image register[index] points its nodes at: its architecture's, primary tag. */
function registrationImage(recipe: LoadedRecipe, published: readonly PublishedImage[], index: number): PublishedImage {
  const r = recipe.spec.register[index]!;
  const from = registrationTargetType(recipe.spec.publish, r);
  const image = published.find((i) => i.target === from && i.arch === r.arch && i.tag === recipe.spec.tags[0]);
  if (!image) throw new Error(`no ${r.arch} image of ${recipe.spec.name}:${recipe.spec.tags[0]} was published to ${from ?? "S3 or a directory"}`);
  return image;
}

/**
 * The join of architectures built elsewhere (`bootsmith ci join`: one CI job per architecture,
 * their artifact directories brought together): each multi-architecture recipe among `inputs`
 * needs every architecture's manifest.json under <outRoot>/<name>/<tag>/<arch>/ carrying the
 * recipe's current key (bad input otherwise, nothing written); then the combined manifest and,
 * with `publish`, its one publish per target, as after a local build of all of them. `ofPushed`:
 * the architectures' jobs pushed their images to the registry targets (pushBuiltArchitecture).
 */
export async function joinBuiltArchitectures(
  inputs: readonly string[],
  options: {
    readonly vars: Readonly<Record<string, string>>;
    readonly outRoot?: string;
    readonly publish: boolean;
    readonly ofPushed?: boolean;
    readonly write: (line: string) => void;
    readonly signing?: SigningChoice;
  },
): Promise<boolean> {
  const graph = loadGraph(collectRecipeFiles(inputs), { vars: options.vars });
  const requested = new Set([...graph.nodes.values()].filter((n) => n.requested && n.recipe.spec.arches).map((n) => n.name));
  if (requested.size === 0) throw new UserError(`${inputs.join(", ")}: no recipe with arches: to join (a single-architecture build publishes itself)`);
  const outcomes = new Map<string, Outcome>();
  for (const name of requested) {
    builtArchitectureDir(graph.nodes.get(name)!.recipe, name, options.outRoot);
    outcomes.set(name, { status: "built", durationMs: 0 });
  }
  return joinArchitectures(multiArchGroups(graph, requested, options.outRoot), outcomes, {
    publish: options.publish,
    ofPushed: options.ofPushed,
    // The storage `bootsmith build` used on this runner (its detected runroot, not <root>/run).
    buildahArgs: async () => (await detectBuildHost({})).buildahArgs,
    write: options.write,
    ...(options.signing ? { signing: options.signing } : {}),
  });
}

/**
 * One architecture's job on a runner that shares no buildah storage with the others (`bootsmith
 * ci push`): its committed image to each registry target of the recipe as <tag>-<oci arch>, the
 * digests recorded in its manifest.json for the join (which lists them) and for child recipes'
 * jobs (which pull it by digest). The recipe's own tags are left to the join.
 */
export async function pushBuiltArchitecture(
  file: string,
  arch: Arch,
  options: {
    readonly vars: Readonly<Record<string, string>>;
    readonly outRoot?: string;
    readonly write: (line: string) => void;
    /** The key that signed the set (--sign-key, else the recipe's signing.key): it signs manifest.json again after the digests are recorded. */
    readonly signing?: SigningChoice;
  },
): Promise<void> {
  const graph = loadGraph(collectRecipeFiles([file]), { vars: options.vars });
  const node = [...graph.nodes.values()].find((n) => n.requested && n.recipe.spec.arches && n.recipe.spec.arch === arch);
  if (!node) throw new UserError(`${file}: no recipe built for ${arch} among several architectures (arches: [..., ${arch}]) to push`);
  const recipe = node.recipe;
  const targets = recipe.spec.publish.flatMap((t) => (t.type === "registry" ? [t] : []));
  if (targets.length === 0)
    throw new UserError(`${recipe.file}: no registry publish target to push ${node.name} to (S3 and directory targets are published by the join alone)`);
  const dir = builtArchitectureDir(recipe, node.name, options.outRoot);
  // The join needs the digests in manifest.json; recording them there voids a signed set's
  // signature, so such a set is signed again with its key, and refused (before any push) without one.
  const cleanup = new CleanupStack();
  let signer: Signer | undefined;
  if ((await loadArtifactSet(dir)).signature) {
    signer = await openRecipeSigner(recipe, options.signing ?? {}, cleanup);
    if (!signer)
      throw new UserError(`${path.join(dir, MANIFEST_FILE)}: the set is signed, and recording the pushed digests would void its signature: ${SIGN_KEY_FIX}`);
  }
  // The image is in the storage `bootsmith build` used on this runner: the same root, runroot and driver.
  const storage = (await detectBuildHost({})).buildahArgs;
  try {
    // Each transfer line names the pushed ref and digest (docker://<repository>:<tag>-<arch>@sha256:…).
    for (const target of targets)
      await pushArchitecture(await loadArtifactSet(dir), target, {
        buildahGlobalArgs: storage,
        onTransfer: (t) => options.write(`[${node.name}] ${formatTransfer(t)}`),
        reporter: messageReporter(options.write, `[${node.name}] `),
        ...(signer ? { signer } : {}),
      });
  } finally {
    await signer?.close();
    await cleanup.unwind();
  }
}

/** The output directory of one architecture's build, checked: its manifest.json exists and carries the recipe's current key. */
function builtArchitectureDir(recipe: LoadedRecipe, node: string, outRoot: string | undefined): string {
  const dir = defaultOutDir(recipe, outRoot);
  const facts = readManifestFacts(dir);
  const where = path.relative(process.cwd(), path.join(dir, MANIFEST_FILE));
  if (facts.kind !== "found")
    throw new UserError(`${where}: ${facts.kind === "missing" ? "missing" : `unreadable (${facts.error})`}; did the build of ${node} succeed?`);
  if (facts.manifest.inputDigest !== recipe.inputDigest)
    throw new UserError(
      `${where} was built from other inputs than ${recipe.file} has now (key ${facts.manifest.inputDigest.slice(0, 12)}, not ${recipe.inputDigest.slice(0, 12)}): rebuild ${node}`,
    );
  return dir;
}

async function removeCombinedManifest(dir: string): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const text = await readFile(file, "utf8").catch(() => undefined);
  let value: unknown;
  try {
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return;
  }
  if (isMultiArchManifest(value)) await rm(file, { force: true });
}
