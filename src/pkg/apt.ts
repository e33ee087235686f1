// apt: from scratch mmdebstrap builds the root directly in the container's mount (using the
// host's apt sources unless the recipe names repositories); on a parent image apt-get runs
// inside the image.
import path from "node:path";
import type { Action, Step } from "../steps/types.js";
import type { PackageContext, PackageManagerPlugin } from "./types.js";
import { copyIntoImage, runInImage } from "../steps/buildah.js";
import { ARCHES } from "../core/arch.js";

export const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };

/**
 * Debian's kernel postinst hook (/etc/kernel/postinst.d/dracut, also run by dracut's own
 * `update-initramfs` trigger) would build a generic initramfs on every kernel or dracut install,
 * in any layer: minutes wasted, and with Debian's default modules it fails outright (network →
 * systemd-networkd → dbus). The initramfs that boots is built by the plan's own dracut step, so
 * while packages install the hook is diverted (dpkg-divert --rename) and replaced by a no-op
 * (dracut's trigger calls the path directly, so it must exist), and restored afterwards: the
 * committed image stays a normal Debian system whose later kernel installs run the real hook.
 */
const DRACUT_HOOK = "/etc/kernel/postinst.d/dracut";
const DIVERTED_HOOK = `${DRACUT_HOOK}.bootsmith-diverted`;
const NOOP_HOOK = "#!/bin/sh\n# bootsmith: the package-time initramfs is skipped while packages install\nexit 0\n";
const divertArgs = (action: "--add" | "--remove") => ["dpkg-divert", "--quiet", "--local", "--rename", "--divert", DIVERTED_HOOK, action, DRACUT_HOOK];

/** mmdebstrap hooks: constant strings run by mmdebstrap with the target as $1; no recipe value is ever part of them. */
const MMDEBSTRAP_DIVERT_HOOK = `mkdir -p "$1${path.posix.dirname(DRACUT_HOOK)}"; chroot "$1" ${divertArgs("--add").join(" ")}; printf '${NOOP_HOOK.replace(/\n/g, "\\n")}' > "$1${DRACUT_HOOK}"; chmod 755 "$1${DRACUT_HOOK}"`;
const MMDEBSTRAP_RESTORE_HOOK = `rm -f "$1${DRACUT_HOOK}"; chroot "$1" ${divertArgs("--remove").join(" ")}`;

