// bootsmith ci: CI integration. `ci gitlab` prints a child pipeline for a tree of recipes;
// `ci dotenv` turns a build's manifest.json into the dotenv report the next job reads.
import { existsSync, readFileSync, statSync } from "node:fs";
import { stringify } from "yaml";
import { UserError, EXIT } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { changedFiles, collectRecipeFiles, loadGraph, selectNodes } from "../pipeline/graph.js";
import { dotenvFor, gitlabPipeline } from "../pipeline/gitlab.js";
import type { Manifest } from "../core/manifest.js";
import { loadRecipe, localImageRef, type LoadedRecipe } from "../recipe/load.js";
import { readPublishedSet, readRegistryFacts } from "../pipeline/cache.js";
import { joinBuiltArchitectures, pushBuiltArchitecture } from "../pipeline/multi-arch-join.js";
import type { SigningChoice } from "../pipeline/recipe-signer.js";
import path from "node:path";
import { pullParentForJob } from "../pipeline/parent-pull.js";
import { detectBuildHost } from "../builder/options.js";
import { ARCHES, type Arch } from "../core/arch.js";

export const ciCommand: CliCommand = {
  name: "ci",
  summary: "CI integration: generate a GitLab child pipeline, write a job's dotenv report, push/pull/join per-architecture images",
  usage: `Usage: bootsmith ci gitlab RECIPES_DIR | RECIPE.yaml… | LIST [options] > child.yml
       bootsmith ci dotenv MANIFEST.json|DIR [--recipe RECIPE.yaml [--var K=V]…] > image.env
       bootsmith ci push RECIPE.yaml --arch ARCH [--out DIR] [--var K=V]… [--sign-key KEY]
       bootsmith ci pull RECIPE.yaml [--arch ARCH] [--out DIR] [--var K=V]…
       bootsmith ci join RECIPE.yaml [--out DIR] [--var K=V]… [--no-publish] [--pushed] [--sign-key KEY]

ci gitlab prints a GitLab child pipeline: one job "build:<name>" per recipe, needs: edges from
from: {recipe: …} (a child starts when its parent's job succeeded), artifacts manifest.json,
build.log and junit.xml, and reports: dotenv (IMAGE_REF, IMAGE_DIGEST, IMAGE_PULL_REF) and
junit (one testcase per build step). Trigger it from the parent pipeline with
  trigger: { include: [{ artifact: child.yml, job: <generating job> }], strategy: depend }

A recipe with arches: [x86_64, aarch64] gets a job per architecture, "build:<name>@<arch>"
(bootsmith build RECIPE --only <name>@<arch> --no-publish: it never publishes alone; each on its
--arch-tags runners), whose artifacts are that architecture's whole directory, and a job
"join:<name>" that needs all of them and runs ci join. A child recipe's job needs its parent's
job of the same architecture. Unless BOOTSMITH_SHARED_STORAGE=1, a recipe with a registry target
has each architecture's job run ci push and its join ci join --pushed, and a child's job pulls
its parent's image of that architecture by digest.

ci join writes the combined manifest.json of a multi-architecture recipe from its architectures'
directories <out>/<name>/<tag>/<arch>/ (each built from the recipe's current inputs, else exit 2)
and publishes the set once to the recipe's publish targets (registry: one manifest list per tag;
S3/directory: from the artifact files). --no-publish writes the combined manifest only. A registry
target's images come from this job's buildah storage (runners that share it), or with --pushed
from the registry: each architecture's job pushed its own image with ci push, and the join lists
the digests their manifests recorded (checked before any tag changes).

ci push (an architecture's job on runners without shared storage) pushes the image of one
architecture to each registry target of the recipe as <tag>-<amd64|arm64> (never the recipe's
own tags) and records the digests in <out>/<name>/<tag>/<arch>/manifest.json.

ci pull (a child recipe's job on runners without shared storage) pulls the image of the recipe's
parent (of ARCH, for one architecture of several) by the digest the parent job's manifest.json
(<out>/<parent>/<tag>[/<arch>]/manifest.json, a needs: artifact) records pushing to the parent's
first registry target, into the buildah storage bootsmith build uses here (the same root, runroot
and driver from BOOTSMITH_STORAGE_ROOT / BOOTSMITH_STORAGE_DRIVER, the target's TLS setting and
auth file), checks the stored digest and tags it as the parent's local image. Without that
manifest (the parent's job skipped an already published build) it pulls the registry's image if
it carries the parent's current key. Nothing to do for a recipe without a parent recipe.

Signed sets (the recipe's signing:, or build --sign-key): recording digests changes an
architecture's manifest.json, so ci push and ci join sign the set again (SHA256SUMS and its
signature; ci push also signs the pushed image, as publish --sign-key does) with --sign-key KEY,
else the recipe's signing.key. Without a key ci push refuses a signed set, and ci join leaves
the sets as signed with a warning (the list digests are not recorded). With a key, ci join signs
what it publishes also when the architectures' jobs had none (a site that keeps the key for the
join): each unsigned set (SHA256SUMS.sig) before any target gets it, and in a registry each list
and its images for <repository>:<tag>. A recipe that signs gets
--sign-key "$BOOTSMITH_SIGN_KEY_FILE" in its generated jobs when that GitLab CI/CD file variable
is set.

Runners without shared storage: a child job pulls its parent by digest (ci pull), which needs
the parent recipe to publish to a registry target. Jobs
build with --if-changed --check-published: a recipe whose key is already in its registry (or,
without a registry target, in its S3 or directory target's manifest.json) is not rebuilt, and
ci dotenv --recipe describes the published image or set instead of a local manifest.
Variables the jobs read:
  BOOTSMITH_IMAGE           job image when --image is not given
  BOOTSMITH_SHARED_STORAGE  "1" when all runners share buildah storage: no pull
  BOOTSMITH_STORAGE_ROOT, BOOTSMITH_STORAGE_DRIVER, BOOTSMITH_ISOLATION  as for bootsmith build
  BOOTSMITH_SIGN_KEY_FILE   a file variable holding the secret signing key: passed as --sign-key
                            to the build, ci push and ci join of recipes with signing:
  BOOTSMITH_SIGN_PASSPHRASE its passphrase (or the recipe's signing.passphraseEnv)

Options (ci push, ci join):
  --sign-key KEY      the key that signed the sets (file, env:NAME or keyring:KEYID), to sign
                      them again; default: the recipe's signing.key
  --sign-passphrase-env NAME  variable holding the key's passphrase (default BOOTSMITH_SIGN_PASSPHRASE)

Options (ci gitlab):
  --image IMG         job image (default: $BOOTSMITH_IMAGE at run time)
  --bootsmith CMD     how jobs run bootsmith (default: bootsmith)
  --setup CMD         a before_script command for every job; repeatable
  --var KEY=VALUE     passed to every build (written into the YAML: no secrets); repeatable
  --since GIT_REF     only recipes changed since GIT_REF, their descendants and ancestors
  --only NAME         only NAME and its ancestors; repeatable
  --refresh           jobs rebuild whatever the cache says (nightly); default --if-changed
  --out DIR           output root in the project directory (default artifacts)
  --build-arg ARG     an extra argument for every bootsmith build (e.g. --no-publish); repeatable
  --arch-tags ARCH=TAG[,TAG…]
                      runner tags for the jobs of recipes with arch: ARCH (and the
                      <name>@ARCH jobs of recipes with arches:), e.g.
                      aarch64=arm64-runner for native Arm runners; repeatable. Without it those
                      jobs cross-build on the default runners through qemu-user (binfmt_misc:
                      bootsmith doctor --arch aarch64)
  --join-sign-key-env VAR
                      every join job (recipes with arches:) signs its set: ci join --sign-key
                      "$VAR", VAR a CI/CD file variable holding the key file (the YAML names
                      the variable, never the key); for sites that sign only at the join,
                      recipes without signing: included`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "dotenv") return dotenv(rest);
    if (sub === "gitlab") return gitlab(rest);
    if (sub === "join") return join(rest);
    if (sub === "push") return push(rest);
    if (sub === "pull") return pull(rest);
    throw new UserError(`bootsmith ci: expected gitlab, dotenv, push, pull or join${sub ? `, not "${sub}"` : ""}\nRun \`bootsmith ci --help\` for usage.`);
  },
};

