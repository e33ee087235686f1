// Many recipes as one graph: collect recipe files (a directory, a list of files, or a list file),
// load them with their parents, link them by `from: {recipe: …}`, order them parents-first and
// select what a run is about (--only NAME, --since GIT_REF). Loading is the only I/O here
// besides `git diff` for --since; the rest is pure and unit-tested.
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { UserError } from "../core/errors.js";
import { didYouMean, formatIssue, RecipeError, type RecipeIssue } from "../recipe/errors.js";
import { baseImageTag, expandArches, keyedInputPaths, loadRecipe, localImageRef, onPublishedParent, withParent, type LoadedRecipe } from "../recipe/load.js";
import { registryTag } from "../core/image-ref.js";
import { locateInRecipe } from "../recipe/source.js";
import { run } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";

export interface GraphNode {
  /** Recipe name (unique in a graph). */
  readonly name: string;
  readonly recipe: LoadedRecipe;
  /** Name of the parent node, when the recipe builds on another recipe. */
  readonly parent?: string;
  readonly children: readonly string[];
  /** Named on the command line (or in the directory/list), not only pulled in as a parent. */
  readonly requested: boolean;
}

export interface RecipeGraph {
  /** Parents before children; ties broken by name, so the order is stable. */
  readonly order: readonly string[];
  readonly nodes: ReadonlyMap<string, GraphNode>;
}

const RECIPE_EXTENSIONS = [".yaml", ".yml"];
const LIST_EXTENSIONS = [".txt", ".list"];

/**
 * Recipe files from the arguments: a directory (searched recursively for YAML files that look
 * like recipes), a recipe file, or a list file (`.txt`/`.list`: one path per line, `#` comments;
 * or YAML with a top-level `recipes:` list). List paths are relative to the list file.
 */
export function collectRecipeFiles(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    const abs = path.resolve(arg);
    if (!existsSync(abs)) throw new UserError(`${arg} does not exist: name a recipe file, a directory of recipes or a list of recipes`);
    if (statSync(abs).isDirectory()) {
      const found = findRecipes(abs);
      if (found.length === 0)
        throw new UserError(
          `${arg}: no recipes found (YAML files with a from: or apiVersion: bootsmith/… line, or OpenCHAMI image-builder options: / image-thrillhouse meta: and layer: configs)`,
        );
      files.push(...found);
    } else if (LIST_EXTENSIONS.includes(path.extname(abs))) {
      files.push(...readTextList(abs));
    } else {
      const listed = readYamlList(abs);
      files.push(...(listed ?? [abs]));
    }
  }
  return [...new Set(files)];
}

function findRecipes(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findRecipes(p));
    else if (RECIPE_EXTENSIONS.includes(path.extname(entry.name)) && looksLikeRecipe(p)) out.push(p);
  }
  return out;
}

/**
 * Cheap and deliberately loose: the loader gives the precise errors for a real recipe. The
 * OpenCHAMI configs validate, plan and build read are recipes too: image-builder's `options:`
 * with its required `layer_type:`, image-thrillhouse's `meta:` and `layer:` (recipe/compat/detect.ts).
 */
function looksLikeRecipe(file: string): boolean {
  const text = readFileSync(file, "utf8");
  return (
    /^from:/m.test(text) ||
    /^apiVersion:\s*["']?bootsmith\//m.test(text) ||
    (/^options:/m.test(text) && /^\s+layer_type:/m.test(text)) ||
    (/^meta:/m.test(text) && /^layer:/m.test(text))
  );
}

function readTextList(file: string): string[] {
  const dir = path.dirname(file);
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "");
  if (lines.length === 0) throw new UserError(`${file}: the list names no recipes`);
  return lines.map((l) => path.resolve(dir, l));
}

/** A YAML file with a top-level `recipes:` list is a list file; anything else is a recipe. */
function readYamlList(file: string): string[] | undefined {
  const text = readFileSync(file, "utf8");
  // A file without the word cannot have the key: not parsed twice (`bootsmith build FILE` asks
  // this before loading the recipe, ~50 ms of a cold YAML parser).
  if (!text.includes("recipes")) return undefined;
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch {
    return undefined; // the recipe loader reports the syntax error with its position
  }
  if (!data || typeof data !== "object" || !("recipes" in data)) return undefined;
  const list = data.recipes;
  if (!Array.isArray(list) || !list.every((x): x is string => typeof x === "string")) {
    throw new UserError(`${file}: recipes: must be a list of recipe paths (relative to this file)`);
  }
  return list.map((l) => path.resolve(path.dirname(file), l));
}