const NO_DOCS = [
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/locale/*",
  "path-exclude=/usr/share/info/*",
];

export const apt: PackageManagerPlugin = {
  planInstall(ctx) {
    return ctx.installer === "host" ? fromScratch(ctx) : onParent(ctx);
  },

  listPackages(ctx) {
    return {
      file: "dpkg-query",
      args: [
        ["--admindir=", ...(typeof ctx.root === "string" ? [ctx.root] : ctx.root), "/var/lib/dpkg"],
        "-W",
        "-f=${Package}\\t\\t${Version}\\t\\t${Architecture}\\t\\t${Maintainer}\\n",
      ],
    };
  },

  leftovers: () => ({
    paths: [
      "var/cache/apt/archives/*.deb",
      "var/cache/apt/pkgcache.bin",
      "var/cache/apt/srcpkgcache.bin",
      "var/lib/apt/lists/*",
      "var/log/apt/term.log",
      "var/log/apt/history.log",
    ],
    ifEmpty: ["etc/resolv.conf", "etc/hostname", "etc/hosts"],
  }),
};

function fromScratch(ctx: PackageContext): Step[] {
  const p = ctx.packages;
  const o = p.options;
  const actions: Action[] = [];
  const mirrors: string[] = [];
  /** What puts the keyed repositories' image sources in place once mmdebstrap is done. */
  const imageSources: Action[] = [];
  const runSources: string[] = [];
  if (o.mirror) mirrors.push(o.mirror);
  p.repos.forEach((repo) => {
    if (repo.gpgkey !== undefined) {
      // mmdebstrap's apt runs on the host and reads the key where the recipe has it, but the
      // sources it leaves in the image are read later by apt inside the image (a child layer,
      // the booted node), which has no such path. So mmdebstrap gets a source of its own (a
      // file, which it writes to sources.list.d/NNNN<name>) that is removed afterwards, and
      // the image gets the key's copy and a source naming it, the same as on a parent.
      const run = path.join(ctx.workDir, "apt-sources", `${RUN_SOURCE_PREFIX}${repo.name}.sources`);
      actions.push({ kind: "write-file", path: run, content: repoSources(repo, p.release, repo.gpgkey), mode: 0o644 });
      mirrors.push(run);
      runSources.push(`etc/apt/sources.list.d/*${RUN_SOURCE_PREFIX}${repo.name}.sources`);
      imageSources.push(...repoSourcesInImage(ctx, repo));
    } else if (repo.content !== undefined) {
      const file = path.join(ctx.workDir, "apt-sources", `${repo.name}.sources`);
      actions.push({ kind: "write-file", path: file, content: repo.content, mode: 0o644 });
      mirrors.push(file);
    } else {
      mirrors.push(`deb ${repo.baseurl} ${repo.suite ?? p.release} ${(repo.components ?? ["main"]).join(" ")}`);
    }
  });
  if (mirrors.length === 0) mirrors.push(...ctx.hostAptSources);
  const aptCache = cacheablePath(path.join(ctx.cacheDir, "apt", "archives"));
  const args = [
    "--mode=root",
    `--variant=${o.variant}`,
    `--architectures=${ARCHES[ctx.spec.arch].debian}`,
    ...(o.weakDeps ? [] : ['--aptopt=APT::Install-Recommends "false"']),
    ...(o.docs ? [] : NO_DOCS.map((d) => `--dpkgopt=${d}`)),
    ...(o.proxy ? [`--aptopt=Acquire::http::Proxy "${o.proxy}"`] : []),
    ...(o.nogpgcheck ? ['--aptopt=Acquire::AllowInsecureRepositories "true"', '--aptopt=APT::Get::AllowUnauthenticated "true"'] : []),
    // With fixed-id accounts the recipe's packages wait until the accounts exist (below).
    ...(p.install.length > 0 && !ctx.accounts ? [`--include=${p.install.join(",")}`] : []),
    ...aptCacheHooks(aptCache),
    // The hook is diverted once the essential packages are in (dpkg-divert exists) and before
    // the kernel or dracut are unpacked; restored after everything is configured.
    ...(ctx.accounts ? [] : [`--essential-hook=${MMDEBSTRAP_DIVERT_HOOK}`, `--customize-hook=${MMDEBSTRAP_RESTORE_HOOK}`]),
    p.release ?? "stable",
  ];
  actions.push({ kind: "exec", command: { file: "mmdebstrap", args: [...args, ctx.root, ...mirrors] } });
  if (runSources.length > 0) actions.push({ kind: "clean-leftovers", root: ctx.root, paths: runSources, ifEmpty: [] }, ...imageSources);
  if (ctx.accounts) {
    // base-passwd (Essential) has written /etc/passwd and /etc/group; the accounts go in, then
    // apt-get inside the image installs the recipe's packages from the sources mmdebstrap left.
    const aptOpts = [...(p.options.weakDeps ? [] : ["--no-install-recommends"]), ...(p.options.proxy ? ["-o", `Acquire::http::Proxy=${p.options.proxy}`] : [])];
    const rest: Action[] = [{ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", ...aptOpts, "update"], APT_ENV) }, ...divertDracutHook(ctx)];
    if (p.install.length > 0) rest.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "install", "-y", ...aptOpts, ...p.install], APT_ENV) });
    if (p.remove.length > 0) rest.push(...purgeKeepingInstalled(ctx));
    rest.push(...restoreDracutHook(ctx));
    return [
      { id: "install-base", title: "Install the Essential base with mmdebstrap", actions, produces: [] },
      ctx.accounts,
      { id: "install-packages", title: "Install packages with apt-get", actions: rest, produces: [] },
    ];
  }
  if (p.remove.length > 0) actions.push(...purgeKeepingInstalled(ctx));
  return [{ id: "install-packages", title: "Install packages with mmdebstrap", actions, produces: [] }];
}

/** Where a repository's key file goes in the image: apt reads a .asc file as armored, any other as a binary keyring. */
function aptImageKey(repoName: string, key: string): string {
  return `/etc/apt/keyrings/bootsmith-${repoName}${path.extname(key) === ".asc" ? ".asc" : ".gpg"}`;
}

/** The name mmdebstrap's own source of a keyed repository starts with (it names the key's host path). */
const RUN_SOURCE_PREFIX = "bootsmith-run-";

type Repo = PackageContext["packages"]["repos"][number];

/** The repository's deb822 source: its content: (each stanza signed by the key) or one generated from baseurl. */
function repoSources(repo: Repo, release: string | undefined, signedBy: string | undefined): string {
  if (repo.content !== undefined) return signedBy ? withSignedBy(repo.content, signedBy) : repo.content;
  const components = (repo.components ?? ["main"]).join(" ");
  return `Types: deb\nURIs: ${repo.baseurl}\nSuites: ${repo.suite ?? release ?? "stable"}\nComponents: ${components}\n${signedBy ? `Signed-By: ${signedBy}\n` : ""}`;
}

/**
 * A deb822 file with `Signed-By: key` added to each stanza: apt reads Signed-By per stanza
 * (sources.list(5)), so a stanza without it would be checked against the host's whole trusted
 * keyring instead. Stanzas are separated by blank lines; a paragraph of comments only is no
 * stanza. (The recipe's check refuses a content: that names keys of its own beside gpgkey.)
 */
function withSignedBy(content: string, key: string): string {
  const paragraphs = content.split(/\n(?:[ \t]*\n)+/);
  return paragraphs
    .map((para) => {
      const isStanza = para.split("\n").some((line) => line.trim() !== "" && !line.startsWith("#"));
      if (!isStanza) return para;
      const body = para.replace(/\n+$/, "");
      return `${body}\nSigned-By: ${key}${para.endsWith("\n") ? "\n" : ""}`;
    })
    .join("\n\n");
}

