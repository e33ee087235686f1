// Load a recipe file: parse with positions, substitute variables, validate against the schema,
// check what the schema cannot (files exist, parents load, templates are known), and load parent
// recipes. The result is everything the planner needs, with no further file system access.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { didYouMean, formatPath, MAX_REPORTED_ISSUES, RecipeError, type RecipeIssue } from "./errors.js";
import { matchProfile, xccdfProfileIds } from "./scap-profiles.js";
import { issueAt, readYamlSource, toPlainData, type YamlSource } from "./source.js";
import { expandVarReferences, importedNames, resolveVars, substituteVars, variableNames, type SubstitutedValues, type VarSources } from "./vars.js";
import { numbersFromVariables } from "./number-vars.js";
import { validateSpec } from "./validate.js";
import type { OpenscapSpec, ParsedRecipe, RecipeSpec } from "./schema.js";
import { checkInitramfsModules, DEFAULT_INITRAMFS_MODULES, imageFamily, type LayerChain } from "./initramfs-modules.js";
import { recipeSecrets } from "./secrets.js";
import { checkFileOverwrites } from "./file-targets.js";
import { validateParamsTemplate as checkParamsTemplate } from "../core/params.js";
import { ADD_PACKAGE_MANAGER, convertForeign, type CompatOptions, type ForeignFormat, type PathNote } from "./compat/index.js";
import { TOOL_VERSION } from "../core/version.js";
import { RPM_MD_MANAGERS } from "../core/package-managers.js";
import { ARCHES, type Arch } from "../core/arch.js";
import { registryTag } from "../core/image-ref.js";

export interface LoadedRecipe {
  /** Absolute path of the recipe file. */
  readonly file: string;
  readonly spec: RecipeSpec;
  /** The parent layer, when `from: {recipe: …}` (or the recipe of a graph that publishes its from.image: parentImage). */
  readonly parent?: LoadedRecipe;
  /** The registry tag its `from: {image: …}` named, which its parent publishes in the same run (onPublishedParent). */
  readonly parentImage?: string;
  /** sha256 over the normalized recipe, the files it copies, the parent's digest and the tool version. */
  readonly inputDigest: string;
  /** Absolute host paths of `files[i].src`, by index. */
  readonly fileSources: ReadonlyMap<number, string>;
  /** The indices of `files[]` whose src is a directory (its contents are copied into dest). */
  readonly directorySources: ReadonlySet<number>;
  /** Problems that may make the build fail, depending on what the packages bring (printed, not fatal). */
  readonly warnings: readonly RecipeIssue[];
  /** Values never to be shown (its `secrets:` variables, proxy credentials), this recipe's and its parents'. */
  readonly secrets: readonly string[];
  /** The --var values it was loaded with: a step run by hand (`bootsmith artifacts write-manifest`) reloads it with them. */
  readonly vars: Readonly<Record<string, string>>;
  /** The variables it and its parents define or use (variableNames), to tell a --var that changes nothing. */
  readonly variableNames: ReadonlySet<string>;
  /** Absolute host paths each `commands[i].ansible` reads (playbook, roles, their directories), by index. */
  readonly ansibleSources: ReadonlyMap<number, AnsibleSources>;
  /** Absolute host path of `kernelModules.build.src`, when the recipe builds a module from source. */
  readonly kernelModuleSource?: string;
  /** Absolute host paths the OpenSCAP scan reads (data stream, tailoring, CPE dictionary). */
  readonly scanSources?: ScanSources;
  /** Set for an OpenCHAMI config read through ./compat/: its format and what differs in meaning. */
  readonly converted?: { readonly format: ForeignFormat; readonly notes: readonly PathNote[] };
}

export interface AnsibleSources {
  readonly playbook: string;
  readonly roles?: string;
  /** What the playbook reads implicitly: templates/, files/, vars/, group_vars/, host_vars/ beside it. */
  readonly beside: readonly string[];
}

export interface ScanSources {
  readonly datastream: string;
  /** The profile's full id (the recipe may give the end of it, as oscap allows): remediation finds the scan's TestResult by it. */
  readonly profile: string;
  readonly tailoring?: string;
  readonly cpe?: string;
}

/** Directories ansible-playbook looks into next to a playbook without being told. */
const PLAYBOOK_DIRS = ["templates", "files", "vars", "group_vars", "host_vars"];

export interface LoadOptions {
  readonly vars?: Readonly<Record<string, string>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Settings for reading OpenCHAMI configs (`bootsmith convert --release`). */
  readonly compat?: CompatOptions;
  /**
   * Recipes loaded so far with these options, by absolute path, filled as they load: a graph of
   * many recipes (pipeline/graph.ts) reads and validates each shared parent once, not once per child.
   */
  readonly loaded?: Map<string, LoadedRecipe>;
}

/** What every recipe of one load shares: variable sources, compat settings, the recipes loaded so far. */
interface LoadRun {
  readonly sources: VarSources;
  readonly compat: CompatOptions;
  readonly loaded?: Map<string, LoadedRecipe>;
}

export function loadRecipe(file: string, options: LoadOptions = {}): LoadedRecipe {
  const sources: VarSources = { cli: options.vars ?? {}, env: options.env ?? process.env };
  return loadWithParents(path.resolve(file), [], { sources, compat: options.compat ?? {}, loaded: options.loaded });
}

/**
 * The layer whose package manager the image's package database belongs to: the recipe itself
 * when it has packages:, else its nearest parent that has (a layer of files and commands on a
 * dnf image is still an rpm image, whose SBOM lists the parent's packages). None for an external
 * base image without packages:.
 */
