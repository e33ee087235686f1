// `bootsmith inspect DIR`: what makes an image big. Everything is read from the artifact
// directory without mounting or unpacking: the rootfs's directory table (unsquashfs -lln), its
// package database (package-sizes.ts), the initramfs's cpio listing, the manifest's artifacts.
// A registry image is read the way diff reads one (registry-facts.ts), without package sizes.
import { listInitramfs } from "../builder/initramfs.js";
import type { Manifest } from "../core/manifest.js";
import type { RegistryFactsOptions } from "./registry-facts.js";
import { loadImageDir } from "./image-dir.js";
import { readPackageSizes, type PackageSizes } from "./package-sizes.js";
import { listRootfs, type RootfsListing } from "./rootfs-listing.js";
import { largestDirectories, pruneTree, sizeTree, type DirectorySize, type SizeNode } from "./size-tree.js";

export interface TreeReport {
  /** Bytes of every file and symlink, uncompressed (what the tree takes unpacked, as `du -bl`). */
  readonly bytes: number;
  readonly files: number;
  /** Largest directories, up to 3 levels deep, largest first. */
  readonly largest: readonly DirectorySize[];
  /** The directory tree for a chart: 6 levels, children under 0.4 % of the total folded. */
  readonly tree: SizeNode;
}

export interface SizeReport {
  readonly name: string;
  readonly tags: readonly string[];
  /** Absent in an older bootsmith's or a hand-written manifest. */
  readonly builtAt?: string;
  readonly source: string;
  /** Each artifact as stored (compressed), from the manifest. */
  readonly artifacts: readonly { readonly role: string; readonly file: string; readonly bytes: number }[];
  readonly packages?: PackageSizes & { readonly bytes: number };
  /** Why package sizes are absent although the image has a rootfs (a registry image). */
  readonly packagesNotRead?: string;
  readonly rootfs?: TreeReport;
  readonly initramfs?: TreeReport;
}

const LARGEST = { depth: 3, count: 20 } as const;
const CHART = { maxDepth: 6, minShare: 0.004, maxChildren: 14 } as const;

/** "built TIME", or that the manifest does not say (an older bootsmith's, or written by hand). */
export const builtText = (builtAt: string | undefined): string => (typeof builtAt === "string" ? `built ${builtAt}` : "build time not recorded");

/** `source` names the image in the report (default `dir`; an s3:// image is read from a temporary copy). */
export async function inspectImage(dir: string, signal?: AbortSignal, source = dir): Promise<SizeReport> {
  const set = await loadImageDir(dir, dir, { readOnly: true });
  const byRole = new Map(set.artifacts.map((a) => [a.role, a.path]));
  const rootfsFile = byRole.get("rootfs");
  const initrdFile = byRole.get("initrd");
  const ctx = signal ? { signal } : {};

  let listing: RootfsListing | undefined;
  let packages: SizeReport["packages"];
  if (rootfsFile) {
    listing = await listRootfs(rootfsFile, ctx);
    const sizes = await readPackageSizes(rootfsFile, listing, ctx);
    if (sizes) packages = { ...sizes, bytes: sizes.packages.reduce((s, p) => s + p.bytes, 0) };
  }
  const initramfs = initrdFile ? (await listInitramfs(initrdFile)).entries.map((e) => ({ name: `/${e.name}`, mode: e.mode, size: e.size })) : undefined;
  return sizeReport(set.manifest, source, listing, initramfs, packages);
}

/**
 * An image in a registry, read as `bootsmith diff` reads one (registry-facts.ts: its layers as
 * tar streams, the manifest and initramfs the build put in it). It holds no rootfs.squashfs:
 * the rootfs tree is the layers' merged files, and package sizes are not read (they come from
 * the squashfs's package database).
 */
export async function inspectRegistryImage(spec: string, options: RegistryFactsOptions = {}): Promise<SizeReport> {
  // Loaded on demand, as diff does: only registry images need the layer reader.
  const { readRegistryFacts } = await import("./registry-facts.js");
  const facts = await readRegistryFacts(spec, options);
  const initramfs = facts.initramfs ? [...facts.initramfs.files].map(([name, e]) => ({ name, mode: e.mode, size: e.size })) : undefined;
  return {
    ...sizeReport(facts.manifest, spec, facts.rootfs, initramfs, undefined),
    packagesNotRead:
      "a registry image holds no rootfs.squashfs, whose package database gives the sizes; inspect the artifact directory or s3:// image for them",
  };
}

function sizeReport(
  m: Manifest,
  source: string,
  listing: RootfsListing | undefined,
  initramfsEntries: readonly { name: string; mode: number; size: number }[] | undefined,
  packages: SizeReport["packages"],
): SizeReport {
  const rootfs = listing ? treeReport(filesOf(listing)) : undefined;
  // cpio mode's type bits: regular file 0o100000, symlink 0o120000 (its size is the target's length).
  const initramfs = initramfsEntries
    ? treeReport(initramfsEntries.filter((e) => (e.mode & 0o170000) === 0o100000 || (e.mode & 0o170000) === 0o120000).map((e) => [e.name, e.size] as const))
    : undefined;
  return {
    name: m.name,
    tags: m.tags,
    builtAt: m.builtAt,
    source,
    artifacts: Object.entries(m.artifacts).flatMap(([role, a]) => (a ? [{ role, file: a.file, bytes: a.size }] : [])),
    ...(packages ? { packages } : {}),
    ...(rootfs ? { rootfs } : {}),
    ...(initramfs ? { initramfs } : {}),
  };
}

function* filesOf(listing: RootfsListing): Generator<readonly [string, number]> {
  for (const [file, entry] of listing) if (entry.type === "file" || entry.type === "symlink") yield [file, entry.size];
}

function treeReport(files: Iterable<readonly [string, number]>): TreeReport {
  const full = sizeTree(files);
  return {
    bytes: full.bytes,
    files: full.files,
    largest: largestDirectories(full, LARGEST.depth, LARGEST.count),
    tree: pruneTree(full, CHART),
  };
}
