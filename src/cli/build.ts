// bootsmith build: parse the arguments and pick a mode: one recipe file (a build session,
// pipeline/build-session.ts) or a graph of recipes (pipeline/build-graph.ts).
import { UserError } from "../core/errors.js";
import type { CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import type { BuildSessionOptions } from "../builder/options.js";
import { buildFile } from "../pipeline/build-session.js";
import { isSingleRecipeFile } from "../pipeline/graph.js";
import { expandArches, loadRecipe, type LoadedRecipe } from "../recipe/load.js";
import { unusedVarWarnings } from "../recipe/unused-vars.js";

const PROGRESS_MODES = ["auto", "tty", "plain", "json"] as const;

export const buildCommand: CliCommand = {
  name: "build",
  summary: "Build a recipe: artifacts, manifest, committed image (then publish/register)",
  usage: `Usage: bootsmith build RECIPE.yaml [options]
       bootsmith build DIR | RECIPE.yaml… | LIST [graph options] [options]

Runs the recipe's plan (see \`bootsmith plan\`) with buildah, dnf/mmdebstrap, dracut and
mksquashfs. Leaves in the output directory:
  vmlinuz, initramfs.img, rootfs.squashfs   boot artifacts (unless boot: false)
  manifest.json                             sha256/size of each artifact, packages, kernel, timings
  build.log                                 every command and its output
and commits the container as localhost/bootsmith/<name>:<tag>. Then publishes to the
recipe's publish targets and registers boot parameters (unless --no-publish).
A failure or Ctrl-C removes the working container, its mount and partial artifacts, and puts
the previous build's artifacts back (they are set aside while a rebuild runs).

Options:
  --out DIR           output directory (default ./artifacts/<name>/<primary tag>)
  --var KEY=VALUE     set a recipe variable; repeatable
  --no-publish        build only: skip the publish and register steps
  --progress MODE     auto (default), tty, plain or json (one JSON event per line on stdout)
  --json              same as --progress json
  -v, --verbose       plain mode: print every output line
  --storage-root DIR  buildah storage root (BOOTSMITH_STORAGE_ROOT; default: buildah's own). A
                      root given either way gets its own run root, /run/bootsmith/runroot-<hash>;
                      publish, export and artifacts find the image there with the same variable
  --storage-driver D  overlay, vfs, btrfs or zfs (BOOTSMITH_STORAGE_DRIVER; default: the one
                      the root already holds, else detected: overlay, else vfs)
  --isolation I       buildah run isolation (BOOTSMITH_ISOLATION; default chroot)
  --state-dir DIR     where registration records for rollback are kept
  --build-id ID       one recipe: fix the build id (names the working container, as in
                      \`bootsmith plan --build-id\`); default: time + random
  --junit FILE        write a JUnit report, one testcase per step (graph mode: a directory,
                      one <name>.xml per recipe)
  --if-changed        one recipe: skip the build when it is up to date (see below)
  --no-commit         one recipe: make the artifacts and manifest but no image (saves the
                      buildah commit; refused with a registry target). Graph mode does this by
                      itself for every recipe no child recipe builds on and no registry takes
  --sign-key KEY      sign the set: SHA256SUMS + SHA256SUMS.sig (GnuPG detached signature); KEY
                      is a secret key file, env:NAME or keyring:KEYID (overrides signing.key);
                      checked before anything is built (exit 2 when it cannot sign)
  --sign-passphrase-env NAME  variable holding the key's passphrase (default BOOTSMITH_SIGN_PASSPHRASE)
  --locked            fail (exit 1, nothing published or registered) when the installed
                      packages differ from the recipe's lock file, RECIPE.lock.json next to the
                      recipe (written by \`bootsmith lock\`); exit 2 when there is none
  -h, --help          this help

Graph mode (a directory, several files, a list file (.txt, or YAML with recipes:), or any of
these options): recipes are built parents first, each child on its parent's committed image;
independent recipes in parallel. A recipe is up to date, and skipped, when the manifest.json in
its output directory and the image label io.bootsmith.input-digest carry its current key
(recipe, copied files, parent key, bootsmith version); a recipe whose last build committed no
image (below) needs only the manifest, until a child recipe or a registry target needs the image.
Only images something reads are committed: a recipe with a child recipe in the graph or a
registry target; the others (leaves) skip the commit, as with --no-commit, and an earlier image
of that name is removed. Parents that are not named are built when
they are not up to date. --out is the root: each recipe goes to <out>/<name>/<primary tag>.
  --jobs N            parallel builds (default: the number of cores)
  --commit-all        commit every recipe's image, leaves included (e.g. to look into them
                      with buildah); without it, only images a child or a registry needs
  --only NAME         build NAME (repeatable) and whichever of its ancestors are not up to date
  --since GIT_REF     build recipes whose file or copied files changed since GIT_REF (git diff,
                      plus untracked files), their descendants, and ancestors not up to date
  --explain           print, per recipe, whether it would be rebuilt and which input changed
                      (old → new); builds nothing
  --refresh           rebuild even when up to date (nightly: pick up package updates), pulling
                      from: {image: …} bases again (--pull=always: a newer base:latest counts);
                      writes changelog.md/json (packages added, removed, changed since the
                      previous build) and skips publish/register when no package changed
  --force             rebuild even when up to date, for one-off rebuilds: bases as local
                      storage has them, no changelog
  --check-published   also ask where each recipe publishes (built elsewhere counts): its
                      registry target (skopeo inspect): an image there with the current key is
                      up to date, pulled by digest when a child is built here (with
                      --if-changed: for one file, no pull); without a registry target, its
                      first S3 or directory target: a manifest.json there with the current key
                      is up to date unless a child built here needs the image
                      (--check-registry is the older name of this option)
A recipe with arches: [x86_64, aarch64] is a node per architecture (NAME@ARCH; --only NAME
selects all): each builds into <out>/<name>/<tag>/<arch>/, then <out>/<name>/<tag>/manifest.json
lists them all and the recipe's publish targets get every architecture at once. One such file
builds in graph mode (--out is the root).
A single file without these options always builds (unless --if-changed). With --refresh a single
file is rebuilt alone (its parents are not), with the changelog and publish rule above.

Environment: SOURCE_DATE_EPOCH makes the squashfs and image timestamps reproducible;
BOOTSMITH_WORK_DIR (default /var/tmp/bootsmith), BOOTSMITH_CACHE_DIR (/var/cache/bootsmith).
Exit codes: 0 built (or up to date), 1 a step failed, 2 bad recipe or options, 130/143/129 interrupted (Ctrl-C / SIGTERM / hang-up; cleaned up).`,
  async run(args) {
    const { values, positionals } = parseCommandArgs("build", args, {
      out: { type: "string" },
      var: { type: "string", multiple: true },
      "no-publish": { type: "boolean" },
      progress: { type: "string" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      "storage-root": { type: "string" },
      "storage-driver": { type: "string" },
      isolation: { type: "string" },
      "state-dir": { type: "string" },
      "build-id": { type: "string" },
      junit: { type: "string" },
      "if-changed": { type: "boolean" },
      "no-commit": { type: "boolean" },
      "commit-all": { type: "boolean" },
      jobs: { type: "string" },
      only: { type: "string", multiple: true },
      since: { type: "string" },
      explain: { type: "boolean" },
      refresh: { type: "boolean" },
      force: { type: "boolean" },
      "check-published": { type: "boolean" },
      "check-registry": { type: "boolean" },
      locked: { type: "boolean" },
      "sign-key": { type: "string" },
      "sign-passphrase-env": { type: "string" },
    });
    if (positionals.length === 0)
      throw new UserError("bootsmith build: name a recipe file, a directory of recipes or a list, e.g. bootsmith build recipes/debian-12-live.yaml");
    const progress = values.json ? "json" : (values.progress ?? "auto");
    if (!isProgressMode(progress)) throw new UserError(`--progress ${progress}: expected ${PROGRESS_MODES.join(", ")}`);
    const session: BuildSessionOptions = {
      publish: !values["no-publish"],
      progress,
      verbose: values.verbose ?? false,
      storageRoot: values["storage-root"],
      storageDriver: values["storage-driver"],
      isolation: values.isolation,
      stateDir: values["state-dir"],
      signKey: values["sign-key"],
      signPassphraseEnv: values["sign-passphrase-env"],
    };
    const checkPublished = values["check-published"] === true || values["check-registry"] === true;
    const common = {
      ...session,
      vars: parseVarOptions(values.var),
      refresh: values.refresh ?? false,
      checkPublished,
      locked: values.locked ?? false,
    };
    const singleFile =
      positionals.length === 1 &&
      isSingleRecipeFile(positionals[0]!) &&
      ![values.jobs, values.only, values.since, values.explain, values.force, values["commit-all"]].some((v) => v !== undefined) &&
      !(checkPublished && !values["if-changed"]);
    // Loaded once: whether it builds several architectures decides the mode, and one file's build uses it.
    const recipe = singleFile ? tryLoadRecipe(positionals[0]!, common.vars) : undefined;
    const graphMode = !singleFile || (recipe !== undefined && expandArches(recipe).length > 1);
    if (!graphMode) {
      if (recipe) process.stderr.write(unusedVarWarnings(common.vars, [recipe]));
      return buildFile(positionals[0]!, {
        ...common,
        ...(recipe ? { recipe } : {}),
        outDir: values.out,
        buildId: values["build-id"],
        junitFile: values.junit,
        ifChanged: values["if-changed"] ?? false,
        ...(values["no-commit"] ? { commit: false } : {}),
      });
    }
    if (values["no-commit"])
      throw new UserError("--no-commit is for one recipe file; graph mode commits only the images a child recipe or a registry target needs");
    if (values["build-id"] !== undefined) throw new UserError("--build-id names one build; it cannot be used with several recipes");
    // Loaded here: the scheduler, the cache and the multi-architecture publisher are for graph mode.
    const { buildGraph } = await import("../pipeline/build-graph.js");
    return buildGraph(positionals, {
      ...common,
      outRoot: values.out,
      jobs: values.jobs,
      only: values.only,
      since: values.since,
      explain: values.explain ?? false,
      force: values.force ?? false,
      commitAll: values["commit-all"] ?? false,
      junitDir: values.junit,
    });
  },
};

/**
 * The recipe, to see whether it has arches: (itself or its parent: a node per architecture, graph
 * mode); undefined when it does not load: the build reports its problems the usual way.
 */
function tryLoadRecipe(file: string, vars: Readonly<Record<string, string>>): LoadedRecipe | undefined {
  try {
    return loadRecipe(file, { vars });
  } catch {
    return undefined;
  }
}

function isProgressMode(mode: string): mode is BuildSessionOptions["progress"] {
  return (PROGRESS_MODES as readonly string[]).includes(mode);
}