export function packageLayer(recipe: LoadedRecipe): LoadedRecipe | undefined {
  for (let r: LoadedRecipe | undefined = recipe; r; r = r.parent) if (r.spec.packages) return r;
  return undefined;
}

/** The image's package manager, as manifest.json and the SBOMs record it ("none" when unknown). */
export function imagePackageManager(recipe: LoadedRecipe): string {
  return packageLayer(recipe)?.spec.packages?.manager ?? "none";
}

/**
 * The registry tag a recipe's `from: {image: …}` names, written one way (core/image-ref.ts
 * registryTag); undefined for scratch, a parent recipe, or a reference pinned by digest.
 */
export function baseImageTag(spec: Pick<RecipeSpec, "from">): string | undefined {
  return typeof spec.from === "object" && "image" in spec.from ? registryTag(spec.from.image) : undefined;
}

/** The local image name a recipe's build is committed as. */
export function localImageRef(spec: Pick<RecipeSpec, "name" | "tags"> & Partial<Pick<RecipeSpec, "arch" | "arches">>): string {
  // A recipe built for several architectures commits one image per architecture: <tag>-<oci arch>,
  // the tags a manifest list names (publish/manifest-list.ts).
  const suffix = spec.arches && spec.arch ? `-${ARCHES[spec.arch].oci}` : "";
  return `localhost/bootsmith/${spec.name}:${spec.tags[0] ?? "latest"}${suffix}`;
}

function loadWithParents(file: string, chain: readonly string[], run: LoadRun): LoadedRecipe {
  const known = run.loaded?.get(file);
  if (known) return known;
  const recipe = loadFile(file, chain, run);
  run.loaded?.set(file, recipe);
  return recipe;
}

function loadFile(file: string, chain: readonly string[], run: LoadRun): LoadedRecipe {
  const read = readYamlSource(file);
  if (!read.ok) throw new RecipeError(read.issues);
  // OpenCHAMI image-builder and image-thrillhouse configs are converted to a native recipe
  // first. Their strings are shell and Go text, never bootsmith ${NAME} references.
  const foreign = convertForeign(read.source, run.compat);
  if (!foreign) return loadSource(read.source, chain, run, true);
  try {
    const recipe = loadSource(foreign.source, chain, run, false);
    return { ...recipe, warnings: recipe.warnings.map(foreign.rename), converted: { format: foreign.format, notes: foreign.notes } };
  } catch (error) {
    throw foreign.explain(error);
  }
}

function loadSource(source: YamlSource, chain: readonly string[], run: LoadRun, substitute: boolean): LoadedRecipe {
  const { sources } = run;
  const file = source.file;
  const raw = toPlainData(source);
  if (!raw.ok) throw new RecipeError(raw.issues);
  const vars = substitute ? resolveVars(raw.data, sources) : new Map<string, string>();
  const substituted: SubstitutedValues = new Map();
  const imported = importedNames(raw.data);
  const varIssues = substitute
    ? [...expandVarReferences(source, vars, raw.data, sources, imported), ...substituteVars(source, vars, imported, substituted)]
    : [];
  let data = toPlainData(source);
  if (!data.ok) throw new RecipeError(data.issues);
  let validated = validateSpec(source, data.data);
  if (!validated.ok && substituted.size > 0) {
    // uid: ${UID} is the string "1234" after substitution: where the schema wants a number, a
    // value that came from variables becomes one, and the recipe is validated again. (Only when
    // the first validation failed: a valid recipe pays for one.)
    varIssues.push(...numbersFromVariables(source, substituted));
    data = toPlainData(source);
    if (!data.ok) throw new RecipeError(data.issues);
    validated = validateSpec(source, data.data);
  }
  if (!validated.ok) {
    // A value with an undefined variable is reported once, as such, not again as a bad URL etc.
    const unresolved = new Set(varIssues.map((i) => i.path));
    throw new RecipeError(inFileOrder([...varIssues, ...validated.issues.filter((i) => !unresolved.has(i.path))]));
  }
  const given = data.data as Record<string, unknown>;
  const parsed = validated.spec;
  const secrets = recipeSecrets(source, parsed, vars);
  const issues: RecipeIssue[] = [...varIssues, ...checkSemantics(source, parsed), ...secrets.issues];
  const fileSources = resolveFileSources(source, parsed, issues);
  const directorySources = new Set([...fileSources].filter(([, p]) => statSync(p).isDirectory()).map(([i]) => i));
  issues.push(...checkFileOverwrites(source, parsed.files, fileSources, directorySources));
  const ansibleSources = resolveAnsibleSources(source, parsed, issues);
  const kernelModuleSource =
    parsed.kernelModules?.build === undefined ? undefined : moduleSource(source, realpathSync(path.dirname(file)), parsed.kernelModules.build.src, issues);
  const scanSources = resolveScanSources(source, parsed, issues);

  let parent: LoadedRecipe | undefined;
  if (typeof parsed.from === "object" && "recipe" in parsed.from) {
    const parentFile = path.resolve(path.dirname(file), parsed.from.recipe);
    if (chain.includes(parentFile) || parentFile === file) {
      // Paths relative to this recipe's directory, like from.recipe itself (not to the cwd).
      const shown = [...chain, file, parentFile].map((f) => path.relative(path.dirname(file), f) || path.basename(f));
      issues.push(issueAt(source, ["from", "recipe"], `recipe cycle: ${shown.join(" → ")}; a recipe cannot build on itself`));
    } else if (!existsSync(parentFile)) {
      issues.push(issueAt(source, ["from", "recipe"], `parent recipe ${parentFile} does not exist; the path is relative to this recipe's directory`));
    } else if (!statSync(parentFile).isFile()) {
      issues.push(issueAt(source, ["from", "recipe"], `parent recipe ${parentFile} is not a file; name the parent's recipe file`));
    } else if (issues.length === 0) {
      parent = loadWithParents(parentFile, [...chain, file], run);
      issues.push(...sameNameAsAncestor(source, parsed.name, parent));
    }
  }
  const arches = resolveArches(source, parsed, given, parent, issues);
  Object.assign(parsed, arches);
  // The zypper plug-in installs for the host's architecture only (it has no --forcearch).
  const foreignArch = archesOf(parsed).find((a) => a !== "x86_64");
  if (foreignArch && parsed.packages?.manager === "zypper" && parsed.from === "scratch")
    issues.push(
      issueAt(source, [parsed.arches ? "arches" : "arch"], `zypper from scratch builds x86_64 roots only; build ${foreignArch} images with dnf or apt`),
    );
  const layers = layerChain(parsed, parent);
  const spec = withFamilyDefaults(parsed, layers);
  const warnings: RecipeIssue[] = [];
  if (spec.boot) {
    const where = ["boot", "initramfs", "modules"];
    for (const finding of checkInitramfsModules(spec.boot.initramfs.modules, layers))
      (finding.severity === "error" ? issues : warnings).push(issueAt(source, where, finding.message));
    if (spec.boot.params.includes("root=live:") && !spec.boot.initramfs.modules.includes("livenet")) {
      issues.push(issueAt(source, where, "params boot root=live: over the network, which needs dracut's livenet module: add livenet (and dmsquash-live)"));
    }
  }
  issues.push(...checkKernelModules(source, spec));
  if (issues.length > 0) throw new RecipeError(inFileOrder(issues));
  if (typeof spec.from === "object" && "image" in spec.from && !spec.packages)
    // Which database (rpm, dpkg) an outside image holds is only known once it is pulled; without
    // it the SBOMs and manifest list no package, although the image holds them all.
    warnings.push(
      issueAt(
        source,
        ["from", "image"],
        `no packages: names the image's package manager, so its packages are not listed (the SBOMs and manifest.json hold none): add ${ADD_PACKAGE_MANAGER} (nothing else: nothing is installed, the packages are listed)`,
      ),
    );

  const inputDigest = digestInputs(file, spec, fileSources, ansibleSources, scanSources, parent, kernelModuleSource);
  return {
    file,
    spec,
    parent,
    inputDigest,
    fileSources,
    directorySources,
    ansibleSources,
    ...(kernelModuleSource ? { kernelModuleSource } : {}),
    ...(scanSources ? { scanSources } : {}),
    warnings: inFileOrder(warnings),
    secrets: [...secrets.values, ...(parent?.secrets ?? [])],
    vars: sources.cli,
    variableNames: new Set([...(substitute ? variableNames(raw.data) : []), ...(parent?.variableNames ?? [])]),
  };
}

