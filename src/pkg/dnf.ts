// dnf: from scratch the host's dnf installs into the container's mount (--installroot); on a
// parent image it runs inside the image (its own dnf and config) unless the recipe asks for
// the host installer.
import path from "node:path";
import type { Arg, PlannedCommand, Step } from "../steps/types.js";
import type { PackageContext, PackageManagerPlugin } from "./types.js";
import { copyIntoImage, runInImage } from "../steps/buildah.js";
import { argParts as parts } from "../steps/args.js";

type Repo = PackageContext["packages"]["repos"][number];

/** Where EL systems keep the rpm database; Debian's rpm would otherwise use ~/.rpmdb. */
const RPM_DBPATH = "/var/lib/rpm";
const IMAGE_KEY_DIR = "/etc/pki/rpm-gpg";

export const dnf: PackageManagerPlugin = {
  planInstall(ctx) {
    const steps: Step[] = [];
    const repos = ctx.packages.repos;
    if (repos.length > 0) steps.push(repoStep(ctx));
    const install = [...ctx.packages.groups.map((g) => `@${g}`), ...ctx.packages.install];
    const run = (args: Arg[]): PlannedCommand => dnfCommand(ctx, args);
    const actions: Step["actions"][number][] = [];
    if (ctx.installer === "host") {
      actions.push({ kind: "write-file", path: rpmMacrosFile(ctx), content: `%_dbpath ${RPM_DBPATH}\n%_db_backend sqlite\n`, mode: 0o644 });
    }
    for (const mod of ctx.packages.modules.enable) actions.push({ kind: "exec", command: run(["module", "enable", mod]) });
    for (const mod of ctx.packages.modules.install) actions.push({ kind: "exec", command: run(["module", "install", mod]) });
    if (install.length > 0) actions.push({ kind: "exec", command: run(["install", ...install]) });
    if (ctx.packages.remove.length > 0) actions.push({ kind: "exec", command: run(["remove", ...ctx.packages.remove]) });
    steps.push({ id: "install-packages", title: "Install packages with dnf", actions, produces: [] });
    return steps;
  },

  listPackages(ctx) {
    return {
      file: "rpm",
      args: [["--root=", ...parts(ctx.root)], `--dbpath=${RPM_DBPATH}`, "-qa", "--qf", "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{VENDOR}\\n"],
      env: { HOME: rpmHome(ctx) },
    };
  },

  leftovers(ctx) {
    return {
      // dnf drops expired_repos.json under the *host* cachedir path inside the installroot.
      paths: ["var/cache/dnf", "var/log/dnf.log", "var/log/dnf.librepo.log", "var/log/dnf.rpm.log", "var/log/hawkey.log", path.join(ctx.cacheDir, "dnf").replace(/^\/+/, "")],
      ifEmpty: ["etc/resolv.conf", "etc/hostname", "etc/hosts"],
    };
  },
};

function dnfCommand(ctx: PackageContext, verbAndArgs: Arg[]): PlannedCommand {
  const o = ctx.packages.options;
  const common: Arg[] = [
    "-y",
    `--setopt=install_weak_deps=${o.weakDeps ? "True" : "False"}`,
    o.best ? "--best" : "--nobest",
    ...(o.docs ? [] : ["--setopt=tsflags=nodocs"]),
    ...(o.nogpgcheck ? ["--nogpgcheck"] : []),
    ...(o.proxy ? [`--setopt=proxy=${o.proxy}`] : []),
  ];
  if (ctx.installer === "image") {
    return runInImage(ctx.buildah, ["dnf", ...common, ...verbAndArgs]);
  }
  return {
    file: "dnf",
    args: [
      ["--installroot=", ...parts(ctx.root)],
      ...(ctx.packages.release ? [`--releasever=${ctx.packages.release}`] : []),
      // Only the recipe's repositories: never the host's /etc/yum.repos.d.
      `--setopt=reposdir=${hostRepoDir(ctx)}`,
      `--setopt=cachedir=${path.join(ctx.cacheDir, "dnf")}`,
      "--noplugins",
      ...common,
      ...verbAndArgs,
    ],
    // rpm reads ~/.rpmmacros: this is how %_dbpath reaches host dnf without touching /etc/rpm.
    env: { HOME: rpmHome(ctx) },
  };
}

/** Repo files: one copy for the host dnf (keys by host path), one inside the image (keys in /etc/pki). */
function repoStep(ctx: PackageContext): Step {
  const actions: Step["actions"][number][] = [];
  for (const repo of ctx.packages.repos) {
    const keyIsFile = repo.gpgkey !== undefined && !/^[a-z]+:\/\//.test(repo.gpgkey);
    const imageKey = keyIsFile ? `${IMAGE_KEY_DIR}/RPM-GPG-KEY-${repo.name}` : undefined;
    const hostFile = path.join(hostRepoDir(ctx), `${repo.name}.repo`);
    const imageFile = path.join(ctx.workDir, "image-repos", `${repo.name}.repo`);
    actions.push({ kind: "write-file", path: hostFile, content: repoFile(repo, repo.gpgkey && keyIsFile ? `file://${repo.gpgkey}` : repo.gpgkey, ctx), mode: 0o644 });
    actions.push({ kind: "write-file", path: imageFile, content: repoFile(repo, imageKey ? `file://${imageKey}` : repo.gpgkey, ctx), mode: 0o644 });
    if (imageKey && repo.gpgkey) actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, repo.gpgkey, imageKey, { mode: "0644" }) });
    actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, imageFile, `/etc/yum.repos.d/${repo.name}.repo`, { mode: "0644" }) });
  }
  return { id: "configure-repos", title: "Configure package repositories", actions, produces: [] };
}

function repoFile(repo: Repo, gpgkey: string | undefined, ctx: PackageContext): string {
  if (repo.content !== undefined) return repo.content.endsWith("\n") ? repo.content : `${repo.content}\n`;
  const gpgcheck = !ctx.packages.options.nogpgcheck && (repo.gpgcheck ?? gpgkey !== undefined);
  const lines = [`[${repo.name}]`, `name=${repo.name}`, `baseurl=${repo.baseurl}`, `enabled=${repo.enabled ? 1 : 0}`, `gpgcheck=${gpgcheck ? 1 : 0}`];
  if (gpgkey) lines.push(`gpgkey=${gpgkey}`);
  if (repo.priority !== undefined) lines.push(`priority=${repo.priority}`);
  return `${lines.join("\n")}\n`;
}

const hostRepoDir = (ctx: PackageContext) => path.join(ctx.workDir, "yum.repos.d");
const rpmHome = (ctx: PackageContext) => path.join(ctx.workDir, "rpm-home");
const rpmMacrosFile = (ctx: PackageContext) => path.join(rpmHome(ctx), ".rpmmacros");


