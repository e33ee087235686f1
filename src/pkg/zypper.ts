// zypper (SUSE: SLES, openSUSE): from scratch the host's zypper installs into the container's
// mount (--root) with only the recipe's repositories; on a parent image it runs inside the image
// (its own zypper, repositories and zypp.conf) unless the recipe asks for the host installer.
//
// Behaviour measured with Debian 12's zypper 1.14.42 / libzypp 17.25.7 (see README):
// - `--root DIR` with `--reposd-dir`/`--cache-dir` reads repositories and keeps caches exactly
//   there (not under DIR); only the @System solv cache and a lock land under DIR (removed below).
// - A repository that cannot be read (unreachable, bad signature) is skipped with a warning by
//   `install`: a separate `refresh` fails for it (exit 4, naming it) and install runs
//   `--no-refresh`, so a broken repository never goes unnoticed.
// - Debian's libsolv has no "autopattern" support, so `pattern:NAME` finds nothing there;
//   patterns are installed through the capability their package provides, `pattern() = NAME`,
//   which every zypper resolves the same way.
// - Signatures: keys the recipe names are imported into the image's rpm database first (rpm
//   --import), which libzypp trusts for both repomd.xml and packages; `--gpg-auto-import-keys`
//   only when the recipe asks for it.
import path from "node:path";
import type { Action, Arg, PlannedCommand, Step } from "../steps/types.js";
import type { PackageContext, PackageManagerPlugin } from "./types.js";
import { copyIntoImage, runInImage } from "../steps/buildah.js";
import { argParts as parts } from "../steps/args.js";
import { cacheLeftovers, imageKey, listRpmPackages, listRpmPackagesInImage, repoFileActions, RPM_DBPATH, rpmHome, rpmMacrosAction, underRoot } from "./rpm.js";

/** SUSE keeps the rpm database in /usr/lib/sysimage/rpm, with /var/lib/rpm a symlink to it. */
const SUSE_DBPATH = "/usr/lib/sysimage/rpm";
/** rpm reads /etc/rpm/macros.*: how "no documentation" reaches a zypper run inside the image. */
const IMAGE_NODOCS_MACROS = "/etc/rpm/macros.bootsmith-nodocs";
const NODOCS_MACRO = "%_excludedocs 1";
/**
 * The host zypper's configuration: libzypp's defaults, so that whatever the build host has in
 * /etc/zypp/zypp.conf cannot change what a build does. (Settings about the target, such as
 * multiversion, libzypp reads from the root's own /etc/zypp instead.)
 */
const HOST_ZYPP_CONF = "[main]\n";