/**
 * A layer named like a recipe it builds on would be committed as that recipe's image and built
 * into its output directory (both are named by name:), replacing the base its own build needs.
 */
function sameNameAsAncestor(source: YamlSource, name: string, parent: LoadedRecipe): RecipeIssue[] {
  const through: string[] = [];
  for (let r: LoadedRecipe | undefined = parent; r; r = r.parent) {
    if (r.spec.name === name)
      return [
        issueAt(
          source,
          ["name"],
          `${name} is also the name of the recipe ${r.file} this one builds on${through.length > 0 ? ` (through ${through.join(", ")})` : ""}: each layer is an image and an output directory of its own, named by name:; give this one another name`,
        ),
      ];
    through.push(r.spec.name);
  }
  return [];
}

/**
 * `arch` or `arches` (never both); a layer that names neither takes its parent's, since it runs
 * on the parent's committed root; one that names some must find each in its parent.
 */
function resolveArches(
  source: YamlSource,
  parsed: ParsedRecipe,
  given: Record<string, unknown>,
  parent: LoadedRecipe | undefined,
  issues: RecipeIssue[],
): Pick<RecipeSpec, "arch" | "arches"> {
  if ("arch" in given && "arches" in given) {
    issues.push(issueAt(source, ["arches"], `give arch (one architecture) or arches (several), not both: remove arch: ${parsed.arch}`));
    return { arch: parsed.arch };
  }
  let own: Pick<RecipeSpec, "arch" | "arches"> = parsed.arches ? { arch: parsed.arches[0]!, arches: parsed.arches } : { arch: parsed.arch };
  if (parent) {
    const parentArches = archesOf(parent.spec);
    if (!("arch" in given) && !("arches" in given)) own = { arch: parent.spec.arch, ...(parent.spec.arches ? { arches: parent.spec.arches } : {}) };
    const missing = archesOf(own).filter((a) => !parentArches.includes(a));
    if (missing.length > 0) {
      const key = "arches" in given ? "arches" : "arch";
      issues.push(
        issueAt(
          source,
          [key],
          `the parent recipe ${parent.file} is built for ${parentArches.join(", ")}, not ${missing.join(", ")}: a layer runs on its parent's root; remove ${key} here to take the parent's, or build on a ${missing.join("/")} parent`,
        ),
      );
    }
  }
  // Each registration boots one architecture's artifacts: with several, it must say which.
  const built = archesOf(own);
  parsed.register.forEach((r, i) => {
    if (r.arch === undefined && own.arches)
      issues.push(
        issueAt(
          source,
          ["register", i],
          `the recipe is built for ${built.join(", ")}: add arch: ${built.join(" or arch: ")} to say which architecture's artifacts these nodes boot (one entry per node set)`,
        ),
      );
    else if (own.arches && registrationSource(parsed.publish, r) === undefined)
      issues.push(
        issueAt(
          source,
          ["register", i],
          `registration after the combined publish needs the image published to S3 or a local directory${r.from ? ` (from: ${r.from})` : ""}: add such a publish target`,
        ),
      );
    else if (r.arch !== undefined && !built.includes(r.arch))
      issues.push(
        issueAt(
          source,
          ["register", i, "arch"],
          `${r.arch}, but the recipe is built for ${built.join(", ")}: name one of them${own.arches ? "" : ", or remove arch"}`,
        ),
      );
  });
  return own;
}

