// A GitLab child pipeline from the recipe graph: one job per recipe, `needs:` edges from
// `from: {recipe: …}`, artifacts (manifest.json, build.log) and reports (dotenv with the image
// reference and digest, JUnit per step). Runners need no shared disk: a child job receives its
// parent's manifest.json through `needs:` and pulls the parent by the digest it records (`ci
// pull`) before building, unless BOOTSMITH_SHARED_STORAGE=1 says the image is already there.
// A recipe with `arches:` is a job per architecture (its directory as artifacts, no publish but,
// without shared storage, its own image pushed as <tag>-<arch> to the registry targets) and a
// join job (`ci join`: the combined manifest, one publish) that needs them all.
// Pure: graph in, plain data out; ci.ts turns it into YAML.
import path from "node:path";
import { UserError } from "../core/errors.js";
import { multiArchGroups } from "./multi-arch-join.js";
import { archesOf } from "../recipe/load.js";
import { quoteArg } from "../exec/quote.js";
import { MANIFEST_FILE, type Manifest } from "../core/manifest.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import type { GraphNode, RecipeGraph } from "./graph.js";
import { repositoryOf } from "./cache.js";
import type { Arch } from "../core/arch.js";
import type { RecipeSpec } from "../recipe/schema.js";
import { GITLAB_SIGN_KEY_VARIABLE } from "../sign/key.js";

export { repositoryOf };

/** GitLab refuses a job with more `needs:` than this (the default `ci_max_needs`). */
export const GITLAB_MAX_NEEDS = 50;

export interface GitlabOptions {
  /** Container image for the jobs; default `$BOOTSMITH_IMAGE`, set at runtime. */
  readonly image?: string;
  /** How jobs run bootsmith (default `bootsmith`; the repo's own pipeline uses `node dist/cli/main.js`). */
  readonly bootsmith?: string;
  /** Commands before each build (e.g. `npm ci`, `npm run build`). */
  readonly setup?: readonly string[];
  /** `--var` values passed to every build. Written into the YAML: no secrets (use importEnv:). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Nightly: jobs build with --refresh (changelog, publish only on package change); otherwise --if-changed --check-published. */
  readonly refresh?: boolean;
  /** Output root inside the project directory (default `artifacts`). */
  readonly outRoot?: string;
  /** Recipe paths are written relative to this directory (the project root; default cwd). */
  readonly projectDir?: string;
  /** Extra `bootsmith build` arguments (e.g. --no-publish). */
  readonly buildArgs?: readonly string[];
  /**
   * Runner tags per architecture: a recipe of that arch gets them as the job's `tags:` (e.g.
   * aarch64 → ["arm64-runner"], a native Arm runner). Without an entry the job runs on the
   * default runners, cross-building through qemu-user (which then need binfmt_misc).
   */
  readonly archTags?: Readonly<Partial<Record<Arch, readonly string[]>>>;
  /**
   * A CI/CD (file) variable holding the site's signing key: every join job signs its set with it
   * (`ci join --sign-key "$VAR"`), recipes without `signing:` included, for sites that sign only
   * at the join. The YAML names the variable, never the key.
   */
  readonly joinSignKeyEnv?: string;
}

export type GitlabPipeline = Record<string, unknown>;

export function jobName(recipe: string): string {
  return `build:${recipe}`;
}

