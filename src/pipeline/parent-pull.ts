// A parent recipe's image, pulled from its registry by digest into the buildah storage a build
// uses, and tagged as the parent's local image so the child's `buildah from` finds it. Two
// callers: a graph build whose parent is up to date only in the registry (build-graph.ts), and
// `bootsmith ci pull` in a generated GitLab job on a runner that shares no storage with the
// parent's job (pullParentForJob: the digest the parent's artifact manifest recorded).
import path from "node:path";
import { MANIFEST_FILE } from "../core/manifest.js";
import { BootsmithError, EXIT, UserError } from "../core/errors.js";
import type { Arch } from "../core/arch.js";
import { silentReporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import { localImageRef, type LoadedRecipe } from "../recipe/load.js";
import { registryAccessArgs } from "../publish/registry.js";
import type { RegistryTarget } from "../publish/targets.js";
import { collectRecipeFiles, loadGraph } from "./graph.js";
import { readManifestFacts, readRegistryFacts, repositoryOf } from "./cache.js";
import { defaultOutDir } from "../builder/options.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The parent's first registry target: the one its job pushed to and the dotenv names. */
export function parentRegistry(parent: LoadedRecipe): RegistryTarget | undefined {
  return parent.spec.publish.flatMap((t) => (t.type === "registry" ? [t] : []))[0];
}

/**
 * Pull `repository@digest` with the target's TLS setting and auth file into the storage
 * `buildahArgs` name, check that the image stored there has that digest, and tag it `localRef`.
 * A failed pull (registry unreachable, digest unknown) is a failure (exit 1) naming the ref.
 */
export async function pullByDigest(pull: string, target: RegistryTarget | undefined, localRef: string, buildahArgs: readonly string[]): Promise<void> {
  const access = target ? registryAccessArgs(target) : [];
  const ctx = { step: "pull-parent", reporter: silentReporter };
  const digest = pull.slice(pull.lastIndexOf("@") + 1);
  let id: string;
  try {
    id = (await run({ file: "buildah", args: [...buildahArgs, "pull", "--quiet", ...access, `docker://${pull}`] }, ctx, { quiet: true })).stdout
      .trim()
      .split("\n")
      .pop()!;
  } catch (error) {
    if (!isCommandError(error)) throw error;
    throw new BootsmithError(`could not pull ${pull}: ${error.outputTail.filter((l) => /error/i.test(l)).pop() ?? error.message}`, EXIT.failed, {
      cause: error,
      hint: "check that the registry is reachable from this runner and still holds that digest (a registry gc may have removed it)",
    });
  }
  // buildah verifies a pull by digest; this also catches a storage that resolved the name elsewhere.
  const stored = (
    await run({ file: "buildah", args: [...buildahArgs, "inspect", "--type", "image", "--format", "{{.FromImageDigest}}", id] }, ctx, { quiet: true })
  ).stdout.trim();
  if (stored !== digest) throw new BootsmithError(`pulled ${pull}, but the stored image ${id.slice(0, 12)} has digest ${stored || "none"}`, EXIT.failed);
  await run({ file: "buildah", args: [...buildahArgs, "tag", id, localRef] }, ctx, { quiet: true });
}

/** What `ci pull` pulls: the parent's image by digest, and what it is tagged as locally. */
export interface ParentPull {
  readonly parent: LoadedRecipe;
  readonly target: RegistryTarget;
  /** repository@sha256:… */
  readonly pull: string;
  readonly localRef: string;
  /** Where the digest came from, for the log line. */
  readonly source: string;
}

/**
 * The parent image a job's recipe (of `arch`, for a recipe built for several architectures)
 * builds on, as its parent's job left it: the digest pushed to the parent's first registry
 * target that the parent's manifest.json (a job artifact, under `outRoot`) records, for the
 * parent's primary tag (<tag>-<arch> for one architecture of several). Without that manifest
 * (the parent's job skipped its build: the key was already published) the registry's image
 * carrying the parent's current key. Undefined when the recipe has no parent recipe.
 */
export async function resolveParentPull(
  file: string,
  options: { readonly arch?: Arch; readonly vars: Readonly<Record<string, string>>; readonly outRoot?: string },
): Promise<ParentPull | undefined> {
  const graph = loadGraph(collectRecipeFiles([file]), { vars: options.vars });
  const requested = [...graph.nodes.values()].filter((n) => n.requested && (options.arch === undefined || n.recipe.spec.arch === options.arch));
  if (requested.length !== 1) {
    const arches = [...new Set([...graph.nodes.values()].filter((n) => n.requested).map((n) => n.recipe.spec.arch))];
    throw new UserError(
      options.arch === undefined
        ? `${file}: built for ${arches.join(", ")}: give --arch, the architecture of this job's build`
        : `${file}: no build for ${options.arch} (the recipe is built for ${arches.join(", ")}); give --arch one of them`,
    );
  }
  const node = requested[0]!;
  if (node.parent === undefined) return undefined;
  const parent = graph.nodes.get(node.parent)!.recipe;
  const target = parentRegistry(parent);
  if (!target)
    throw new UserError(
      `${parent.file}: publish: has no registry target, so a runner that shares no buildah storage with ${parent.spec.name}'s job cannot get its image; add a registry target, or run the jobs on runners that share storage (BOOTSMITH_SHARED_STORAGE=1)`,
    );
  const localRef = localImageRef(parent.spec);
  const tag = localRef.slice(localRef.lastIndexOf(":") + 1);
  const ref = `${target.repository}:${tag}`;
  const dir = defaultOutDir(parent, options.outRoot);
  const where = path.relative(process.cwd(), path.join(dir, MANIFEST_FILE)) || MANIFEST_FILE;
  const facts = readManifestFacts(dir);
  if (facts.kind === "unreadable")
    throw new UserError(`${where}: unreadable (${facts.error}); the parent's job artifact is damaged: rerun ${parent.spec.name}'s job`);
  // A manifest of other inputs (e.g. an older build restored from the job cache while the build
  // was skipped because the registry had the current key) records an image the build must not use.
  const current = facts.kind === "found" && facts.manifest.inputDigest === parent.inputDigest;
  if (facts.kind === "found" && current) {
    const digest = facts.manifest.image.pushed?.find((p) => p.ref === ref)?.digest;
    if (!digest || !DIGEST.test(digest))
      throw new UserError(
        `${where}: image.pushed records no digest for ${ref}: ${parent.spec.name}'s job did not push its image (built with --no-publish?); its job must push (${parent.spec.arches ? "bootsmith ci push" : "publish to its registry target"}), or the runners must share storage (BOOTSMITH_SHARED_STORAGE=1)`,
      );
    return { parent, target, pull: `${target.repository}@${digest}`, localRef, source: where };
  }
  // The parent's job built nothing: its key was already in the registry (--check-published).
  const registry = parent.spec.arches ? undefined : await readRegistryFacts(parent);
  if (registry?.kind === "found" && registry.label === parent.inputDigest)
    return {
      parent,
      target,
      pull: `${repositoryOf(registry.ref)}@${registry.digest}`,
      localRef,
      source: `${registry.ref} (key ${parent.inputDigest.slice(0, 12)})`,
    };
  const found =
    facts.kind === "found"
      ? `built from other inputs than ${parent.file} has now (key ${facts.manifest.inputDigest.slice(0, 12)}, not ${parent.inputDigest.slice(0, 12)})`
      : "missing";
  const registryAnswer = !registry
    ? ""
    : registry.kind === "unchecked"
      ? `, and the registry could not be asked (${registry.why})`
      : `, and ${ref} does not carry that key`;
  throw new UserError(
    `${where}: ${found}${registryAnswer}: this job needs ${parent.spec.name}'s job of this pipeline (needs: with artifacts: true) and its manifest.json under --out ${options.outRoot ?? "artifacts"}`,
  );
}

/** `bootsmith ci pull`: the parent's image into the storage the build uses (`buildahArgs`: the build host's). */
export async function pullParentForJob(
  file: string,
  options: {
    readonly arch?: Arch;
    readonly vars: Readonly<Record<string, string>>;
    readonly outRoot?: string;
    readonly buildahArgs: () => Promise<readonly string[]>;
    readonly write: (line: string) => void;
  },
): Promise<void> {
  const resolved = await resolveParentPull(file, options);
  if (!resolved) {
    options.write(`${file}: no parent recipe (from: {recipe: …}): nothing to pull`);
    return;
  }
  const { parent, target, pull, localRef, source } = resolved;
  const storage = await options.buildahArgs();
  await pullByDigest(pull, target, localRef, storage);
  options.write(
    `[${parent.spec.name}${parent.spec.arches ? `@${parent.spec.arch}` : ""}] pulled ${pull} (from ${source}) as ${localRef} into ${storage.join(" ")}`,
  );
}