/** The publish target a registration reads its URLs from: its `from:`, else the first that is not a registry (index, or undefined). */
export function registrationSource(targets: ParsedRecipe["publish"], r: ParsedRecipe["register"][number]): number | undefined {
  const index = targets.findIndex((t) => (r.from ? t.type === r.from : t.type !== "registry"));
  return index < 0 ? undefined : index;
}

/** The type of the publish target a registration reads its URLs from (registrationSource), if any. */
export function registrationTargetType(targets: ParsedRecipe["publish"], r: ParsedRecipe["register"][number]): string | undefined {
  const index = registrationSource(targets, r);
  return index === undefined ? undefined : targets[index]!.type;
}

/** The architectures a recipe builds for: its arches, or its one arch. */
export function archesOf(spec: Pick<RecipeSpec, "arch" | "arches">): readonly Arch[] {
  return spec.arches ?? [spec.arch];
}

/**
 * One recipe per architecture it builds for, each with `arch` set, its parent chain the same
 * architecture's, and its own cache key (the spec, and so the key, includes the architecture).
 * A single-architecture recipe on single-architecture parents comes back as it is.
 */
export function expandArches(recipe: LoadedRecipe): LoadedRecipe[] {
  if (!recipe.spec.arches && !multiArchAncestor(recipe)) return [recipe];
  return archesOf(recipe.spec).map((arch) => forArch(recipe, arch));
}

function multiArchAncestor(recipe: LoadedRecipe): boolean {
  for (let p = recipe.parent; p; p = p.parent) if (p.spec.arches) return true;
  return false;
}

/** The recipe (and its parents) built for `arch`. */
export function forArch(recipe: LoadedRecipe, arch: Arch): LoadedRecipe {
  const spec: RecipeSpec = { ...recipe.spec, arch };
  const parent = recipe.parent ? forArch(recipe.parent, arch) : undefined;
  const inputDigest = digestInputs(recipe.file, spec, recipe.fileSources, recipe.ansibleSources, recipe.scanSources, parent, recipe.kernelModuleSource);
  return { ...recipe, spec, parent, inputDigest };
}

/**
 * A recipe on `from: {image: ref}` built on `parent` instead: the recipe of the same run that
 * publishes that tag (pipeline/graph.ts). As with `from: {recipe: …}`, it builds on the parent's
 * image committed in this run, not on whatever the registry held before, and its key holds the
 * parent's.
 */
export function onPublishedParent(recipe: LoadedRecipe, parent: LoadedRecipe, ref: string): LoadedRecipe {
  const from = { recipe: path.relative(path.dirname(recipe.file), parent.file) || path.basename(parent.file) };
  return { ...withParent({ ...recipe, spec: { ...recipe.spec, from } }, parent), parentImage: ref };
}

/** The recipe on another loading of its parent (one re-parented by onPublishedParent, or its descendant): the key, secrets and variables follow. */
export function withParent(recipe: LoadedRecipe, parent: LoadedRecipe): LoadedRecipe {
  const inputDigest = digestInputs(recipe.file, recipe.spec, recipe.fileSources, recipe.ansibleSources, recipe.scanSources, parent, recipe.kernelModuleSource);
  return {
    ...recipe,
    parent,
    inputDigest,
    secrets: [...new Set([...recipe.secrets, ...parent.secrets])],
    variableNames: new Set([...recipe.variableNames, ...parent.variableNames]),
  };
}

/** The package lists of the recipe and its parents, its own first. */
function layerChain(spec: ParsedRecipe, parent: LoadedRecipe | undefined): LayerChain {
  const layers = [{ manager: spec.packages?.manager, install: spec.packages?.install ?? [] }];
  let root: RecipeSpec["from"] = spec.from;
  for (let p = parent; p; p = p.parent) {
    layers.push({ manager: p.spec.packages?.manager, install: p.spec.packages?.install ?? [] });
    root = p.spec.from;
  }
  return { layers, fromScratch: root === "scratch" };
}

/**
 * Kernel modules are built against the selected kernel (so boot artifacts must be made) with its
 * headers installed by apt-get inside the image. The recipe itself says packages.manager: apt, so
 * its package list (SBOM) records the headers and DKMS packages, and apt's leftovers are removed.
 */
function checkKernelModules(source: YamlSource, spec: RecipeSpec): RecipeIssue[] {
  if (!spec.kernelModules) return [];
  const issues: RecipeIssue[] = [];
  if (!spec.boot)
    issues.push(
      issueAt(
        source,
        ["kernelModules"],
        "kernel modules are built for the kernel the boot artifacts are made from, but boot: false; remove boot: false or move kernelModules to the layer that boots",
      ),
    );
  const manager = spec.packages?.manager;
  if (manager !== "apt")
    issues.push(
      issueAt(
        source,
        ["kernelModules"],
        manager === undefined
          ? "kernel modules install the selected kernel's headers and the DKMS packages with apt-get: add packages: {manager: apt} to this recipe (install may stay empty), so they are listed in the SBOM"
          : `kernel modules install the selected kernel's headers with apt-get (linux-headers-KVER), but packages.manager is ${manager}; kernelModules supports Debian-family images (manager: apt)`,
      ),
    );
  return issues;
}