export function gitlabPipeline(graph: RecipeGraph, selected: ReadonlySet<string>, options: GitlabOptions = {}): GitlabPipeline {
  const projectDir = options.projectDir ?? process.cwd();
  const outRoot = outRootInProject(options.outRoot ?? "artifacts", projectDir);
  const bootsmith = options.bootsmith ?? "bootsmith";
  const pipeline: GitlabPipeline = {
    stages: ["build"],
    variables: {
      // Set to "1" on runners that share container storage: parents are then used in place.
      BOOTSMITH_SHARED_STORAGE: { value: "0", description: "1 when all runners share buildah storage (no pull of parent images)" },
    },
    ".bootsmith-build": {
      stage: "build",
      image: options.image ?? "$BOOTSMITH_IMAGE",
      ...(options.setup && options.setup.length > 0 ? { before_script: [...options.setup] } : {}),
      interruptible: true,
    },
  };
  const names = graph.order.filter((n) => selected.has(n));
  if (names.length === 0) {
    // GitLab refuses a pipeline without jobs; say plainly that nothing changed.
    pipeline["nothing-to-build"] = { stage: "build", image: options.image ?? "$BOOTSMITH_IMAGE", script: ['echo "no recipe changed: nothing to build"'] };
    return pipeline;
  }
  for (const name of names) {
    const node = graph.nodes.get(name)!;
    const recipe = node.recipe;
    const outDir = path.posix.join(outRoot, recipe.spec.name, recipe.spec.tags[0] ?? "latest");
    const recipePath = path.relative(projectDir, recipe.file).split(path.sep).join("/");
    if (recipe.spec.arches) {
      pipeline[jobName(name)] = archJob(graph, selected, name, recipePath, outRoot, options);
      continue;
    }
    const parent = node.parent !== undefined && selected.has(node.parent) ? graph.nodes.get(node.parent)! : undefined;
    const needs = parent ? [{ job: parentJob(graph, selected, node, parent), artifacts: true }] : [];
    // One parent per recipe keeps needs at 0 or 1; the check guards a future multi-parent format.
    if (needs.length > GITLAB_MAX_NEEDS)
      throw new UserError(`${recipe.file}: job ${jobName(name)} would need ${needs.length} jobs; GitLab allows ${GITLAB_MAX_NEEDS}`);
    const build = [
      bootsmith,
      "build",
      quoteArg(recipePath),
      "--out",
      quoteArg(outDir),
      "--junit",
      quoteArg(`${outDir}/junit.xml`),
      "--progress",
      "plain",
      ...(options.refresh ? ["--refresh"] : ["--if-changed", "--check-published"]),
      ...varArgs(options),
      ...signKeyArg(recipe.spec),
      ...(options.buildArgs ?? []).map(quoteArg),
    ].join(" ");
    // A parent linked through its registry tag (recipe.parentImage): the job's build pulls that
    // tag, which the parent's job pushed before this one starts (needs:).
    const script: string[] = parent && recipe.parentImage === undefined ? pullParent(parent.recipe.spec, recipePath, outRoot, undefined, options) : [];
    script.push(
      build,
      [
        bootsmith,
        "ci",
        "dotenv",
        quoteArg(`${outDir}/manifest.json`),
        "--recipe",
        quoteArg(recipePath),
        ...varArgs(options),
        ">",
        quoteArg(`${outDir}/image.env`),
      ].join(" "),
    );
    const tags = options.archTags?.[recipe.spec.arch];
    pipeline[jobName(name)] = {
      extends: ".bootsmith-build",
      ...(tags && tags.length > 0 ? { tags: [...tags] } : {}),
      needs,
      variables: { RECIPE: recipePath, BOOTSMITH_INPUT_DIGEST: recipe.inputDigest },
      script,
      // The previous manifest, kept per recipe on the runner: --refresh compares packages with it
      // (publishing only on change) and --if-changed can skip without asking the registry.
      cache: { key: `bootsmith-${recipe.spec.name}-${recipe.spec.tags[0] ?? "latest"}`, paths: [`${outDir}/manifest.json`] },
      artifacts: {
        when: "always",
        expire_in: "30 days",
        paths: [`${outDir}/manifest.json`, `${outDir}/build.log`, `${outDir}/junit.xml`],
        reports: { dotenv: `${outDir}/image.env`, junit: `${outDir}/junit.xml` },
      },
    };
  }
  return { ...pipeline, ...joinJobs(graph, selected, outRoot, projectDir, options) };
}

/**
 * The output root as a path relative to the project directory: GitLab's runner uploads artifacts
 * and caches only from inside it (an absolute path, even one inside, finds "no matching files"),
 * and without the artifacts a child job has no parent manifest.json to pull by.
 */
function outRootInProject(outRoot: string, projectDir: string): string {
  const relative = path.relative(projectDir, path.resolve(projectDir, outRoot));
  if (relative.startsWith("..") || path.isAbsolute(relative))
    throw new UserError(
      `--out ${outRoot}: GitLab keeps artifacts and caches only from inside the project directory (${projectDir}), and a child job finds its parent's manifest.json there; give a directory inside it, e.g. --out artifacts`,
    );
  return relative === "" ? "." : relative.split(path.sep).join("/");
}

/**
 * One architecture of a recipe with `arches:`: `bootsmith build --only NAME@ARCH --no-publish`
 * (a multi-architecture set is published whole, by the join job), on that architecture's runner
 * tags. Its artifacts are the whole <name>/<tag>/<arch>/ directory: the join job writes the
 * combined manifest from them and publishes their files. No cache: a job that found its
 * architecture up to date would leave the join nothing to publish. Without shared storage, a
 * recipe with a registry target pushes this architecture's image as <tag>-<arch> (`ci push`:
 * the join lists it, a child's job of the same architecture pulls it by the digest its
 * manifest.json records: `ci pull --arch`), and a child pulls its parent's image the same way.
 */
