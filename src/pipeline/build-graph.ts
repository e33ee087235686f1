// `bootsmith build DIR | FILE… | LIST` in graph mode: collect and load the recipes, select
// (--only, --since), decide per recipe from the cache (or --refresh/--force), then either explain
// (--explain) or build with --jobs in parallel and print the summary table. Each build gets its
// own reporter (plain lines prefixed with the recipe name, or JSON lines with a `recipe` field)
// and its own build.log in its output directory.
import path from "node:path";
import { availableParallelism } from "node:os";
import { UserError } from "../core/errors.js";
import { wholeNumber } from "../core/whole-number.js";
import { localImageRef } from "../recipe/load.js";
import { buildStorageArgs, defaultOutDir, detectBuildHost, type BuildSessionOptions } from "../builder/options.js";
import type { HostFacts } from "../builder/host.js";
import { createJsonReporter, createPlainReporter, type OutputStream } from "../exec/reporters/index.js";
import { formatWarnings } from "../recipe/errors.js";
import { unusedVarWarnings } from "../recipe/unused-vars.js";
import { changedFiles, collectRecipeFiles, imageNeededBy, loadGraph, selectNodes, type GraphNode, type RecipeGraph } from "./graph.js";
import { decide, gatherFacts, localImageLister, type Decision } from "./cache.js";
import { buildRecipe } from "./build-session.js";
import { refreshHooks } from "./refresh.js";
import { runExitCode, runGraph, summaryTable, type Outcome } from "./parallel.js";
import type { PackageRecord } from "../core/manifest.js";
import { lockedVerifier } from "./lockfile.js";
import { joinArchitectures, multiArchGroups } from "./multi-arch-join.js";
import { parentRegistry, pullByDigest } from "./parent-pull.js";
import { shareCoresWithGoPrograms } from "./go-threads.js";

export interface GraphBuildOptions extends BuildSessionOptions {
  readonly vars: Readonly<Record<string, string>>;
  /** Output root: each recipe builds into <root>/<name>/<primary tag> (default ./artifacts). */
  readonly outRoot?: string;
  readonly jobs?: string;
  readonly only?: readonly string[];
  readonly since?: string;
  readonly explain: boolean;
  readonly refresh: boolean;
  readonly force: boolean;
  /** Also look for the key where each recipe publishes (its registry, else S3 or directory target): built elsewhere counts. */
  readonly checkPublished?: boolean;
  /** --locked: every selected recipe needs its lock file; a build whose packages differ from it fails. */
  readonly locked?: boolean;
  /** --commit-all: commit every recipe's image, leaves included (to inspect them with buildah). */
  readonly commitAll?: boolean;
  /** Directory for one JUnit file per built recipe (<dir>/<name>.xml). */
  readonly junitDir?: string;
  /** Where human-facing lines go (default process.stderr); JSON lines and --explain use stdout. */
  readonly stderr?: OutputStream;
  readonly stdout?: OutputStream;
}

export function parseJobs(value: string | undefined): number {
  if (value === undefined) return Math.max(1, availableParallelism());
  const jobs = wholeNumber(value);
  if (jobs === undefined || jobs < 1) throw new UserError(`--jobs ${value}: expected a positive number of parallel builds`);
  return jobs;
}