/** Defaults that depend on the image's family rather than on the recipe alone. */
function withFamilyDefaults(spec: ParsedRecipe, chain: LayerChain): RecipeSpec {
  if (!spec.boot) return { ...spec, boot: false };
  const modules = spec.boot.initramfs.modules ?? [...DEFAULT_INITRAMFS_MODULES[imageFamily(chain)]];
  return { ...spec, boot: { ...spec.boot, initramfs: { ...spec.boot.initramfs, modules } } };
}

/** Problems in the order they appear in the file (whole-file problems first); stable otherwise. */
function inFileOrder(issues: readonly RecipeIssue[]): RecipeIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** A URL's scheme (https://, file://), as opposed to a path. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Whether the packages: section installs anything (a remove needs no repository). */
function needsRepositories(p: NonNullable<ParsedRecipe["packages"]>): boolean {
  return p.install.length + p.groups.length + p.patterns.length + p.modules.enable.length + p.modules.install.length > 0;
}

function checkSemantics(source: YamlSource, spec: ParsedRecipe): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  // Beyond what RecipeError lists, issues are counted, not positioned (a 64 KiB list of
  // duplicate tags is tens of thousands of them).
  const at = (p: (string | number)[], message: string) =>
    issues.push(issues.length < MAX_REPORTED_ISSUES ? issueAt(source, p, message) : { file: source.file, path: formatPath(p), message });
  const fromScratch = spec.from === "scratch";
  if (fromScratch && !spec.packages) at(["from"], "an image from scratch needs a packages: section (or build on a parent with from: {image: …} / {recipe: …})");
  if (spec.packages) {
    const { manager, release, options } = spec.packages;
    // zypper needs no release: repositories name their version unless they use $releasever.
    if (fromScratch && !release && manager !== "zypper") {
      const example = manager === "apt" ? "bookworm" : "9";
      at(["packages"], `release is required when building from scratch (dnf --releasever or the apt suite), e.g. release: "${example}"`);
    }
    // mmdebstrap makes a new root (it refuses a non-empty one); an empty root has no apt-get to run.
    if (manager === "apt" && options.installer === "host" && !fromScratch)
      at(
        ["packages", "options", "installer"],
        "apt on the host is mmdebstrap, which makes a new root from scratch; on a parent apt-get runs inside the image: remove installer: host",
      );
    // The host's dnf and zypper read only the recipe's repositories (never the host's, nor the
    // parent image's): without one, the build would fail in the package manager, naming a work
    // directory. A content: file may set enabled=0 itself; it counts as enabled here.
    if ((manager === "dnf" || manager === "zypper") && options.installer === "host" && !fromScratch && needsRepositories(spec.packages)) {
      if (!spec.packages.repos.some((r) => r.enabled || r.content !== undefined)) {
        const reposDir = manager === "dnf" ? "/etc/yum.repos.d" : "/etc/zypp/repos.d";
        at(
          ["packages", "options", "installer"],
          `installer: host runs the host's ${manager} with only this recipe's repositories, not the parent image's ${reposDir}, and the recipe enables none: add packages.repos, or remove installer: host to run the image's own ${manager}`,
        );
      }
    }
    if (manager === "apt" && options.installer === "image" && fromScratch)
      at(["packages", "options", "installer"], "an image from scratch has no apt-get to run inside it; remove installer: image (mmdebstrap builds the root)");
    // dnf and apt install what provides /etc/passwd first; the zypper plug-in does not (yet).
    if (manager === "zypper" && fromScratch && spec.users.length + spec.groups.length > 0)
      at(
        [spec.users.length > 0 ? "users" : "groups"],
        "fixed-id users and groups from scratch work with dnf and apt; with zypper build them on a parent image (from: {recipe: …})",
      );
    if (manager !== "dnf" && spec.packages.groups.length > 0)
      at(
        ["packages", "groups"],
        manager === "zypper"
          ? "groups are a dnf feature; zypper installs patterns: list them under patterns:"
          : "groups are a dnf feature; list apt packages under install:",
      );
    if (manager !== "dnf" && spec.packages.modules.enable.length + spec.packages.modules.install.length > 0)
      at(["packages", "modules"], "modules are a dnf feature");
    if (manager !== "zypper" && spec.packages.patterns.length > 0)
      at(
        ["packages", "patterns"],
        manager === "dnf"
          ? "patterns are a zypper feature; dnf installs comps groups: list them under groups:"
          : "patterns are a zypper feature; list apt packages under install:",
      );
    if (manager !== "zypper" && options.gpgAutoImportKeys)
      at(["packages", "options", "gpgAutoImportKeys"], "gpgAutoImportKeys is a zypper option; dnf imports the keys named by gpgkey itself");
    // apt takes a repository's key as a file (Signed-By), never as a URL, and the schema has no
    // digest to pin a download with: a key fetched on every build would be trusted unchecked
    // and would change the image without changing the cache key. A file beside the recipe is
    // reviewed once and hashed into the cache key. A content: source gets the key's Signed-By
    // added to each stanza, unless it names a key of its own: apt takes a stanza's last
    // Signed-By and ignores the others without a word, so one of the two keys would be dropped.
    if (manager === "apt")
      spec.packages.repos.forEach((r, i) => {
        if (r.gpgkey !== undefined && URL_SCHEME.test(r.gpgkey))
          at(
            ["packages", "repos", i, "gpgkey"],
            `apt reads a repository's key from a file (Signed-By), not from a URL: download ${r.gpgkey} once, check its fingerprint, put it beside the recipe and name it, e.g. gpgkey: ${r.name}.asc (bootsmith copies it into the image's /etc/apt/keyrings)`,
          );
        else if (r.gpgkey !== undefined && r.content !== undefined && /^signed-by\s*:/im.test(r.content))
          at(
            ["packages", "repos", i, "gpgkey"],
            "the content: names its own key (Signed-By) and gpgkey names another: remove gpgkey to keep the content's Signed-By, or remove Signed-By from the content and bootsmith adds one naming gpgkey's copy in /etc/apt/keyrings",
          );
      });
    if (manager === "zypper" && !options.best) at(["packages", "options", "best"], "best is a dnf option; zypper always picks the best candidate: remove it");
  }
  const seen = new Set<string>();
  spec.tags.forEach((t, i) => {
    if (seen.has(t)) at(["tags", i], `tag "${t}" is listed twice`);
    seen.add(t);
  });
  // Fixed ids exist to be the same everywhere: two entries for one name or one id in the recipe
  // itself are a typo, said before anything is built.
  for (const [list, id, entries] of [
    ["groups", "gid", spec.groups.map((g) => ({ name: g.name, id: g.gid }))],
    ["users", "uid", spec.users.map((u) => ({ name: u.name, id: u.uid }))],
  ] as const) {
    const names = new Map<string, number>();
    const ids = new Map<number, number>();
    entries.forEach((e, i) => {
      const sameName = names.get(e.name);
      const sameId = ids.get(e.id);
      if (sameName !== undefined) at([list, i, "name"], `${e.name} is already ${list}[${sameName}]: list each ${list === "users" ? "user" : "group"} once`);
      else if (sameId !== undefined) at([list, i, id], `${id} ${e.id} is already ${list}[${sameId}] (${entries[sameId]!.name}): give each its own ${id}`);
      if (sameName === undefined) names.set(e.name, i);
      if (sameId === undefined) ids.set(e.id, i);
    });
  }
  if (spec.boot) {
    const { compression, level, profile } = spec.boot.rootfs;
    const comp = compression ?? (profile === "release" ? "xz" : "zstd");
    const range = LEVELS[comp];
    if (level !== undefined && !range) at(["boot", "rootfs", "level"], `${comp} takes no level in mksquashfs; remove level or use zstd (1-22) or gzip (1-9)`);
    if (level !== undefined && range && (level < range[0] || level > range[1])) at(["boot", "rootfs", "level"], `${comp} levels are ${range[0]}-${range[1]}`);
    for (const message of checkParamsTemplate(spec.boot.params)) at(["boot", "params"], message);
  }
  spec.register.forEach((r, i) => {
    for (const message of checkParamsTemplate(r.params)) at(["register", i, "params"], message);
    if (!spec.boot) at(["register", i], "registering boot parameters needs boot artifacts, but boot: false");
  });
  return issues;
}