/**
 * Load every recipe (with its parents: a parent not named is pulled into the graph, since a child
 * cannot be built without it) and link them. Cycles and missing parents are reported by the
 * loader with the file, line and chain.
 */
export function loadGraph(files: readonly string[], options: GraphLoadOptions = {}): RecipeGraph {
  return linkRecipes(loadRecipes(files, options));
}

export interface GraphLoadOptions {
  readonly vars?: Readonly<Record<string, string>>;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The recipes of the files, as a graph reads them (for a command that links them itself, as
 * `lock` does): every file's problems in one RecipeError, a shared parent read once.
 */
export function loadRecipes(files: readonly string[], options: GraphLoadOptions = {}): LoadedRecipe[] {
  // Every file's problems in one report, not only the first broken file's.
  const issues: RecipeIssue[] = [];
  // A parent shared by many children is read and validated once.
  const loaded = new Map<string, LoadedRecipe>();
  const recipes: LoadedRecipe[] = [];
  for (const file of files) {
    try {
      recipes.push(loadRecipe(file, { ...options, loaded }));
    } catch (error) {
      if (!(error instanceof RecipeError)) throw error;
      for (const issue of error.issues) if (!issues.some((i) => formatIssue(i) === formatIssue(issue))) issues.push(issue);
    }
  }
  if (issues.length > 0) throw new RecipeError(issues);
  return recipes;
}

/**
 * The graph of loaded recipes (each one requested) and the parents they build on; two recipes of
 * one name or image are an error (UserError) naming both files.
 */
export function linkRecipes(recipes: readonly LoadedRecipe[]): RecipeGraph {
  // A recipe built for several architectures is a node per architecture (expandArches), each on
  // its parent's node of the same architecture.
  const byNode = new Map<string, { recipe: LoadedRecipe; requested: boolean }>();
  const add = (recipe: LoadedRecipe, requested: boolean) => {
    const key = `${recipe.file}\0${nodeName(recipe)}`;
    const seen = byNode.get(key);
    if (seen) {
      if (requested) seen.requested = true;
      return;
    }
    byNode.set(key, { recipe, requested });
    if (recipe.parent) add(recipe.parent, false);
  };
  for (const recipe of recipes) for (const variant of expandArches(recipe)) add(variant, true);
  return linkGraph(onPublishedParents([...byNode.values()]));
}

type Entry = { recipe: LoadedRecipe; requested: boolean };

/**
 * Layers chained through a registry: a recipe whose `from: {image: …}` names a tag another recipe
 * of the run pushes (its registry target's repository and one of its tags, compared exactly:
 * core/image-ref.ts registryTag) is that recipe's child, as with `from: {recipe: …}`: built after
 * it, on the image it commits in this run, not on the registry's older one (onPublishedParent).
 * OpenCHAMI configs chain their layers this way (image-builder `parent:`, image-thrillhouse
 * `meta.from`). A reference no recipe of the run publishes stays an outside image. The
 * recipes built on a re-parented one are re-parented in turn (their key holds their parent's).
 */
function onPublishedParents(entries: readonly Entry[]): Entry[] {
  const publishers = new Map<string, Entry[]>();
  for (const entry of entries) {
    for (const ref of publishedTags(entry.recipe)) {
      const list = publishers.get(ref);
      if (list) list.push(entry);
      else publishers.set(ref, [entry]);
    }
  }
  if (publishers.size === 0) return [...entries];
  const entryOf = new Map(entries.map((e) => [`${e.recipe.file}\0${nodeName(e.recipe)}`, e]));
  const done = new Map<Entry, LoadedRecipe>();
  const visiting: Entry[] = [];
  const resolve = (entry: Entry): LoadedRecipe => {
    const known = done.get(entry);
    if (known) return known;
    if (visiting.includes(entry)) {
      const chain = [...visiting.slice(visiting.indexOf(entry)), entry].map((e) => `${nodeName(e.recipe)} (${e.recipe.file})`);
      throw new UserError(`recipe cycle through registry tags: ${chain.join(" → ")}; a recipe cannot build on an image it publishes itself`);
    }
    visiting.push(entry);
    const { recipe } = entry;
    const ref = baseImageTag(recipe.spec);
    const publisher = ref !== undefined ? publisherOf(recipe, ref, publishers.get(ref) ?? []) : undefined;
    let resolved = recipe;
    if (publisher) resolved = onPublishedParent(recipe, resolve(publisher), (recipe.spec.from as { image: string }).image);
    else if (recipe.parent) {
      const parentEntry = entryOf.get(`${recipe.parent.file}\0${nodeName(recipe.parent)}`);
      const parent = parentEntry ? resolve(parentEntry) : recipe.parent;
      if (parent !== recipe.parent) resolved = withParent(recipe, parent);
    }
    visiting.pop();
    done.set(entry, resolved);
    return resolved;
  };
  return entries.map((entry) => ({ recipe: resolve(entry), requested: entry.requested }));
}

/** The registry tags a recipe pushes: each registry target's repository with each of its tags. */
function publishedTags(recipe: LoadedRecipe): string[] {
  const refs: string[] = [];
  for (const target of recipe.spec.publish) {
    if (target.type !== "registry") continue;
    for (const tag of recipe.spec.tags) {
      const ref = registryTag(`${target.repository}:${tag}`);
      if (ref !== undefined) refs.push(ref);
    }
  }
  return refs;
}

/**
 * Which recipe of the run a from.image tag is the image of: the one publishing it for this
 * recipe's architecture (a recipe with arches: is a node per architecture, all pushing the one
 * tag). Undefined when none publishes it, or only the recipe itself (a build on its own previous
 * image, pulled as an outside one).
 */
function publisherOf(recipe: LoadedRecipe, ref: string, candidates: readonly Entry[]): Entry | undefined {
  const others = candidates.filter((c) => c.recipe.file !== recipe.file);
  if (others.length === 0) return undefined;
  const sameArch = others.filter((c) => c.recipe.spec.arch === recipe.spec.arch);
  const files = [...new Set(others.map((c) => c.recipe.file))];
  if (files.length > 1)
    throw new UserError(`${recipe.file}: from.image ${ref} is published by more than one recipe of this run (${files.join(", ")}); give each a tag of its own`);
  if (sameArch.length === 0)
    throw new UserError(
      `${recipe.file}: from.image ${ref} is what ${files[0]} publishes, built for ${[...new Set(others.map((c) => c.recipe.spec.arch))].join(", ")}, not for ${recipe.spec.arch}: build this recipe for that architecture (arch:) or on another image`,
    );
  return sameArch[0];
}

/** Build the graph from loaded recipes (pure; exported for tests). */
export function linkGraph(entries: readonly { recipe: LoadedRecipe; requested: boolean }[]): RecipeGraph {
  const nameOf = new Map<string, string>();
  const byName = new Map<string, { recipe: LoadedRecipe; requested: boolean }>();
  const byImage = new Map<string, string>();
  const key = (recipe: LoadedRecipe) => `${recipe.file}\0${nodeName(recipe)}`;
  for (const entry of entries) {
    const name = nodeName(entry.recipe);
    const other = byName.get(name);
    if (other)
      throw new UserError(
        `two recipes are named ${name}: ${locateInRecipe(other.recipe.file, ["name"], "name")} and ${locateInRecipe(entry.recipe.file, ["name"], "name")}; names identify images and output directories, so they must be unique: change the name: of one of them`,
      );
    const image = localImageRef(entry.recipe.spec);
    const sameImage = byImage.get(image);
    if (sameImage) throw new UserError(`${sameImage} and ${entry.recipe.file} both build ${image}`);
    byImage.set(image, entry.recipe.file);
    byName.set(name, entry);
    nameOf.set(key(entry.recipe), name);
  }
  const children = new Map<string, string[]>();
  const parents = new Map<string, string>();
  for (const [name, { recipe }] of byName) {
    if (!recipe.parent) continue;
    const parentName = nameOf.get(key(recipe.parent));
    if (parentName === undefined) throw new UserError(`${recipe.file}: parent recipe ${recipe.parent.file} is not part of the graph`);
    parents.set(name, parentName);
    const siblings = children.get(parentName);
    if (siblings) siblings.push(name);
    else children.set(parentName, [name]);
  }
  const nodes = new Map<string, GraphNode>();
  for (const [name, { recipe, requested }] of byName) {
    nodes.set(name, { name, recipe, parent: parents.get(name), children: (children.get(name) ?? []).sort(), requested });
  }
  return { order: topologicalOrder(nodes), nodes };
}

/**
 * A node's name: the recipe's name, and for one built for several architectures (or on such a
 * parent) `<name>@<arch>`, one node per architecture.
 */
export function nodeName(recipe: LoadedRecipe): string {
  return isArchVariant(recipe) ? `${recipe.spec.name}@${recipe.spec.arch}` : recipe.spec.name;
}

function isArchVariant(recipe: LoadedRecipe): boolean {
  for (let r: LoadedRecipe | undefined = recipe; r; r = r.parent) if (r.spec.arches) return true;
  return false;
}

/**
 * Kahn's algorithm, the smallest ready name first (a min-heap, so n recipes cost O(n log n)); a
 * leftover node means a cycle, named with its files.
 */
export function topologicalOrder(nodes: ReadonlyMap<string, Pick<GraphNode, "name" | "parent" | "children" | "recipe">>): string[] {
  const pending = new Map<string, number>();
  const ready = new NameHeap();
  for (const [name, node] of nodes) {
    const waits = node.parent !== undefined && nodes.has(node.parent) ? 1 : 0;
    pending.set(name, waits);
    if (waits === 0) ready.push(name);
  }
  const order: string[] = [];
  for (let name = ready.pop(); name !== undefined; name = ready.pop()) {
    order.push(name);
    for (const child of nodes.get(name)?.children ?? []) {
      const left = (pending.get(child) ?? 1) - 1;
      pending.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (order.length < nodes.size) {
    const done = new Set(order);
    const stuck = [...nodes.keys()].filter((n) => !done.has(n)).sort();
    throw new UserError(`recipe cycle: ${stuck.map((n) => `${n} (${nodes.get(n)!.recipe.file})`).join(" → ")}; a recipe cannot build on itself`);
  }
  return order;
}

/** A binary min-heap of names (code-unit order, as Array.prototype.sort). */
class NameHeap {
  private readonly items: string[] = [];

  push(name: string): void {
    const a = this.items;
    a.push(name);
    for (let i = a.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (a[up]! <= a[i]!) break;
      [a[up], a[i]] = [a[i]!, a[up]!];
      i = up;
    }
  }

  pop(): string | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < a.length && a[l]! < a[min]!) min = l;
      if (r < a.length && a[r]! < a[min]!) min = r;
      if (min === i) break;
      [a[min], a[i]] = [a[i]!, a[min]!];
      i = min;
    }
    return top;
  }
}

