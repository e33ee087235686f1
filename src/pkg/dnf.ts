// dnf: from scratch the host's dnf installs into the container's mount (--installroot); on a
// parent image it runs inside the image (its own dnf and config) unless the recipe asks for
// the host installer.
import path from "node:path";
import type { Arg, PlannedCommand, Step } from "../steps/types.js";
import type { PackageContext, PackageManagerPlugin } from "./types.js";
import { mountablePath, runInImage, runInImageWithMounts } from "../steps/buildah.js";
import { argParts as parts } from "../steps/args.js";
import { ARCHES } from "../core/arch.js";
import { cacheLeftovers, listRpmPackages, repoFileActions, rpmHome, rpmMacrosAction } from "./rpm.js";

export const dnf: PackageManagerPlugin = {
  planInstall(ctx) {
    const steps: Step[] = [];
    const repos = ctx.packages.repos;
    if (repos.length > 0) {
      steps.push({
        id: "configure-repos",
        title: "Configure package repositories",
        actions: repoFileActions(ctx, { hostDir: hostRepoDir(ctx), imageDir: "/etc/yum.repos.d" }),
        produces: [],
      });
    }
    const install = [...ctx.packages.groups.map((g) => `@${g}`), ...ctx.packages.install];
    const run = (args: Arg[]): PlannedCommand => dnfCommand(ctx, args);
    const imageCache = ctx.installer === "image" ? inImageCache(ctx) : undefined;
    // Before dnf's first command: on the host, rpm's macros for the installroot and dnf's own
    // configuration; in the image, the cache directory it mounts.
    const preInstall: Step["actions"][number][] =
      ctx.installer === "host"
        ? [rpmMacrosAction(ctx), { kind: "write-file", path: hostDnfConf(ctx), content: HOST_DNF_CONF, mode: 0o644 }]
        : imageCache
          ? [{ kind: "exec", command: { file: "mkdir", args: ["-p", imageCache] } }]
          : [];
    if (ctx.accounts) {
      // dnf resolves file paths to the package providing them (setup on EL): the account files
      // exist before the recipe's packages install, so the fixed ids are there first.
      steps.push({
        id: "install-account-files",
        title: "Install the package providing /etc/passwd and /etc/group",
        actions: [...preInstall, { kind: "exec", command: run(["install", "/etc/passwd", "/etc/group"]) }],
        produces: [],
      });
      steps.push(ctx.accounts);
    }
    // write-file never overwrites: the macros are written once, by whichever step runs dnf first.
    const actions: Step["actions"][number][] = ctx.accounts ? [] : [...preInstall];
    for (const mod of ctx.packages.modules.enable) actions.push({ kind: "exec", command: run(["module", "enable", mod]) });
    for (const mod of ctx.packages.modules.install) actions.push({ kind: "exec", command: run(["module", "install", mod]) });
    if (install.length > 0) actions.push({ kind: "exec", command: run(["install", ...install]) });
    if (ctx.packages.remove.length > 0) actions.push({ kind: "exec", command: run([protectInstalled(ctx), "remove", ...ctx.packages.remove]) });
    steps.push({ id: "install-packages", title: "Install packages with dnf", actions, produces: [] });
    return steps;
  },

  listPackages: listRpmPackages,

  leftovers(ctx) {
    const cache = cacheLeftovers(ctx, "dnf");
    return {
      // dnf drops expired_repos.json under the *host* cachedir path inside the installroot.
      paths: [
        "var/cache/dnf",
        "var/log/dnf.log",
        "var/log/dnf.librepo.log",
        "var/log/dnf.rpm.log",
        "var/log/hawkey.log",
        cache.path,
        // dnf's history holds each transaction's real times and, for a host install, the host's
        // command line (mount and work paths), and dnf 4.14 fails with history_record=False: a
        // reproducible image goes without it (dnf starts a new one; packages it has no record
        // of count as user-installed, so autoremove keeps them).
        ...(ctx.reproducible ? ["var/lib/dnf/history.sqlite*"] : []),
      ],
      ifEmpty: ["etc/resolv.conf", "etc/hostname", "etc/hosts", ...cache.emptyParents, ...(ctx.installer === "image" ? [IN_IMAGE_CACHE.slice(1)] : [])],
    };
  },
};

/**
 * dnf remove also removes what depends on the packages named, silently: removing a library
 * would take a package install: asks for with it, and the image would build without it. The
 * recipe's install: names join dnf's protected packages (after its defaults: dnf itself and the
 * image's /etc/dnf/protected.d), so dnf refuses and names them. Entries that are not package
 * names (paths, versions) protect nothing and are harmless.
 */