const LEVELS: Partial<Record<string, [number, number]>> = { zstd: [1, 22], gzip: [1, 9], lzo: [1, 9] };

/**
 * `files[].src` must name an existing file or directory inside the recipe's directory: a
 * recipe must not read arbitrary host files (../, absolute paths, symlinks pointing out).
 */
function resolveFileSources(source: YamlSource, spec: ParsedRecipe, issues: RecipeIssue[]): Map<number, string> {
  const dir = realpathSync(path.dirname(source.file));
  const resolved = new Map<number, string>();
  spec.files.forEach((f, i) => {
    if (f.src === undefined) return;
    const real = inRecipeDir(source, dir, f.src, ["files", i, "src"], issues);
    if (real) resolved.set(i, real);
  });
  return resolved;
}

/** What a step's path must name: a file or a directory, and what it is to the tool (for the message). */
interface PathKind {
  readonly type: "file" | "directory";
  readonly what: string;
}

/**
 * An existing path inside the recipe's directory (symlinks resolved), or an issue and undefined.
 * With `kind`, it must also be a file or a directory: a playbook that is a directory would
 * otherwise fail only when ansible-playbook runs, after the packages are in.
 */
function inRecipeDir(source: YamlSource, dir: string, relative: string, at: (string | number)[], issues: RecipeIssue[], kind?: PathKind): string | undefined {
  const candidate = path.resolve(dir, relative);
  if (!existsSync(candidate)) {
    issues.push(issueAt(source, at, `${candidate} does not exist; ${String(at[at.length - 1])} is relative to the recipe's directory ${dir}`));
    return undefined;
  }
  const real = realpathSync(candidate);
  if (real !== dir && !real.startsWith(dir + path.sep)) {
    issues.push(issueAt(source, at, `${relative} resolves to ${real}, outside the recipe's directory ${dir}; copy the file next to the recipe`));
    return undefined;
  }
  const isDirectory = statSync(real).isDirectory();
  if (kind?.type === "file" && isDirectory) {
    const example = readdirSync(real)
      .sort()
      .find((entry) => statSync(path.join(real, entry)).isFile());
    issues.push(issueAt(source, at, `${relative} is a directory; give the ${kind.what} file${example ? `, e.g. ${path.posix.join(relative, example)}` : ""}`));
    return undefined;
  }
  if (kind?.type === "directory" && !isDirectory) {
    issues.push(issueAt(source, at, `${relative} is a file; give the directory that holds ${kind.what}`));
    return undefined;
  }
  return real;
}