export async function buildGraph(inputs: readonly string[], options: GraphBuildOptions): Promise<number> {
  const started = Date.now();
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  const jobs = parseJobs(options.jobs);
  if (options.refresh && options.force) throw new UserError("--refresh and --force both rebuild everything selected; give one");
  const graph = loadGraph(collectRecipeFiles(inputs), { vars: options.vars });
  stderr.write(graphWarnings(graph));
  stderr.write(
    unusedVarWarnings(
      options.vars,
      [...graph.nodes.values()].map((node) => node.recipe),
    ),
  );
  const changed = options.since !== undefined ? await changedFiles(options.since, path.dirname(graph.nodes.get(graph.order[0]!)!.recipe.file)) : undefined;
  const selected = selectNodes(graph, { only: options.only, changed });
  const decisions = await decideAll(graph, selected, options);

  if (options.explain) {
    stdout.write(explainText(graph, selected, decisions, options).join("\n") + "\n");
    return 0;
  }
  if (selected.size === 0) {
    stderr.write(`nothing to build: no recipe changed since ${options.since ?? "?"}\n`);
    return 0;
  }
  const verifiers = options.locked ? lockedVerifiers(graph, selected) : undefined;

  // Each running build listens for SIGINT/SIGTERM (to clean up): allow that many listeners
  // without Node's leak warning.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 2 * jobs + 10));
  // Host detection probes buildah for seconds: once per run, and only when something is built.
  let host: Promise<HostFacts> | undefined;
  const json = options.progress === "json";
  // A parent that is up to date only in the registry is pulled (once) when a child is built here.
  const pulls = new Map<string, Promise<void>>();
  const build = async (node: GraphNode, interrupt: AbortSignal) => {
    host ??= detectBuildHost({ storageRoot: options.storageRoot, storageDriver: options.storageDriver, isolation: options.isolation, outDir: options.outRoot });
    const hostFacts = await host;
    const parentPull = node.parent !== undefined ? decisions.get(node.parent)?.pull : undefined;
    if (parentPull && node.parent !== undefined) {
      const parent = graph.nodes.get(node.parent)!.recipe;
      if (!pulls.has(node.parent)) pulls.set(node.parent, pullByDigest(parentPull, parentRegistry(parent), localImageRef(parent.spec), hostFacts.buildahArgs));
      try {
        await pulls.get(node.parent);
      } catch (error) {
        return { exitCode: 1, detail: `could not pull the parent ${parentPull}: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    const console = json
      ? createJsonReporter({ stream: withRecipeField(node.name, stdout) })
      : createPlainReporter({ stream: prefixLines(`[${node.name}] `, stderr), verbose: options.verbose });
    const outDir = defaultOutDir(node.recipe, options.outRoot);
    const publishes = options.publish && node.recipe.spec.publish.length + node.recipe.spec.register.length > 0;
    const refresh = options.refresh ? await refreshHooks(node.recipe, outDir, publishes) : undefined;
    // Ctrl-C while this build waited (host detection, its parent's pull, the published package
    // list): it must not start, its own signal handling would be installed after the signal.
    interrupt.throwIfAborted();
    const exitCode = await buildRecipe(node.recipe, {
      outDir,
      publish: options.publish,
      progress: options.progress,
      verbose: options.verbose,
      storageRoot: options.storageRoot,
      storageDriver: options.storageDriver,
      isolation: options.isolation,
      stateDir: options.stateDir,
      signKey: options.signKey,
      signPassphraseEnv: options.signPassphraseEnv,
      console,
      host: hostFacts,
      // Only an image something reads is committed: a leaf's build ends with its artifacts.
      commit: neededBy(node, options) !== undefined,
      refresh: options.refresh,
      junitFile: options.junitDir ? path.resolve(options.junitDir, `${node.name}.xml`) : undefined,
      skipPublish: refresh?.skipPublish,
      verify: verifiers?.get(node.name),
    });
    if (exitCode !== 0) return { exitCode, detail: `exit ${exitCode}; log ${path.relative(process.cwd(), path.join(outDir, "build.log"))}` };
    return { exitCode, detail: refresh?.after() };
  };
  // As many builds at once as --jobs allows and the selection has (dependencies may run fewer).
  const restoreGoThreads = shareCoresWithGoPrograms(Math.min(jobs, selected.size), availableParallelism());
  const run = await runGraph(graph, {
    jobs,
    selected,
    decisions,
    build,
    onOutcome: (name, o) => {
      if (!json && o.status !== "up-to-date") stderr.write(`[${name}] ${o.status}${o.detail ? `: ${o.detail}` : ""}\n`);
    },
  }).finally(restoreGoThreads);
  // Recipes built for several architectures: the combined manifest and their one publish.
  const { outcomes } = run;
  const joined = await joinArchitectures(multiArchGroups(graph, selected, options.outRoot), outcomes, {
    publish: options.publish,
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
    signing: { signKey: options.signKey, signPassphraseEnv: options.signPassphraseEnv },
    buildahArgs: async () => {
      host ??= detectBuildHost({
        storageRoot: options.storageRoot,
        storageDriver: options.storageDriver,
        isolation: options.isolation,
        outDir: options.outRoot,
      });
      return (await host).buildahArgs;
    },
    write: (line) => stderr.write(`${line}\n`),
  });
  stderr.write(summaryTable(graph.order, outcomes, Date.now() - started).join("\n") + "\n");
  const code = runExitCode(run);
  return code === 0 && !joined ? 1 : code;
}

/** The recipes' warnings, once per recipe file (a recipe built for several architectures is a node per architecture). */
export function graphWarnings(graph: RecipeGraph): string {
  const byFile = new Map(graph.order.map((name) => [graph.nodes.get(name)!.recipe.file, graph.nodes.get(name)!.recipe.warnings]));
  return [...byFile.values()].map(formatWarnings).join("");
}

/** --locked: read every selected recipe's lock file before anything is built; one error naming all that are missing or bad. */
function lockedVerifiers(graph: RecipeGraph, selected: ReadonlySet<string>): Map<string, (packages: readonly PackageRecord[]) => void> {
  const verifiers = new Map<string, (packages: readonly PackageRecord[]) => void>();
  const problems: string[] = [];
  for (const name of graph.order.filter((n) => selected.has(n))) {
    try {
      verifiers.set(name, lockedVerifier(graph.nodes.get(name)!.recipe));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new UserError(problems.join("\n"));
  return verifiers;
}

async function decideAll(graph: RecipeGraph, selected: ReadonlySet<string>, options: GraphBuildOptions): Promise<Map<string, Decision>> {
  // The storage the builds will use (their host detection resolves it the same way).
  const globalArgs = await buildStorageArgs(options);
  const names = graph.order.filter((n) => selected.has(n));
  // Facts first, concurrently; the local images are listed once for all of them.
  const rebuild = options.refresh || options.force;
  // Storage that holds no images yet is not listed: imageFacts finds every image missing.
  const localImages = globalArgs === undefined ? undefined : localImageLister(globalArgs);
  const facts = new Map(
    await Promise.all(
      names.map(async (name) => {
        const recipe = graph.nodes.get(name)!.recipe;
        return [
          name,
          await gatherFacts(recipe, defaultOutDir(recipe, options.outRoot), {
            globalArgs,
            checkPublished: options.checkPublished ?? false,
            rebuild,
            localImages,
          }),
        ] as const;
      }),
    ),
  );
  // Then decisions parents-first: a child on a rebuilt parent is rebuilt.
  const decisions = new Map<string, Decision>();
  for (const name of names) {
    const node = graph.nodes.get(name)!;
    const parentDecision = node.parent !== undefined ? decisions.get(node.parent) : undefined;
    decisions.set(
      name,
      decide(node.recipe, defaultOutDir(node.recipe, options.outRoot), facts.get(name)!, {
        rebuild: options.refresh ? "refresh" : options.force ? "force" : undefined,
        parentRebuilt: parentDecision?.build ? node.parent : undefined,
        imageNeededBy: neededBy(node, options),
      }),
    );
  }
  return decisions;
}

/** Who needs the node's image in this run: a child, a registry target, or --commit-all (for every recipe). */
function neededBy(node: GraphNode, options: Pick<GraphBuildOptions, "commitAll">): string | undefined {
  return imageNeededBy(node) ?? (options.commitAll ? "--commit-all" : undefined);
}

/** `--explain`: per recipe, in build order, whether it will be rebuilt and why. */
export function explainText(
  graph: RecipeGraph,
  selected: ReadonlySet<string>,
  decisions: ReadonlyMap<string, Decision>,
  options: Pick<GraphBuildOptions, "since" | "only" | "commitAll">,
): string[] {
  const lines: string[] = [];
  for (const name of graph.order) {
    const node = graph.nodes.get(name)!;
    const decision = decisions.get(name);
    const arch = node.recipe.spec.arches ? `, ${node.recipe.spec.arch}` : "";
    const head = `${name} (${path.relative(process.cwd(), node.recipe.file) || node.recipe.file}, ${localImageRef(node.recipe.spec)}${arch})`;
    if (!decision || !selected.has(name)) {
      const why = options.since !== undefined ? `not selected: unchanged since ${options.since}` : `not selected by --only ${(options.only ?? []).join(",")}`;
      lines.push(`${head}: skip`, `  ${why}`);
      continue;
    }
    lines.push(`${head}: ${decision.build ? "rebuild" : "up to date"}`, ...decision.reasons.map((r) => `  ${r}`));
    if (node.recipe.parentImage !== undefined && node.parent !== undefined)
      lines.push(
        `  builds on ${node.parent}: its from.image ${node.recipe.parentImage} is what ${node.parent} publishes in this run, so it waits for ${node.parent} and builds on the image ${node.parent} commits here`,
      );
    if (decision.build && !decision.pull && neededBy(node, options) === undefined)
      lines.push("  no image committed: no child recipe builds on it and no registry target pushes it");
  }
  const rebuilt = [...decisions.values()].filter((d) => d.build).length;
  lines.push(`${rebuilt} of ${graph.nodes.size} recipes would be built`);
  return lines;
}

/** Prefix every line written to `stream`; writes from the plain reporter are whole lines. */
export function prefixLines(prefix: string, stream: OutputStream): OutputStream {
  return {
    write: (chunk: string) =>
      stream.write(
        chunk
          .split("\n")
          .map((line, i, all) => (i === all.length - 1 && line === "" ? "" : prefix + line))
          .join("\n"),
      ),
  };
}

/** JSON lines with the recipe's name as the first field, so parallel builds' events can be told apart. */
function withRecipeField(name: string, stream: OutputStream): OutputStream {
  const field = `{"recipe":${JSON.stringify(name)},`;
  return { write: (chunk: string) => stream.write(chunk.replace(/^\{/gm, field)) };
}

export type { Outcome };