export const zypper: PackageManagerPlugin = {
  planInstall(ctx) {
    const p = ctx.packages;
    const steps: Step[] = [];
    if (p.repos.length > 0) {
      steps.push({
        id: "configure-repos",
        title: "Configure package repositories",
        actions: repoFileActions(ctx, { hostDir: hostRepoDir(ctx), imageDir: "/etc/zypp/repos.d", extraLines: zypperRepoLines }),
        produces: [],
      });
    }
    const actions: Action[] = [];
    if (ctx.installer === "host") {
      actions.push({ kind: "write-file", path: zyppConf(ctx), content: HOST_ZYPP_CONF, mode: 0o644 });
      actions.push(rpmMacrosAction(ctx, p.options.docs ? [] : [NODOCS_MACRO]));
      if (ctx.spec.from === "scratch") actions.push(...suseDatabaseLayout(ctx));
    } else if (!p.options.docs) {
      const file = path.join(ctx.workDir, "zypper-nodocs.macros");
      actions.push({ kind: "write-file", path: file, content: `${NODOCS_MACRO}\n`, mode: 0o644 });
      actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, file, IMAGE_NODOCS_MACROS, { mode: "0644" }) });
    }
    actions.push(...keyImports(ctx));
    const install = [...p.patterns.map((name) => `pattern() = ${name}`), ...p.install];
    if (install.length > 0) {
      actions.push({ kind: "exec", command: zypperCommand(ctx, ["refresh"]) });
      const recommends = p.options.weakDeps ? "--recommends" : "--no-recommends";
      // Non-interactive installs cannot confirm a licence; naming the package is the agreement.
      actions.push({
        kind: "exec",
        command: transaction(zypperCommand(ctx, ["--no-refresh", "install", "--auto-agree-with-licenses", recommends, ...install])),
      });
    }
    if (p.remove.length > 0) actions.push(...removeKeepingInstalled(ctx));
    if (ctx.installer === "image" && !p.options.docs) actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["rm", "-f", IMAGE_NODOCS_MACROS]) });
    steps.push({ id: "install-packages", title: "Install packages with zypper", actions, produces: [] });
    return steps;
  },

  // SLE 15 / Leap 15 keep the database in rpm's ndb format, which Debian's rpm cannot read: where
  // the image's zypper installed, the image's rpm lists.
  listPackages: (ctx) => (ctx.installer === "image" ? listRpmPackagesInImage(ctx) : listRpmPackages(ctx)),

  leftovers(ctx) {
    // zypper --root keeps the @System solv cache under the *host* cache path inside the root.
    const cache = cacheLeftovers(ctx, "zypp");
    return {
      paths: ["var/cache/zypp", "var/log/zypp", "var/log/zypper.log", "run/zypp.pid", cache.path],
      ifEmpty: ["etc/resolv.conf", "etc/hostname", "etc/hosts", ...cache.emptyParents],
    };
  },
};

/** zypper's global options, then the verb: on the host against the mount, or inside the image. */
function zypperCommand(ctx: PackageContext, verbAndArgs: Arg[]): PlannedCommand {
  const o = ctx.packages.options;
  const common: Arg[] = ["--non-interactive", ...(o.nogpgcheck ? ["--no-gpg-checks"] : []), ...(o.gpgAutoImportKeys ? ["--gpg-auto-import-keys"] : [])];
  // libzypp takes its proxy from the environment (curl's variables).
  const proxy: Record<string, string> = o.proxy ? { http_proxy: o.proxy, https_proxy: o.proxy, ftp_proxy: o.proxy } : {};
  if (ctx.installer === "image") return runInImage(ctx.buildah, ["zypper", ...common, ...verbAndArgs], proxy);
  return {
    file: "zypper",
    args: [
      "--root",
      ctx.root,
      // Only the recipe's repositories: never the host's or the image's /etc/zypp/repos.d.
      "--reposd-dir",
      hostRepoDir(ctx),
      "--cache-dir",
      path.join(ctx.cacheDir, "zypp"),
      ...(ctx.packages.release ? ["--releasever", ctx.packages.release] : []),
      ...common,
      ...verbAndArgs,
    ],
    // HOME: rpm's macros (database path, documentation); the log stays with the build, not in the host's /var/log.
    env: { HOME: rpmHome(ctx), ZYPP_CONF: zyppConf(ctx), ZYPP_LOGFILE: path.join(ctx.workDir, "zypper.log"), ...proxy },
  };
}

/**
 * zypper's exit code when a package's scriptlet (%post, %preun …) failed and rpm went on
 * (ZYPPER_EXIT_INF_RPM_SCRIPT_FAILED): the package is installed, rpm's line is under
 * "Additional rpm output:". Reported as dnf's are (warnOn), not as a failed command that says
 * only "exited with code 107".
 */
const RPM_SCRIPT_FAILED = 107;

/** A zypper command that runs an rpm transaction: a failed scriptlet is a warning naming it. */
function transaction(command: PlannedCommand): PlannedCommand {
  return { ...command, acceptExitCodes: [RPM_SCRIPT_FAILED], warnOn: "rpm-scriptlets" };
}

/** zypper's package locks, read from the root (--root) or the image; addlock needs its directory. */
const LOCKS_FILE = "/etc/zypp/locks";