async function gitlab(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("ci gitlab", args, {
    image: { type: "string" },
    bootsmith: { type: "string" },
    setup: { type: "string", multiple: true },
    var: { type: "string", multiple: true },
    since: { type: "string" },
    only: { type: "string", multiple: true },
    refresh: { type: "boolean" },
    out: { type: "string" },
    "build-arg": { type: "string", multiple: true },
    "arch-tags": { type: "string", multiple: true },
    "join-sign-key-env": { type: "string" },
  });
  const joinSignKeyEnv = values["join-sign-key-env"];
  if (joinSignKeyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(joinSignKeyEnv))
    throw new UserError(
      `bootsmith ci gitlab: --join-sign-key-env ${JSON.stringify(joinSignKeyEnv)}: give a variable name (letters, digits, _), e.g. SITE_SIGN_KEY`,
    );
  if (positionals.length === 0) throw new UserError("bootsmith ci gitlab: name the recipes, e.g. bootsmith ci gitlab recipes/ > child.yml");
  const vars = parseVarOptions(values.var);
  const graph = loadGraph(collectRecipeFiles(positionals), { vars });
  const changed = values.since !== undefined ? await changedFiles(values.since, path.dirname(graph.nodes.get(graph.order[0]!)!.recipe.file)) : undefined;
  const selected = selectNodes(graph, { only: values.only, changed });
  const pipeline = gitlabPipeline(graph, selected, {
    image: values.image,
    bootsmith: values.bootsmith,
    setup: values.setup,
    vars,
    refresh: values.refresh ?? false,
    outRoot: values.out,
    buildArgs: values["build-arg"],
    archTags: parseArchTags(values["arch-tags"]),
    ...(joinSignKeyEnv !== undefined ? { joinSignKeyEnv } : {}),
  });
  const header = `# Generated by bootsmith ci gitlab ${args.join(" ")}\n# ${selected.size} of ${graph.nodes.size} recipes; do not edit, regenerate.\n`;
  process.stdout.write(header + stringify(pipeline, { lineWidth: 0 }));
  return EXIT.ok;
}