/**
 * Who needs a recipe's committed image in a graph build: a child recipe builds on it, or its
 * registry target pushes it. Undefined for a leaf without a registry target: its build commits
 * no image (PlanOptions.commit), since nothing would read it.
 */
export function imageNeededBy(node: Pick<GraphNode, "children" | "recipe">): string | undefined {
  const [child, ...more] = node.children;
  if (child !== undefined) return `child recipe ${child}${more.length > 0 ? ` (and ${more.length} more)` : ""}`;
  const registry = node.recipe.spec.publish.findIndex((t) => t.type === "registry");
  return registry >= 0 ? `publish[${registry}] (registry)` : undefined;
}

/** Every ancestor of a node, nearest first. */
export function ancestors(graph: RecipeGraph, name: string): string[] {
  const out: string[] = [];
  for (let p = graph.nodes.get(name)?.parent; p !== undefined; p = graph.nodes.get(p)?.parent) out.push(p);
  return out;
}

/** Every descendant of a node. */
export function descendants(graph: RecipeGraph, name: string): string[] {
  const out: string[] = [];
  const visit = (n: string) => {
    for (const c of graph.nodes.get(n)?.children ?? []) {
      out.push(c);
      visit(c);
    }
  };
  visit(name);
  return out;
}

/**
 * What a run is about. Without selectors: the recipes named (the directory's or list's) plus
 * their parents. --only: the named recipes plus their ancestors. --since: recipes whose file or
 * referenced files changed, plus their descendants, plus the ancestors those need. Ancestors are
 * included so that a missing or outdated parent is built first; the cache skips the ones that are
 * up to date, so including them costs a digest comparison.
 */