function archJob(graph: RecipeGraph, selected: ReadonlySet<string>, name: string, recipePath: string, outRoot: string, options: GitlabOptions): object {
  const node = graph.nodes.get(name)!;
  const recipe = node.recipe;
  const bootsmith = options.bootsmith ?? "bootsmith";
  const outDir = path.posix.join(outRoot, recipe.spec.name, recipe.spec.tags[0] ?? "latest", recipe.spec.arch);
  const junit = `${outDir}/${name}.xml`;
  const parent = node.parent !== undefined && selected.has(node.parent) ? graph.nodes.get(node.parent)! : undefined;
  const needs = parent ? [{ job: parentJob(graph, selected, node, parent), artifacts: true }] : [];
  const build = [
    bootsmith,
    "build",
    quoteArg(recipePath),
    "--only",
    quoteArg(name),
    "--out",
    quoteArg(outRoot),
    // Graph mode: --junit is a directory holding <node>.xml.
    "--junit",
    quoteArg(outDir),
    "--progress",
    "plain",
    "--no-publish",
    ...(options.refresh ? ["--refresh"] : []),
    ...varArgs(options),
    ...signKeyArg(recipe.spec),
    ...(options.buildArgs ?? []).filter((a) => a !== "--no-publish").map(quoteArg),
  ].join(" ");
  const push = [
    bootsmith,
    "ci",
    "push",
    quoteArg(recipePath),
    "--arch",
    recipe.spec.arch,
    "--out",
    quoteArg(outRoot),
    ...varArgs(options),
    ...signKeyArg(recipe.spec),
  ].join(" ");
  const script = [
    ...(parent ? pullParent(parent.recipe.spec, recipePath, outRoot, recipe.spec.arch, options) : []),
    build,
    ...(pushesPerArchitecture(recipe.spec, options) ? [`if [ "$BOOTSMITH_SHARED_STORAGE" != "1" ]; then ${push}; fi`] : []),
    [bootsmith, "ci", "dotenv", quoteArg(`${outDir}/manifest.json`), ">", quoteArg(`${outDir}/image.env`)].join(" "),
  ];
  const tags = options.archTags?.[recipe.spec.arch];
  return {
    extends: ".bootsmith-build",
    ...(tags && tags.length > 0 ? { tags: [...tags] } : {}),
    needs,
    variables: { RECIPE: recipePath, BOOTSMITH_INPUT_DIGEST: recipe.inputDigest },
    script,
    // The join job reads the files; it publishes them the same day, so they need not stay long.
    artifacts: { when: "always", expire_in: "1 day", paths: [outDir], reports: { junit, dotenv: `${outDir}/image.env` } },
  };
}

/**
 * The job a child waits for: its parent's. A child linked through the registry tag its parent
 * publishes (recipe.parentImage) pulls that tag in its job; a parent with `arches:` publishes it
 * from its join job (its architectures' jobs run --no-publish), so the child waits for the join,
 * when there is one (every architecture selected).
 */
function parentJob(graph: RecipeGraph, selected: ReadonlySet<string>, node: GraphNode, parent: GraphNode): string {
  const arches = parent.recipe.spec.arches;
  if (node.recipe.parentImage === undefined || !arches) return jobName(parent.name);
  const joined = arches.every((arch) =>
    [...graph.nodes.values()].some((n) => selected.has(n.name) && n.recipe.file === parent.recipe.file && n.recipe.spec.arch === arch),
  );
  return joined ? `join:${parent.recipe.spec.name}` : jobName(parent.name);
}

/**
 * Per recipe with `arches:` whose every architecture is selected: `join:<name>`, after every architecture's job (their artifact
 * directories together), runs `ci join`: the combined manifest.json, then one publish per target.
 */
