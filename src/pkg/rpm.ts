// What the RPM package managers (dnf, zypper) share: the rpm database's place and format for a
// host-side install, the package listing for the manifest, and the repository files (both read
// the same yum-style .repo format) with their signing keys.
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Action, Arg, PlannedCommand } from "../steps/types.js";
import type { PackageContext } from "./types.js";
import { copyIntoImage, runInImage } from "../steps/buildah.js";
import { argParts as parts } from "../steps/args.js";

type Repo = PackageContext["packages"]["repos"][number];

/** Where images keep the rpm database (a real directory on EL, a symlink on SUSE); Debian's rpm would otherwise use ~/.rpmdb. */
export const RPM_DBPATH = "/var/lib/rpm";
/** Where repository signing keys named by a file are copied inside the image. */
const IMAGE_KEY_DIR = "/etc/pki/rpm-gpg";

/** rpm reads ~/.rpmmacros: HOME pointing here is how %_dbpath reaches host dnf/zypper without touching /etc/rpm. */
export const rpmHome = (ctx: PackageContext) => path.join(ctx.workDir, "rpm-home");

/**
 * The macros a host-side install runs with: the database where the image expects it, in the
 * sqlite format (the only one Debian's rpm writes), plus the manager's own.
 */
export function rpmMacrosAction(ctx: PackageContext, extra: readonly string[] = []): Action {
  const lines = [`%_dbpath ${RPM_DBPATH}`, "%_db_backend sqlite", ...extra];
  return { kind: "write-file", path: path.join(rpmHome(ctx), ".rpmmacros"), content: `${lines.join("\n")}\n`, mode: 0o644 };
}

/** One package per line: name, epoch, version, release, arch, licence, vendor (the SBOM supplier). */
const PACKAGE_QUERY = ["-qa", "--qf", "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{VENDOR}\\n"];

/** The packages in the image's rpm database, read by the host's rpm. */
export function listRpmPackages(ctx: PackageContext): PlannedCommand {
  return { file: "rpm", args: [["--root=", ...parts(ctx.root)], `--dbpath=${RPM_DBPATH}`, ...PACKAGE_QUERY], env: { HOME: rpmHome(ctx) } };
}

/** The same, read by the image's own rpm: for databases in a format the host's rpm may not read. */
export function listRpmPackagesInImage(ctx: PackageContext): PlannedCommand {
  return runInImage(ctx.buildah, ["rpm", ...PACKAGE_QUERY]);
}

/** A key given as a file (not a URL) is copied into the image; URLs are used as they are. */
export function keyIsFile(gpgkey: string): boolean {
  return !/^[a-z]+:\/\//.test(gpgkey);
}

/** The key as the image sees it: its copy under /etc/pki/rpm-gpg, or the URL. */
export function imageKey(repo: Repo): string | undefined {
  if (repo.gpgkey === undefined) return undefined;
  return keyIsFile(repo.gpgkey) ? `${IMAGE_KEY_DIR}/RPM-GPG-KEY-${repo.name}` : repo.gpgkey;
}

export interface RepoFilesOptions {
  /** Host directory the host-side manager reads (its private reposdir). */
  readonly hostDir: string;
  /** The image's repository directory, e.g. /etc/yum.repos.d. */
  readonly imageDir: string;
  /** Lines added to every generated repository section (not to a recipe's own content), given whether signatures are checked. */
  readonly extraLines?: (gpgcheck: boolean) => readonly string[];
}

/**
 * Repo files: one copy for the host-side manager (keys by host path), one inside the image
 * (keys under /etc/pki/rpm-gpg, copied there).
 */
export function repoFileActions(ctx: PackageContext, opts: RepoFilesOptions): Action[] {
  const actions: Action[] = [];
  for (const repo of ctx.packages.repos) {
    const inImage = imageKey(repo);
    const hostFile = path.join(opts.hostDir, `${repo.name}.repo`);
    const imageFile = path.join(ctx.workDir, "image-repos", `${repo.name}.repo`);
    // A URL, not `file://` + path: dnf and zypper split gpgkey at spaces and commas, so a recipe
    // under "/srv/site images/" would name two keys, neither of which exists.
    const hostKey = repo.gpgkey && keyIsFile(repo.gpgkey) ? pathToFileURL(repo.gpgkey).href : repo.gpgkey;
    const extra = opts.extraLines ?? (() => []);
    actions.push({ kind: "write-file", path: hostFile, content: repoFile(repo, hostKey, ctx, extra), mode: 0o644 });
    actions.push({
      kind: "write-file",
      path: imageFile,
      content: repoFile(repo, inImage && keyIsFile(inImage) ? `file://${inImage}` : inImage, ctx, extra),
      mode: 0o644,
    });
    if (repo.gpgkey && inImage && keyIsFile(repo.gpgkey))
      actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, repo.gpgkey, inImage, { mode: "0644" }) });
    actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, imageFile, `${opts.imageDir}/${repo.name}.repo`, { mode: "0644" }) });
  }
  return actions;
}

function repoFile(repo: Repo, gpgkey: string | undefined, ctx: PackageContext, extraLines: (gpgcheck: boolean) => readonly string[]): string {
  if (repo.content !== undefined) return repo.content.endsWith("\n") ? repo.content : `${repo.content}\n`;
  const gpgcheck = !ctx.packages.options.nogpgcheck && (repo.gpgcheck ?? gpgkey !== undefined);
  const lines = [`[${repo.name}]`, `name=${repo.name}`, `baseurl=${repo.baseurl}`, `enabled=${repo.enabled ? 1 : 0}`, `gpgcheck=${gpgcheck ? 1 : 0}`];
  if (gpgkey) lines.push(`gpgkey=${gpgkey}`);
  if (repo.priority !== undefined) lines.push(`priority=${repo.priority}`);
  lines.push(...extraLines(gpgcheck));
  return `${lines.join("\n")}\n`;
}

/** The argv word for the image root joined with an absolute path inside it. */
export function underRoot(ctx: PackageContext, inside: string): Arg {
  return [...parts(ctx.root), inside];
}

/**
 * The cache a host-side install leaves inside the root: dnf and zypper create the *host* cache
 * path (`<cacheDir>/<sub>`) under the root too. The path goes, then the directories made on the
 * way to it while empty, deepest first: never a top-level directory nor one directly under
 * /var or /usr, which the image's own packages own (var/cache, usr/share, …).
 */
export function cacheLeftovers(ctx: PackageContext, sub: string): { readonly path: string; readonly emptyParents: readonly string[] } {
  const inRoot = path.join(ctx.cacheDir, sub).replace(/^\/+/, "");
  const emptyParents: string[] = [];
  for (let dir = path.dirname(inRoot); dir.includes("/"); dir = path.dirname(dir)) {
    if (/^(var|usr)\/[^/]+$/.test(dir)) break;
    emptyParents.push(dir);
  }
  return { path: inRoot, emptyParents };
}