export interface Selection {
  readonly only?: readonly string[];
  /** Absolute paths of changed files (from `changedFiles`). */
  readonly changed?: ReadonlySet<string>;
}

export function selectNodes(graph: RecipeGraph, selection: Selection): Set<string> {
  let roots: string[];
  if (selection.only && selection.only.length > 0) {
    // --only NAME of a recipe built for several architectures: each of its NAME@ARCH nodes.
    const only = selection.only.flatMap((name) => {
      const variants = graph.nodes.has(name) ? [] : [...graph.nodes.keys()].filter((n) => n.startsWith(`${name}@`)).sort();
      return variants.length > 0 ? variants : [name];
    });
    for (const name of only) {
      if (!graph.nodes.has(name)) {
        const guess = didYouMean(name, [...graph.nodes.keys()]);
        throw new UserError(
          `--only ${name}: no such recipe in the graph${guess ? ` (did you mean ${guess}?)` : ""}; recipes: ${[...graph.nodes.keys()].sort().join(", ")}`,
        );
      }
    }
    roots = only;
  } else {
    roots = [...graph.nodes.values()].filter((n) => n.requested).map((n) => n.name);
  }
  if (selection.changed) {
    const changed = withDirectories(selection.changed);
    const touched = roots.filter((name) => recipeFiles(graph.nodes.get(name)!.recipe).some((f) => changed.has(withoutTrailingSep(f))));
    roots = [...new Set(touched.flatMap((n) => [n, ...descendants(graph, n)]))];
  }
  const selected = new Set<string>();
  for (const name of roots) {
    selected.add(name);
    for (const a of ancestors(graph, name)) selected.add(a);
  }
  return selected;
}