function joinJobs(graph: RecipeGraph, selected: ReadonlySet<string>, outRoot: string, projectDir: string, options: GitlabOptions): GitlabPipeline {
  const jobs: GitlabPipeline = {};
  for (const group of multiArchGroups(graph, selected, outRoot)) {
    const recipe = group.recipe;
    // --only NAME@ARCH: that architecture is built, nothing is joined or published.
    if (group.nodes.length < archesOf(recipe.spec).length) continue;
    const recipePath = path.relative(projectDir, recipe.file).split(path.sep).join("/");
    const dir = path.posix.join(outRoot, recipe.spec.name, recipe.spec.tags[0] ?? "latest");
    const noPublish = (options.buildArgs ?? []).includes("--no-publish");
    const signs = recipe.spec.signing !== undefined || options.joinSignKeyEnv !== undefined;
    const join = [
      options.bootsmith ?? "bootsmith",
      "ci",
      "join",
      quoteArg(recipePath),
      "--out",
      quoteArg(outRoot),
      ...varArgs(options),
      ...(options.joinSignKeyEnv ? [`--sign-key "$${options.joinSignKeyEnv}"`] : signKeyArg(recipe.spec)),
      ...(noPublish ? ["--no-publish"] : []),
    ];
    // Without shared storage the architectures' jobs pushed their images: the join lists them.
    const script = pushesPerArchitecture(recipe.spec, options)
      ? `if [ "$BOOTSMITH_SHARED_STORAGE" = "1" ]; then ${join.join(" ")}; else ${[...join, "--pushed"].join(" ")}; fi`
      : join.join(" ");
    jobs[`join:${recipe.spec.name}`] = {
      extends: ".bootsmith-build",
      needs: group.nodes.map((n) => ({ job: jobName(n), artifacts: true })),
      variables: { RECIPE: recipePath },
      script: [script],
      artifacts: {
        when: "always",
        expire_in: "30 days",
        paths: [
          `${dir}/manifest.json`,
          // The join writes published.json only when it publishes: a path that never exists makes
          // the runner warn "no matching files" on every pipeline.
          ...(noPublish || recipe.spec.publish.length === 0 ? [] : [`${dir}/published.json`]),
          ...(pushesPerArchitecture(recipe.spec, options) ? joinChangedFiles(recipe.spec.arches ?? [], signs, dir) : []),
        ],
      },
    };
  }
  return jobs;
}

/**
 * Without shared storage, a child job pulls its parent's image (`ci pull`: by the digest the
 * parent job's manifest.json artifact records, into the storage the build then uses) before
 * building. A parent without a registry target cannot be pulled: its children need shared storage.
 */
function pullParent(parent: RecipeSpec, recipePath: string, outRoot: string, arch: Arch | undefined, options: GitlabOptions): string[] {
  if (!parent.publish.some((t) => t.type === "registry")) return [];
  const pull = [
    options.bootsmith ?? "bootsmith",
    "ci",
    "pull",
    quoteArg(recipePath),
    ...(arch ? ["--arch", arch] : []),
    "--out",
    quoteArg(outRoot),
    ...varArgs(options),
  ];
  return [`if [ "$BOOTSMITH_SHARED_STORAGE" != "1" ]; then ${pull.join(" ")}; fi`];
}

/** A multi-architecture recipe whose images go to a registry: without shared storage each architecture's job pushes its own. */
function pushesPerArchitecture(spec: { readonly publish: readonly { readonly type: string }[] }, options: GitlabOptions): boolean {
  return spec.publish.some((t) => t.type === "registry") && !(options.buildArgs ?? []).includes("--no-publish");
}

/**
 * What the join changes in the architectures' directories when it publishes to a registry: it records the list
 * digests in each manifest.json (and a signed set is signed again), and the combined manifest
 * lists the new manifests' sha256s, so the join's artifacts carry them (not the large files).
 */
function joinChangedFiles(arches: readonly Arch[], signs: boolean, dir: string): string[] {
  const files = [MANIFEST_FILE, ...(signs ? [SUMS_FILE, SIGNATURE_FILE] : [])];
  return arches.flatMap((arch) => files.map((f) => `${dir}/${arch}/${f}`));
}

/**
 * A recipe that signs: its key from the GitLab CI/CD file variable when the project sets one (the
 * variable holds the key file's path; the job log shows the expansion, never the key), else the
 * recipe's own signing.key. The same key for the build and for ci push / ci join, which sign the
 * sets again after recording pushed digests in them.
 */
function signKeyArg(spec: Pick<RecipeSpec, "signing">): string[] {
  return spec.signing ? [`\${${GITLAB_SIGN_KEY_VARIABLE}:+--sign-key "$${GITLAB_SIGN_KEY_VARIABLE}"}`] : [];
}

function varArgs(options: GitlabOptions): string[] {
  return Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", quoteArg(`${k}=${v}`)]);
}

/**
 * The dotenv report of one build: what a child job needs to pull this image by digest. Keys
 * with no value are left out (GitLab's dotenv parser rejects some empty forms).
 */
export function dotenvFor(manifest: Pick<Manifest, "name" | "inputDigest" | "image">): string {
  const pushed = manifest.image.pushed?.[0];
  const entries: Record<string, string | undefined> = {
    IMAGE_REF: pushed?.ref ?? manifest.image.ref,
    IMAGE_DIGEST: pushed?.digest,
    IMAGE_PULL_REF: pushed ? `${repositoryOf(pushed.ref)}@${pushed.digest}` : undefined,
    BOOTSMITH_IMAGE_NAME: manifest.name,
    BOOTSMITH_BUILT_INPUT_DIGEST: manifest.inputDigest,
  };
  return (
    Object.entries(entries)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
}
