// What an image holds besides the packages its database lists, for the SBOMs: the kernel modules
// built in it (kernelModules: DKMS or a source tree), the files its recipes copied in (files:),
// and the steps that changed it in ways nothing records (commands:, Ansible, OpenSCAP
// remediation, an external base image's own files), so the SBOMs do not claim to be complete.
// Read from the finished root: the hashes are those of what ships. A layer holds its parents'
// modules and files too, so the whole chain of recipes is walked, the root-most first.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { firstLine } from "../../core/format.js";
import { makeRedactor } from "../../core/redact.js";
import type { RunContext } from "../../exec/run.js";
import type { LoadedRecipe } from "../../recipe/load.js";
import { outOfTreeModules } from "../kernel-modules.js";
import { resolveInRoot } from "../rootfs-path.js";

export interface SbomModule {
  /** Module name (modinfo's name, else the file's). */
  readonly name: string;
  /** modinfo's version (MODULE_VERSION), else its srcversion (a digest of the source). */
  readonly version?: string;
  /** The kernel release it was built for (the selected kernel: vermagic was checked against it). */
  readonly kernel: string;
  readonly vermagic?: string;
  /** The module's path in the image, /lib/modules/KVER/…. */
  readonly path: string;
  readonly sha256: string;
  /** modinfo's license, as the module declares it. */
  readonly license?: string;
  /** How it got there. */
  readonly origin: string;
}

export interface SbomFile {
  /** Path in the image. */
  readonly path: string;
  readonly sha1: string;
  readonly sha256: string;
  /** How it got there: the recipe entry that copied or wrote it. */
  readonly origin: string;
}

export interface ImageContents {
  readonly modules: readonly SbomModule[];
  readonly files: readonly SbomFile[];
  /** Steps that changed the image beyond what the SBOM lists (each named, secrets hidden). */
  readonly unlisted: readonly string[];
}

export const NO_CONTENTS: ImageContents = { modules: [], files: [], unlisted: [] };

/** The recipe and its parents, the root-most first. */
function chainOf(recipe: LoadedRecipe): LoadedRecipe[] {
  const chain: LoadedRecipe[] = [];
  for (let r: LoadedRecipe | undefined = recipe; r; r = r.parent) chain.unshift(r);
  return chain;
}

export async function imageContents(root: string, recipe: LoadedRecipe, kernel: string | undefined, ctx: RunContext): Promise<ImageContents> {
  const chain = chainOf(recipe);
  const redact = makeRedactor(recipe.secrets);
  return {
    modules: kernel ? await builtModules(root, chain, kernel, ctx) : [],
    files: await copiedFiles(root, chain),
    unlisted: unlistedChanges(chain).map(redact),
  };
}

async function builtModules(root: string, chain: readonly LoadedRecipe[], kver: string, ctx: RunContext): Promise<SbomModule[]> {
  // The nearest layer that built each kind: DKMS installs under updates/, kbuild's
  // INSTALL_MOD_DIR=extra under extra/ (plan/kernel-modules.ts).
  const dkms = chain.findLast((r) => (r.spec.kernelModules?.dkms.length ?? 0) > 0);
  const build = chain.findLast((r) => r.spec.kernelModules?.build !== undefined);
  return (await outOfTreeModules(root, kver, ctx)).map((m): SbomModule => {
    const under = m.file.split("/")[0];
    const origin =
      under === "updates" && dkms
        ? `built in the image by DKMS (dkms autoinstall -k ${kver}) from ${dkms.spec.kernelModules!.dkms.join(", ")} (kernelModules.dkms of recipe ${dkms.spec.name})`
        : under === "extra" && build
          ? `built in the image from the source ${build.spec.kernelModules!.build!.src} with kbuild against linux-headers-${kver} (kernelModules.build of recipe ${build.spec.name})`
          : `found under /lib/modules/${kver}/${under}: installed by a package or a command, not by a kernelModules step`;
    const version = m.modinfo.get("version") ?? m.modinfo.get("srcversion");
    const vermagic = m.modinfo.get("vermagic")?.trim();
    const license = m.modinfo.get("license");
    return {
      name: m.modinfo.get("name") ?? m.name,
      ...(version ? { version } : {}),
      kernel: kver,
      ...(vermagic ? { vermagic } : {}),
      path: `/lib/modules/${kver}/${m.file}`,
      sha256: m.sha256,
      ...(license ? { license } : {}),
      origin,
    };
  });
}

async function copiedFiles(root: string, chain: readonly LoadedRecipe[]): Promise<SbomFile[]> {
  // By path: a later layer's copy replaces an earlier one's.
  const byPath = new Map<string, SbomFile>();
  for (const r of chain) {
    for (const [i, f] of r.spec.files.entries()) {
      const src = r.fileSources.get(i);
      const origin = `files[${i}] of recipe ${r.spec.name}: ${f.src !== undefined ? `copied from ${f.src}` : "written from its content"}`;
      // buildah copy: a directory's contents go into dest; a file into dest, or dest/NAME when dest
      // ends in /. For a directory, the files it holds are looked up (dest may well be "/").
      const inners =
        src !== undefined && r.directorySources.has(i)
          ? relativeFiles(src).map((rel) => path.posix.join(f.dest, rel))
          : [f.dest.endsWith("/") && src !== undefined ? path.posix.join(f.dest, path.basename(src)) : f.dest];
      for (const inner of inners) {
        const host = resolveInRoot(root, inner);
        // Gone or replaced by a later step (which the unlisted changes name): not listed.
        if (!existsSync(host) || !lstatSync(host).isFile()) continue;
        byPath.set(inner, { path: inner, ...(await hashFile(host)), origin });
      }
    }
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The regular files below a host directory, relative to it, as posix paths; symlinks are not followed. */
function relativeFiles(dir: string, prefix = ""): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      return e.isDirectory() ? relativeFiles(dir, rel) : e.isFile() ? [rel] : [];
    });
}

async function hashFile(file: string): Promise<{ sha1: string; sha256: string }> {
  const sha1 = createHash("sha1");
  const sha256 = createHash("sha256");
  for await (const chunk of createReadStream(file)) {
    sha1.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { sha1: sha1.digest("hex"), sha256: sha256.digest("hex") };
}

/** What changed the image without a record the SBOM could list. */
function unlistedChanges(chain: readonly LoadedRecipe[]): string[] {
  const out: string[] = [];
  for (const r of chain) {
    const spec = r.spec;
    if (spec.from !== "scratch" && "image" in spec.from) out.push(`base image ${spec.from.image}: files outside its package database`);
    for (const [i, c] of spec.commands.entries()) {
      const what = c.ansible
        ? `ansible playbook ${c.ansible.playbook}`
        : c.run
          ? `run: ${c.run.join(" ")}`
          : `script: ${truncate(firstLine(c.script ?? ""), 80)}${(c.script ?? "").trim().includes("\n") ? " …" : ""}`;
      out.push(`commands[${i}] of recipe ${spec.name}${c.name ? ` (${c.name})` : ""}: ${what}`);
    }
    if (spec.scan?.openscap?.remediate) out.push(`scan.openscap.remediate of recipe ${spec.name}: the OpenSCAP content's fixes`);
  }
  return out;
}

/** Why an image's SBOM is not complete, naming the steps (both formats say it in these words). */
export function unlistedText(unlisted: readonly string[]): string {
  return `Not complete: these steps changed the image beyond the packages, kernel modules and files listed here: ${unlisted.join("; ")}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