/**
 * The repository's source in the image's sources.list.d, as apt inside the image reads it: a key
 * file on the build host is copied in and Signed-By names the copy.
 */
function repoSourcesInImage(ctx: PackageContext, repo: Repo): Action[] {
  const actions: Action[] = [];
  const file = path.join(ctx.workDir, "apt-sources", `${repo.name}.sources`);
  // The recipe's check allows no URL here: apt takes a key as a file (Signed-By).
  const imageKey = repo.gpgkey !== undefined ? aptImageKey(repo.name, repo.gpgkey) : undefined;
  if (imageKey) actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, repo.gpgkey!, imageKey, { mode: "0644" }) });
  const content = repoSources(repo, ctx.packages.release, imageKey);
  actions.push({ kind: "write-file", path: file, content, mode: 0o644 });
  actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, file, `/etc/apt/sources.list.d/${repo.name}.sources`, { mode: "0644" }) });
  return actions;
}

function onParent(ctx: PackageContext): Step[] {
  const p = ctx.packages;
  const actions: Action[] = p.repos.flatMap((repo) => repoSourcesInImage(ctx, repo));
  const aptOpts = [...(p.options.weakDeps ? [] : ["--no-install-recommends"]), ...(p.options.proxy ? ["-o", `Acquire::http::Proxy=${p.options.proxy}`] : [])];
  actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", ...aptOpts, "update"], APT_ENV) });
  actions.push(...divertDracutHook(ctx));
  if (p.install.length > 0) actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "install", "-y", ...aptOpts, ...p.install], APT_ENV) });
  if (p.remove.length > 0) actions.push(...purgeKeepingInstalled(ctx));
  actions.push(...restoreDracutHook(ctx));
  return [{ id: "install-packages", title: "Install packages with apt-get", actions, produces: [] }];
}

/**
 * apt-get purge also removes what depends on the packages named, silently: removing a library
 * would take a package install: asks for with it. The install: names are held for the purge, so
 * apt's resolver refuses (exit 100): "hello : Depends: libgreet but it is not going to be
 * installed ... generated breaks, this may be caused by held packages", naming both; they are
 * unheld after (dpkg's selection back to install, as before). A hold the parent image already
 * had on one of these names goes with them.
 */
function purgeKeepingInstalled(ctx: PackageContext): Action[] {
  const p = ctx.packages;
  const purge: Action = { kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "purge", "-y", ...p.remove], APT_ENV) };
  // apt-get install's NAME=VERSION and NAME/RELEASE select a version; the package is NAME.
  const keep = [...new Set(p.install.map((entry) => entry.replace(/[=/].*$/, "")))];
  if (keep.length === 0) return [purge];
  return [
    { kind: "exec", command: runInImage(ctx.buildah, ["apt-mark", "hold", ...keep]) },
    purge,
    { kind: "exec", command: runInImage(ctx.buildah, ["apt-mark", "unhold", ...keep]) },
  ];
}

/** Inside the image (apt-get on a parent): divert the hook, then put the no-op in its place. */
function divertDracutHook(ctx: PackageContext): Action[] {
  const noop = path.join(ctx.workDir, "apt-hooks", "dracut-noop");
  return [
    { kind: "exec", command: runInImage(ctx.buildah, divertArgs("--add")) },
    { kind: "write-file", path: noop, content: NOOP_HOOK, mode: 0o755 },
    { kind: "exec", command: copyIntoImage(ctx.buildah, noop, DRACUT_HOOK, { mode: "0755" }) },
  ];
}

/** Remove the no-op and rename the package's hook (if any) back; the diversion is gone from the image. */
function restoreDracutHook(ctx: PackageContext): Action[] {
  return [
    { kind: "exec", command: runInImage(ctx.buildah, ["rm", "-f", DRACUT_HOOK]) },
    { kind: "exec", command: runInImage(ctx.buildah, divertArgs("--remove")) },
  ];
}

/**
 * Downloaded .debs are kept between builds in the cache directory (as dnf's are, keepcache): copied into the
 * new root before apt runs and back out after (mmdebstrap's documented sync-in/sync-out recipe;
 * essential/unlink keeps the essential packages' files until then). Builds run in parallel (graph
 * --jobs) share the directory, so both copies hold an flock on CACHE.lock: mmdebstrap's own
 * sync-in tars the directory and fails ("file changed as we read it") while another build's
 * sync-out writes to it. The hooks run with sh, so a cache path with other characters than
 * letters, digits and ./+-_ is not used.
 */
function aptCacheHooks(cache: string | undefined): string[] {
  if (!cache) return [];
  const lock = `${cache}.lock`;
  return [
    "--skip=essential/unlink",
    `--setup-hook=mkdir -p ${cache} "$1/var/cache/apt/archives" && flock ${lock} cp -a ${cache}/. "$1/var/cache/apt/archives/"`,
    `--customize-hook=flock ${lock} cp -a "$1/var/cache/apt/archives/." ${cache}/`,
  ];
}

function cacheablePath(p: string): string | undefined {
  return /^[\w./+-]+$/.test(p) ? p : undefined;
}