/** --arch-tags aarch64=arm64-runner[,more] (repeatable) as arch → runner tags. */
export function parseArchTags(values: readonly string[] | undefined): Partial<Record<Arch, string[]>> {
  const tags: Partial<Record<Arch, string[]>> = {};
  for (const value of values ?? []) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    const arch = match?.[1] as Arch | undefined;
    const list =
      match?.[2]
        ?.split(",")
        .map((t) => t.trim())
        .filter(Boolean) ?? [];
    if (!arch || !(arch in ARCHES) || list.length === 0)
      throw new UserError(
        `--arch-tags ${JSON.stringify(value)}: expected ARCH=TAG[,TAG…] with ARCH one of ${Object.keys(ARCHES).join(", ")}, e.g. aarch64=arm64-runner`,
      );
    tags[arch] = [...(tags[arch] ?? []), ...list];
  }
  return tags;
}

async function join(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("ci join", args, {
    out: { type: "string" },
    var: { type: "string", multiple: true },
    "no-publish": { type: "boolean" },
    pushed: { type: "boolean" },
    ...SIGN_OPTIONS,
  });
  if (positionals.length === 0)
    throw new UserError("bootsmith ci join: name the recipe built for several architectures, e.g. bootsmith ci join recipes/site.yaml");
  const ok = await joinBuiltArchitectures(positionals, {
    vars: parseVarOptions(values.var),
    outRoot: values.out,
    publish: !values["no-publish"],
    ofPushed: values.pushed ?? false,
    write: (line) => process.stderr.write(`${line}\n`),
    signing: signingChoice(values),
  });
  return ok ? EXIT.ok : EXIT.failed;
}