/**
 * zypper remove also removes what depends on the packages named, silently (as dnf remove does):
 * removing a library would take a package install: asks for with it. The install: names are
 * locked for the remove, so zypper's solver refuses (exit 4): "Problem: fixture-hello requires
 * fixture-libgreet ... Solution 1: remove lock ...", naming both; the locks are removed after.
 * (--no-clean-deps is about unneeded dependencies, not dependents; measured with zypper 1.14.42,
 * a locksfile.path in the host's ZYPP_CONF is not read with --root.) A lock the parent image
 * already had on one of these names goes with them. removelock leaves an empty locks file, which
 * locks nothing (a file the image may have had before, so it stays).
 */
function removeKeepingInstalled(ctx: PackageContext): Action[] {
  const p = ctx.packages;
  const keep = lockableNames(p.install);
  const remove: Action = { kind: "exec", command: transaction(zypperCommand(ctx, ["--no-refresh", "remove", ...p.remove])) };
  if (keep.length === 0) return [remove];
  const mkdir: PlannedCommand =
    ctx.installer === "image"
      ? runInImage(ctx.buildah, ["mkdir", "-p", path.dirname(LOCKS_FILE)])
      : { file: "mkdir", args: ["-p", underRoot(ctx, path.dirname(LOCKS_FILE))] };
  return [
    { kind: "exec", command: mkdir },
    { kind: "exec", command: zypperCommand(ctx, ["addlock", ...keep]) },
    remove,
    { kind: "exec", command: zypperCommand(ctx, ["removelock", ...keep]) },
  ];
}

/** install: entries that are package names (not capabilities such as `name >= 1` or file paths): what a lock can name. */
const lockableNames = (install: readonly string[]) => install.filter((name) => /^[A-Za-z0-9][\w.+-]*$/.test(name));

/** From scratch: the database in SUSE's place, reachable through /var/lib/rpm as on SUSE. */
function suseDatabaseLayout(ctx: PackageContext): Action[] {
  const relative = path.relative(path.dirname(RPM_DBPATH), SUSE_DBPATH);
  return [
    { kind: "exec", command: { file: "mkdir", args: ["-p", underRoot(ctx, SUSE_DBPATH), underRoot(ctx, path.dirname(RPM_DBPATH))] } },
    { kind: "exec", command: { file: "ln", args: ["-s", relative, underRoot(ctx, RPM_DBPATH)] } },
  ];
}

/** The recipe's signing keys, trusted by importing them into the image's rpm database. */
function keyImports(ctx: PackageContext): Action[] {
  const actions: Action[] = [];
  for (const repo of ctx.packages.repos) {
    if (repo.gpgkey === undefined) continue;
    const command: PlannedCommand =
      ctx.installer === "image"
        ? runInImage(ctx.buildah, ["rpm", "--import", imageKey(repo) ?? repo.gpgkey])
        : { file: "rpm", args: [["--root=", ...parts(ctx.root)], `--dbpath=${RPM_DBPATH}`, "--import", repo.gpgkey], env: { HOME: rpmHome(ctx) } };
    actions.push({ kind: "exec", command });
  }
  return actions;
}

/**
 * autorefresh: local repositories change between builds and the cache is shared. With gpgcheck
 * libzypp checks only repomd.xml's signature and trusts the packages through its checksums, and
 * metadata already verified (for another build, under its keys) is not checked again: checking
 * every package against the keys in *this* image's rpm database is what makes a wrong key fail.
 */
function zypperRepoLines(gpgcheck: boolean): string[] {
  return ["autorefresh=1", "type=rpm-md", ...(gpgcheck ? ["repo_gpgcheck=1", "pkg_gpgcheck=1"] : [])];
}

const hostRepoDir = (ctx: PackageContext) => path.join(ctx.workDir, "zypp.repos.d");
const zyppConf = (ctx: PackageContext) => path.join(ctx.workDir, "zypp.conf");