/** Playbooks and roles, like files: src, must be inside the recipe's directory. */
function resolveAnsibleSources(source: YamlSource, spec: ParsedRecipe, issues: RecipeIssue[]): Map<number, AnsibleSources> {
  const dir = realpathSync(path.dirname(source.file));
  const resolved = new Map<number, AnsibleSources>();
  spec.commands.forEach((c, i) => {
    if (!c.ansible) return;
    const playbook = inRecipeDir(source, dir, c.ansible.playbook, ["commands", i, "ansible", "playbook"], issues, { type: "file", what: "playbook" });
    const roles =
      c.ansible.roles === undefined
        ? undefined
        : inRecipeDir(source, dir, c.ansible.roles, ["commands", i, "ansible", "roles"], issues, { type: "directory", what: "the roles" });
    if (!playbook || (c.ansible.roles !== undefined && !roles)) return;
    const beside = PLAYBOOK_DIRS.map((d) => path.join(path.dirname(playbook), d)).filter(
      (d) => existsSync(d) && inRecipeDir(source, dir, path.relative(dir, d), ["commands", i, "ansible", "playbook"], issues),
    );
    resolved.set(i, { playbook, ...(roles ? { roles } : {}), beside });
  });
  return resolved;
}

/** kernelModules.build.src: a directory kbuild can build (make -C /lib/modules/KVER/build M=DIR reads its Kbuild or Makefile). */
function moduleSource(source: YamlSource, dir: string, relative: string, issues: RecipeIssue[]): string | undefined {
  const at = ["kernelModules", "build", "src"];
  const real = inRecipeDir(source, dir, relative, at, issues, { type: "directory", what: "the module's source" });
  if (real && !["Kbuild", "Makefile"].some((f) => existsSync(path.join(real, f)))) {
    issues.push(issueAt(source, at, `${relative} has neither a Kbuild file nor a Makefile, which make -C /lib/modules/KVER/build M=DIR needs`));
    return undefined;
  }
  return real;
}

/** Every host path an ansible run reads, labelled for explanations, in a stable order. */
export function ansibleInputPaths(recipe: Pick<LoadedRecipe, "ansibleSources" | "file">): [string, string][] {
  const dir = realpathSync(path.dirname(recipe.file));
  const out: [string, string][] = [];
  for (const [i, s] of [...recipe.ansibleSources].sort((a, b) => a[0] - b[0])) {
    for (const p of [s.playbook, ...(s.roles ? [s.roles] : []), ...s.beside]) out.push([`ansible commands[${i}] ${path.relative(dir, p) || "."}`, p]);
  }
  return out;
}

/**
 * The OpenSCAP content: the data stream may be the host's (Debian's ssg-* packages install under
 * /usr/share/xml/scap) or sit beside the recipe; tailoring and CPE files sit beside the recipe.
 */
function resolveScanSources(source: YamlSource, spec: ParsedRecipe, issues: RecipeIssue[]): ScanSources | undefined {
  const scan = spec.scan?.openscap;
  if (!scan) return undefined;
  const dir = realpathSync(path.dirname(source.file));
  const at = ["scan", "openscap"];
  let datastream: string | undefined;
  if (path.isAbsolute(scan.datastream)) {
    if (existsSync(scan.datastream) && statSync(scan.datastream).isFile()) datastream = scan.datastream;
    else
      issues.push(
        issueAt(
          source,
          [...at, "datastream"],
          `${scan.datastream} does not exist on this host; install the SCAP content that ships it (Debian: apt-get install ssg-debian for /usr/share/xml/scap/ssg/content/ssg-debian*-ds.xml) or give a data stream beside the recipe`,
        ),
      );
  } else datastream = inRecipeDir(source, dir, scan.datastream, [...at, "datastream"], issues, { type: "file", what: "data stream" });
  const tailoring =
    scan.tailoring === undefined ? undefined : inRecipeDir(source, dir, scan.tailoring, [...at, "tailoring"], issues, { type: "file", what: "tailoring" });
  const cpe = scan.cpe === undefined ? undefined : inRecipeDir(source, dir, scan.cpe, [...at, "cpe"], issues, { type: "file", what: "CPE dictionary" });
  if (!datastream || (scan.tailoring !== undefined && !tailoring)) return undefined;
  const profile = scanProfile(source, scan, { datastream, tailoring }, issues);
  if (!profile) return undefined;
  return { datastream, profile, ...(tailoring ? { tailoring } : {}), ...(cpe ? { cpe } : {}) };
}

/** The full id of the profile scan.openscap.profile names in the data stream or the tailoring file, or an issue at its line. */
function scanProfile(
  source: YamlSource,
  scan: OpenscapSpec,
  files: { datastream: string; tailoring: string | undefined },
  issues: RecipeIssue[],
): string | undefined {
  const at = ["scan", "openscap"];
  const ids = xccdfProfileIds(readFileSync(files.datastream, "utf8"));
  if (ids.length === 0) {
    issues.push(
      issueAt(
        source,
        [...at, "datastream"],
        `${scan.datastream} defines no XCCDF profile: give a SCAP source data stream (e.g. /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml)`,
      ),
    );
    return undefined;
  }
  if (files.tailoring) ids.push(...xccdfProfileIds(readFileSync(files.tailoring, "utf8")));
  const match = matchProfile(scan.profile, ids);
  if (match.kind === "found") return match.id;
  const listed = (list: readonly string[]) => `${list.slice(0, 8).join(", ")}${list.length > 8 ? ", …" : ""}`;
  if (match.kind === "several") {
    issues.push(
      issueAt(
        source,
        [...at, "profile"],
        `${scan.profile} is the end of several profile ids (${listed(match.ids)}), as oscap would refuse it; give the full id`,
      ),
    );
    return undefined;
  }
  const guess = didYouMean(scan.profile, ids);
  const where = `${scan.datastream}${scan.tailoring !== undefined ? ` nor of the tailoring file ${scan.tailoring}` : ""}`;
  issues.push(
    issueAt(
      source,
      [...at, "profile"],
      `${scan.profile} is not a profile of ${where}${guess ? `; did you mean ${guess}?` : ""} (oscap info ${scan.datastream} lists them: ${listed(ids)})`,
    ),
  );
  return undefined;
}