/** The registry's image, else the S3 or directory target's manifest, carrying the recipe's key. */
async function publishedRecord(recipe: LoadedRecipe, file: string): Promise<Pick<Manifest, "name" | "inputDigest" | "image">> {
  const key = recipe.inputDigest;
  const registry = await readRegistryFacts(recipe);
  if (registry?.kind === "found" && registry.label === key)
    return { name: recipe.spec.name, inputDigest: key, image: { ref: localImageRef(recipe.spec), pushed: [{ ref: registry.ref, digest: registry.digest }] } };
  const published = registry ? undefined : await readPublishedSet(recipe);
  if (published?.kind === "found" && published.manifest.inputDigest === key) return published.manifest;
  const where = registry ? "the registry has no image" : published ? `${published.where} holds no set` : "no publish target holds an image";
  throw new UserError(`${file} does not exist and ${where} of ${recipe.spec.name} with key ${key.slice(0, 12)}; did the build succeed?`, EXIT.failed);
}

async function push(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("ci push", args, {
    arch: { type: "string" },
    out: { type: "string" },
    var: { type: "string", multiple: true },
    ...SIGN_OPTIONS,
  });
  const arch = values.arch as Arch | undefined;
  if (positionals.length !== 1 || !arch || !(arch in ARCHES))
    throw new UserError(
      `bootsmith ci push: name one recipe built for several architectures and --arch (one of ${Object.keys(ARCHES).join(", ")}), e.g. bootsmith ci push recipes/site.yaml --arch aarch64`,
    );
  await pushBuiltArchitecture(positionals[0]!, arch, {
    vars: parseVarOptions(values.var),
    outRoot: values.out,
    write: (line) => process.stderr.write(`${line}\n`),
    signing: signingChoice(values),
  });
  return EXIT.ok;
}

async function pull(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("ci pull", args, {
    arch: { type: "string" },
    out: { type: "string" },
    var: { type: "string", multiple: true },
  });
  const arch = values.arch as Arch | undefined;
  if (positionals.length !== 1 || (arch !== undefined && !(arch in ARCHES)))
    throw new UserError(
      `bootsmith ci pull: name one recipe${arch !== undefined ? ` and --arch one of ${Object.keys(ARCHES).join(", ")}` : ""}, e.g. bootsmith ci pull recipes/child.yaml --arch aarch64`,
    );
  await pullParentForJob(positionals[0]!, {
    ...(arch !== undefined ? { arch } : {}),
    vars: parseVarOptions(values.var),
    ...(values.out !== undefined ? { outRoot: values.out } : {}),
    // The storage `bootsmith build` detects here (root, runroot, driver), not a copy of its rules.
    buildahArgs: async () => (await detectBuildHost({})).buildahArgs,
    write: (line) => process.stderr.write(`${line}\n`),
  });
  return EXIT.ok;
}

/** The signing key as build and publish take it: it signs again the sets ci push / ci join change. */
const SIGN_OPTIONS = { "sign-key": { type: "string" }, "sign-passphrase-env": { type: "string" } } as const;

function signingChoice(values: { "sign-key"?: string; "sign-passphrase-env"?: string }): SigningChoice {
  return {
    ...(values["sign-key"] !== undefined ? { signKey: values["sign-key"] } : {}),
    ...(values["sign-passphrase-env"] !== undefined ? { signPassphraseEnv: values["sign-passphrase-env"] } : {}),
  };
}

async function dotenv(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("ci dotenv", args, { recipe: { type: "string" }, var: { type: "string", multiple: true } });
  if (positionals.length !== 1) throw new UserError("bootsmith ci dotenv: name one manifest.json or the artifact directory holding it");
  // An artifact directory is read as the other commands read one: its manifest.json.
  const given = positionals[0]!;
  const file = existsSync(given) && statSync(given).isDirectory() ? path.join(given, "manifest.json") : given;
  if (!existsSync(file) && values.recipe !== undefined) {
    // The build was skipped because its key is already published (--if-changed
    // --check-published on a runner without the earlier output): describe what was published.
    const recipe = loadRecipe(values.recipe, { vars: parseVarOptions(values.var) });
    process.stdout.write(dotenvFor(await publishedRecord(recipe, file)));
    return EXIT.ok;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch (error) {
    throw new UserError(`${file}: cannot read the manifest (${error instanceof Error ? error.message : String(error)}); did the build succeed?`, EXIT.failed);
  }
  process.stdout.write(dotenvFor(manifest));
  return EXIT.ok;
}