function protectInstalled(ctx: PackageContext): string {
  return `--setopt=protected_packages=${["dnf", "glob:/etc/dnf/protected.d/*.conf", ...ctx.packages.install].join(",")}`;
}

function dnfCommand(ctx: PackageContext, verbAndArgs: Arg[]): PlannedCommand {
  const o = ctx.packages.options;
  const common: Arg[] = [
    "-y",
    // A recipe's repository that cannot be read fails the build. An image's dnf.conf may say
    // skip_if_unavailable=True (Debian's does): a mirror outage or a mistyped baseurl would build
    // an image without that repository's packages and updates, and succeed.
    "--setopt=skip_if_unavailable=False",
    `--setopt=install_weak_deps=${o.weakDeps ? "True" : "False"}`,
    o.best ? "--best" : "--nobest",
    ...(o.docs ? [] : ["--setopt=tsflags=nodocs"]),
    ...(o.nogpgcheck ? ["--nogpgcheck"] : []),
    ...(o.proxy ? [`--setopt=proxy=${o.proxy}`] : []),
  ];
  // The recipe's release, inside the image too: an image whose dnf cannot tell its own release
  // (no package provides system-release) would otherwise leave $releasever in URLs unset.
  const releasever: Arg[] = ctx.packages.release ? [`--releasever=${ctx.packages.release}`] : [];
  if (ctx.installer === "image") {
    const cache = inImageCache(ctx);
    if (!cache) return { ...runInImage(ctx.buildah, ["dnf", ...releasever, ...common, ...verbAndArgs]), warnOn: "rpm-scriptlets" };
    // The image's dnf keeps its metadata and downloads in the host's cache, mounted for the
    // command only: a rebuild of the layer, or a sibling layer on the same repositories,
    // downloads only what changed (EL metadata alone is tens of MB per build otherwise).
    const cacheOptions = [`--setopt=cachedir=${IN_IMAGE_CACHE}`, "--setopt=keepcache=True"];
    return {
      ...runInImageWithMounts(ctx.buildah, [{ host: cache, image: IN_IMAGE_CACHE }], ["dnf", ...releasever, ...cacheOptions, ...common, ...verbAndArgs]),
      warnOn: "rpm-scriptlets",
    };
  }
  return {
    file: "dnf",
    args: [
      ["--installroot=", ...parts(ctx.root)],
      // Only bootsmith's configuration: never the host's /etc/dnf/dnf.conf (nor, on a parent, the
      // image's), whose excludes, installonly_limit, proxy or plugin settings would make the
      // image depend on the build host.
      `--config=${hostDnfConf(ctx)}`,
      ...releasever,
      // The recipe's architecture, not the host's: $basearch in repository URLs and the packages
      // chosen follow it (an aarch64 root on an x86_64 host; its scriptlets run through qemu-user).
      `--forcearch=${ARCHES[ctx.spec.arch].rpm}`,
      // Only the recipe's repositories: never the host's /etc/yum.repos.d.
      `--setopt=reposdir=${hostRepoDir(ctx)}`,
      `--setopt=cachedir=${path.join(ctx.cacheDir, "dnf")}`,
      // Downloaded packages stay in that cache (dnf deletes them after the transaction by
      // default), so a rebuild, or the next recipe of a nightly run, downloads only what changed:
      // dnf reuses a cached package whose checksum matches the repository's metadata.
      "--setopt=keepcache=True",
      "--noplugins",
      ...common,
      ...verbAndArgs,
    ],
    env: { HOME: rpmHome(ctx) },
    // rpm reports a failed %pre/%post/trigger scriptlet and installs the package anyway; dnf exits 0.
    warnOn: "rpm-scriptlets",
  };
}

const hostRepoDir = (ctx: PackageContext) => path.join(ctx.workDir, "yum.repos.d");
const hostDnfConf = (ctx: PackageContext) => path.join(ctx.workDir, "dnf.conf");

/**
 * The host dnf's configuration: dnf's defaults. What the build sets (repositories, cache, weak
 * dependencies, best, documentation, proxy, signature checks per repository) is on the command
 * line and in the recipe's repository files, so nothing here needs to change per recipe.
 */
const HOST_DNF_CONF = "[main]\n";

/** Where the image's dnf finds the host's cache while it runs: an empty directory after, removed. */
const IN_IMAGE_CACHE = "/var/cache/bootsmith-dnf";

/**
 * The host directory the image's dnf caches in: apart from the host dnf's own (another dnf
 * version, other solv files), shared by every layer built inside an image. None when buildah's
 * --volume syntax cannot carry the path (a ':' or ',' in it).
 */
function inImageCache(ctx: PackageContext): string | undefined {
  const dir = path.join(ctx.cacheDir, "dnf-in-image");
  return mountablePath(dir) ? dir : undefined;
}