/** Every host file the scan reads, labelled for explanations ("openscap datastream changed"). */
export function scanInputPaths(recipe: Pick<LoadedRecipe, "scanSources">): [string, string][] {
  const s = recipe.scanSources;
  if (!s) return [];
  return [
    ["openscap datastream", s.datastream],
    ...(s.tailoring ? [["openscap tailoring", s.tailoring] as [string, string]] : []),
    ...(s.cpe ? [["openscap cpe", s.cpe] as [string, string]] : []),
  ];
}

/**
 * Every host path the key hashes (digestInputs): copied files and directories, what
 * ansible-playbook and oscap read, repository key files, a kernel module's source. `--since`
 * selects a recipe when one of them changed, so it must list exactly these, not a subset.
 */
export function keyedInputPaths(
  recipe: Pick<LoadedRecipe, "file" | "spec" | "fileSources" | "ansibleSources" | "scanSources" | "kernelModuleSource">,
): string[] {
  return [
    ...recipe.fileSources.values(),
    ...ansibleInputPaths(recipe).map(([, p]) => p),
    ...scanInputPaths(recipe).map(([, p]) => p),
    ...repoKeyPaths(recipe).map(([, p]) => p),
    ...(recipe.kernelModuleSource ? [recipe.kernelModuleSource] : []),
  ];
}

function digestInputs(
  file: string,
  spec: RecipeSpec,
  fileSources: ReadonlyMap<number, string>,
  ansibleSources: ReadonlyMap<number, AnsibleSources>,
  scanSources: ScanSources | undefined,
  parent: LoadedRecipe | undefined,
  kernelModuleSource: string | undefined,
): string {
  const hash = createHash("sha256");
  hash.update(`bootsmith ${TOOL_VERSION}\n`);
  hash.update(canonicalJson(spec));
  for (const [i, p] of [...fileSources].sort((a, b) => a[0] - b[0])) hashPath(hash, `files[${i}]`, p);
  for (const [label, p] of ansibleInputPaths({ ansibleSources, file })) hashPath(hash, label, p);
  for (const [label, p] of scanInputPaths({ scanSources })) hashPath(hash, label, p);
  for (const [name, digest] of localRepoMetadata(spec)) hash.update(`repo ${name} ${digest}\n`);
  for (const [label, p] of repoKeyPaths({ file, spec })) hashKeyFile(hash, label, p);
  if (kernelModuleSource) hashPath(hash, "kernelModules.build.src", kernelModuleSource);
  if (parent) hash.update(`parent ${parent.inputDigest}\n`);
  return hash.digest("hex");
}

/**
 * sha256 of repodata/repomd.xml for rpm-md (dnf, zypper) repositories on the local disk
 * (file:// baseurls): cheap to know, and it changes whenever the repository's packages do.
 * Remote repositories are not fetched here; the nightly --refresh picks up their updates.
 */
export function localRepoMetadata(spec: RecipeSpec): [string, string][] {
  if (!spec.packages || !RPM_MD_MANAGERS.has(spec.packages.manager)) return [];
  const found: [string, string][] = [];
  for (const repo of spec.packages.repos) {
    if (!repo.baseurl?.startsWith("file://")) continue;
    const repomd = path.join(decodeURI(repo.baseurl.slice("file://".length)), "repodata", "repomd.xml");
    try {
      found.push([repo.name, createHash("sha256").update(readFileSync(repomd)).digest("hex")]);
    } catch {
      found.push([repo.name, "missing"]);
    }
  }
  return found;
}

/**
 * The repositories' key files (gpgkey: a path beside the recipe, not a URL), labelled: each is
 * copied into the image or imported into its rpm database, so a rotated key under the same
 * name must change the key as a changed files[].src does.
 */
export function repoKeyPaths(recipe: { readonly file: string; readonly spec: RecipeSpec }): [string, string][] {
  const dir = path.dirname(recipe.file);
  return (recipe.spec.packages?.repos ?? []).flatMap((r): [string, string][] =>
    r.gpgkey !== undefined && !URL_SCHEME.test(r.gpgkey) ? [[`repo ${r.name} gpgkey`, path.resolve(dir, r.gpgkey)]] : [],
  );
}

/** A key file's contents, or "missing" (the build says so when it copies it; loading does not fail on it). */
export function hashKeyFile(hash: ReturnType<typeof createHash>, label: string, p: string): void {
  if (existsSync(p)) hashPath(hash, label, p);
  else hash.update(`${label} missing\n`);
}

/**
 * Hash a file or a directory tree: names, the executable bit, and contents. A symbolic link inside
 * a directory is copied into the image as a link (buildah copy keeps it), so its target path is
 * what counts, whether or not that path exists on this host (a link to /usr/share/zoneinfo/UTC
 * means the image's file). The path given itself is followed, as buildah follows a source link.
 */
export function hashPath(hash: ReturnType<typeof createHash>, label: string, p: string, inTree = false): void {
  const st = inTree ? lstatSync(p) : statSync(p);
  if (st.isSymbolicLink()) {
    hash.update(`${label} -> ${readlinkSync(p)}\n`);
  } else if (st.isDirectory()) {
    for (const entry of readdirSync(p).sort()) hashPath(hash, `${label}/${entry}`, path.join(p, entry), true);
  } else {
    // Only the executable bit: git keeps nothing else, so other mode bits follow the checkout's umask.
    hash.update(`${label} ${st.mode & 0o111 ? "x" : "-"}\n`);
    hash.update(readFileSync(p));
  }
}

/** JSON with sorted keys: equal data, equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
