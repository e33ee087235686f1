// apt: from scratch mmdebstrap builds the root directly in the container's mount (using the
// host's apt sources unless the recipe names repositories); on a parent image apt-get runs
// inside the image.
import path from "node:path";
import type { Action, Step } from "../steps/types.js";
import type { PackageContext, PackageManagerPlugin } from "./types.js";
import { copyIntoImage, runInImage } from "../steps/buildah.js";

const DEBIAN_ARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };
const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };

/**
 * While packages install, Debian's kernel postinst hook would build a generic initramfs we throw
 * away (~2 min): divert it to a no-op and restore it afterwards. Constant strings, run by
 * mmdebstrap with the target as $1; no recipe value is ever part of them.
 */
const DIVERT_DRACUT_HOOK =
  'mkdir -p "$1/etc/kernel/postinst.d"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.disabled --add /etc/kernel/postinst.d/dracut; printf "#!/bin/sh\\nexit 0\\n" > "$1/etc/kernel/postinst.d/dracut"; chmod 755 "$1/etc/kernel/postinst.d/dracut"';
const RESTORE_DRACUT_HOOK = 'rm -f "$1/etc/kernel/postinst.d/dracut"; chroot "$1" dpkg-divert --quiet --local --rename --remove /etc/kernel/postinst.d/dracut';

const NO_DOCS = ["path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*", "path-exclude=/usr/share/info/*"];

export const apt: PackageManagerPlugin = {
  planInstall(ctx) {
    return ctx.installer === "host" ? fromScratch(ctx) : onParent(ctx);
  },

  listPackages(ctx) {
    return {
      file: "dpkg-query",
      args: [["--admindir=", ...(typeof ctx.root === "string" ? [ctx.root] : ctx.root), "/var/lib/dpkg"], "-W", "-f=${Package}\\t\\t${Version}\\t\\t${Architecture}\\n"],
    };
  },

  leftovers: () => ({
    paths: ["var/cache/apt/archives/*.deb", "var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin", "var/lib/apt/lists/*", "var/log/apt/term.log", "var/log/apt/history.log"],
    ifEmpty: ["etc/resolv.conf", "etc/hostname", "etc/hosts"],
  }),
};

function fromScratch(ctx: PackageContext): Step[] {
  const p = ctx.packages;
  const o = p.options;
  const actions: Action[] = [];
  const mirrors: string[] = [];
  if (o.mirror) mirrors.push(o.mirror);
  p.repos.forEach((repo) => {
    if (repo.content !== undefined) {
      const file = path.join(ctx.workDir, "apt-sources", `${repo.name}.sources`);
      actions.push({ kind: "write-file", path: file, content: repo.content, mode: 0o644 });
      mirrors.push(file);
    } else {
      const signed = repo.gpgkey ? ` [signed-by=${repo.gpgkey}]` : "";
      mirrors.push(`deb${signed} ${repo.baseurl} ${repo.suite ?? p.release} ${(repo.components ?? ["main"]).join(" ")}`);
    }
  });
  if (mirrors.length === 0) mirrors.push(...ctx.hostAptSources);
  const args = [
    "--mode=root",
    `--variant=${o.variant}`,
    `--architectures=${DEBIAN_ARCH[ctx.spec.arch] ?? ctx.spec.arch}`,
    ...(o.weakDeps ? [] : ['--aptopt=APT::Install-Recommends "false"']),
    ...(o.docs ? [] : NO_DOCS.map((d) => `--dpkgopt=${d}`)),
    ...(o.proxy ? [`--aptopt=Acquire::http::Proxy "${o.proxy}"`] : []),
    ...(o.nogpgcheck ? ['--aptopt=Acquire::AllowInsecureRepositories "true"', '--aptopt=APT::Get::AllowUnauthenticated "true"'] : []),
    ...(p.install.length > 0 ? [`--include=${p.install.join(",")}`] : []),
    ...(ctx.bootArtifacts ? [`--essential-hook=${DIVERT_DRACUT_HOOK}`, `--customize-hook=${RESTORE_DRACUT_HOOK}`] : []),
    p.release ?? "stable",
  ];
  actions.push({ kind: "exec", command: { file: "mmdebstrap", args: [...args, ctx.root, ...mirrors] } });
  if (p.remove.length > 0) actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "purge", "-y", ...p.remove], APT_ENV) });
  return [{ id: "install-packages", title: "Install packages with mmdebstrap", actions, produces: [] }];
}

function onParent(ctx: PackageContext): Step[] {
  const p = ctx.packages;
  const actions: Action[] = [];
  for (const repo of p.repos) {
    const file = path.join(ctx.workDir, "apt-sources", `${repo.name}.sources`);
    const content = repo.content ?? `Types: deb\nURIs: ${repo.baseurl}\nSuites: ${repo.suite ?? p.release ?? "stable"}\nComponents: ${(repo.components ?? ["main"]).join(" ")}\n${repo.gpgkey ? `Signed-By: ${repo.gpgkey}\n` : ""}`;
    actions.push({ kind: "write-file", path: file, content, mode: 0o644 });
    actions.push({ kind: "exec", command: copyIntoImage(ctx.buildah, file, `/etc/apt/sources.list.d/${repo.name}.sources`, { mode: "0644" }) });
  }
  const aptOpts = [...(p.options.weakDeps ? [] : ["--no-install-recommends"]), ...(p.options.proxy ? ["-o", `Acquire::http::Proxy=${p.options.proxy}`] : [])];
  actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", ...aptOpts, "update"], APT_ENV) });
  if (p.install.length > 0) actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "install", "-y", ...aptOpts, ...p.install], APT_ENV) });
  if (p.remove.length > 0) actions.push({ kind: "exec", command: runInImage(ctx.buildah, ["apt-get", "purge", "-y", ...p.remove], APT_ENV) });
  return [{ id: "install-packages", title: "Install packages with apt-get", actions, produces: [] }];
}