/** The recipe file and every host file or directory its key hashes (copied, read by ansible-playbook or oscap, a repository key, a module's source). */
export function recipeFiles(recipe: LoadedRecipe): string[] {
  // Real paths: git reports paths under the real top-level directory. (A key file that does not
  // exist is hashed as missing: its path as written is what a change would add.)
  return [recipe.file, ...keyedInputPaths(recipe)].map((p) => (existsSync(p) ? realpathSync(p) : p));
}

/**
 * The changed files and every directory above them: a recipe's file, or a directory it copies
 * (changed when anything under it did), is changed when it is in this set. One set for the run,
 * not a scan of every changed file per recipe.
 */
function withDirectories(changed: ReadonlySet<string>): Set<string> {
  const paths = new Set<string>();
  for (const file of changed) {
    for (let p = withoutTrailingSep(file); !paths.has(p); p = path.dirname(p)) {
      paths.add(p);
      if (path.dirname(p) === p) break;
    }
  }
  return paths;
}

function withoutTrailingSep(p: string): string {
  return p.length > 1 && p.endsWith(path.sep) ? p.slice(0, -1) : p;
}

/**
 * Files changed since a git ref (committed, staged, or in the working tree) and untracked files,
 * as absolute real paths. `dir` is any directory inside the repository.
 */
export async function changedFiles(ref: string, dir: string): Promise<Set<string>> {
  const git = async (args: string[]) => {
    try {
      return (await run({ file: "git", args: ["-C", dir, ...args] }, { step: "git", reporter: silentReporter }, { quiet: true })).stdout;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new UserError(`--since ${ref}: git could not answer in ${dir}: ${detail}`);
    }
  };
  const top = (await git(["rev-parse", "--show-toplevel"])).trim();
  await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).catch(() => {
    throw new UserError(`--since ${ref}: not a commit in ${top} (in CI, fetch enough history: GIT_DEPTH=0 or a deeper clone)`);
  });
  const diff = await git(["diff", "--name-only", ref, "--"]);
  const untracked = await git(["ls-files", "--others", "--exclude-standard", "--full-name"]);
  const files = new Set<string>();
  for (const line of [...diff.split("\n"), ...untracked.split("\n")]) {
    if (line.trim() !== "") files.add(path.join(top, line.trim()));
  }
  return files;
}

/** A recipe file, as opposed to a directory or a list of recipes (graph mode). */
export function isSingleRecipeFile(arg: string): boolean {
  try {
    if (!statSync(arg).isFile()) return false;
    const files = collectRecipeFiles([arg]);
    return files.length === 1 && files[0] === path.resolve(arg);
  } catch {
    return true; // let the loader report a missing file the usual way
  }
}
