// The difference between two images, as data: packages, rootfs files, initramfs files and dracut
// modules, kernel, params and artifact sizes. Pure: the facts are gathered elsewhere
// (image-facts.ts), the renderers (diff-render.ts) only format this.
import { ARTIFACT_FILES, type ArtifactRole, type Manifest } from "../core/manifest.js";
import { diffPackages, type PackageDiff } from "../core/package-diff.js";
import type { EntryType, RootfsListing } from "./rootfs-listing.js";

/** What is known about one side of a diff. Listings are absent when the artifact is. */
export interface ImageFacts {
  /** How the user named it (a path, s3://…), for headings. */
  readonly label: string;
  readonly manifest: Manifest;
  readonly rootfs?: RootfsListing;
  readonly initramfs?: { readonly files: ReadonlyMap<string, { readonly mode: number; readonly size: number }>; readonly dracutModules?: readonly string[] };
  /**
   * Artifacts this kind of source cannot hold: a registry image has no rootfs.squashfs (its files
   * come from the layers instead). Their sizes and bytes are not compared.
   */
  readonly notCarried?: readonly ArtifactRole[];
}

export interface Change<T> {
  readonly from: T;
  readonly to: T;
}

export interface FileChange {
  readonly path: string;
  /** Only the attributes that changed. */
  readonly type?: Change<EntryType>;
  readonly size?: Change<number>;
  /** Octal strings, e.g. "0644". */
  readonly mode?: Change<string>;
  /** "uid:gid". */
  readonly owner?: Change<string>;
  readonly target?: Change<string>;
}

export interface FileDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly FileChange[];
}

export interface ImageDiff {
  readonly from: { readonly label: string; readonly name: string; readonly tags: readonly string[]; readonly builtAt: string };
  readonly to: { readonly label: string; readonly name: string; readonly tags: readonly string[]; readonly builtAt: string };
  readonly kernel?: Change<string | null>;
  readonly params?: Change<string | null>;
  readonly artifacts: readonly {
    readonly role: ArtifactRole;
    readonly file: string;
    readonly from: number | null;
    readonly to: number | null;
    readonly sameBytes: boolean;
  }[];
  /** Artifacts one side cannot hold (a registry image's squashfs), with the side's label: not compared. */
  readonly notCompared?: readonly { readonly file: string; readonly missingIn: string }[];
  /** Absent when either side's manifest records no package list (see packagesNotRecordedIn). */
  readonly packages?: PackageDiff;
  /** The sides whose manifest has no `packages` (an older bootsmith's, or edited by hand). */
  readonly packagesNotRecordedIn?: readonly string[];
  /** Absent when either side has no rootfs.squashfs to list. */
  readonly rootfs?: FileDiff;
  readonly initramfs?: FileDiff;
  readonly dracutModules?: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

export function diffImages(a: ImageFacts, b: ImageFacts): ImageDiff {
  const side = (f: ImageFacts) => ({ label: f.label, name: f.manifest.name, tags: f.manifest.tags, builtAt: f.manifest.builtAt });
  const kernelA = a.manifest.kernel?.version ?? null;
  const kernelB = b.manifest.kernel?.version ?? null;
  const paramsA = a.manifest.params ?? null;
  const paramsB = b.manifest.params ?? null;
  const uncarried = (role: ArtifactRole) => [a, b].find((f) => f.notCarried?.includes(role));
  const roles = (Object.keys(ARTIFACT_FILES) as ArtifactRole[]).filter((role) => a.manifest.artifacts[role] || b.manifest.artifacts[role]);
  const notCompared = roles.flatMap((role) => {
    const side = uncarried(role);
    return side ? [{ file: ARTIFACT_FILES[role], missingIn: side.label }] : [];
  });
  const artifacts = roles
    .filter((role) => !uncarried(role))
    .map((role) => {
      const x = a.manifest.artifacts[role];
      const y = b.manifest.artifacts[role];
      return { role, file: (y ?? x)!.file, from: x?.size ?? null, to: y?.size ?? null, sameBytes: x !== undefined && y !== undefined && x.sha256 === y.sha256 };
    });
  // An older bootsmith's manifest, or one edited by hand, may lack the list: comparing it as
  // empty would report every package as added or removed.
  const packagesNotRecordedIn = [a, b].filter((f) => !Array.isArray(f.manifest.packages)).map((f) => f.label);
  const modulesA = a.initramfs?.dracutModules;
  const modulesB = b.initramfs?.dracutModules;
  return {
    from: side(a),
    to: side(b),
    ...(kernelA !== kernelB ? { kernel: { from: kernelA, to: kernelB } } : {}),
    ...(paramsA !== paramsB ? { params: { from: paramsA, to: paramsB } } : {}),
    artifacts,
    ...(notCompared.length > 0 ? { notCompared } : {}),
    ...(packagesNotRecordedIn.length === 0 ? { packages: diffPackages(a.manifest.packages, b.manifest.packages) } : { packagesNotRecordedIn }),
    ...(a.rootfs && b.rootfs ? { rootfs: diffRootfs(a.rootfs, b.rootfs) } : {}),
    ...(a.initramfs && b.initramfs ? { initramfs: diffInitramfs(a.initramfs.files, b.initramfs.files) } : {}),
    ...(modulesA && modulesB
      ? { dracutModules: { added: modulesB.filter((m) => !modulesA.includes(m)).sort(), removed: modulesA.filter((m) => !modulesB.includes(m)).sort() } }
      : {}),
  };
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

/**
 * Files added, removed, or changed in type, size, mode, owner or link target. A directory's size
 * is its squashfs directory table's and changes with every entry added to it, so it is not
 * compared (the entry itself is reported). Times are not compared: every build has new ones
 * unless SOURCE_DATE_EPOCH is set. A file rewritten with different bytes of the same length is
 * not visible in a listing (the artifact sha256 line shows the image changed).
 */
export function diffRootfs(a: RootfsListing, b: RootfsListing): FileDiff {
  return diffListings(a, b, (path, x, y) => {
    const change: { -readonly [K in keyof FileChange]: FileChange[K] } = { path };
    if (x.type !== y.type) change.type = { from: x.type, to: y.type };
    if (x.type !== "dir" && y.type !== "dir" && x.size !== y.size) change.size = { from: x.size, to: y.size };
    if (x.mode !== y.mode) change.mode = { from: octal(x.mode), to: octal(y.mode) };
    if (x.uid !== y.uid || x.gid !== y.gid) change.owner = { from: `${x.uid}:${x.gid}`, to: `${y.uid}:${y.gid}` };
    if ((x.target ?? y.target) !== undefined && x.target !== y.target) change.target = { from: x.target ?? "", to: y.target ?? "" };
    return Object.keys(change).length > 1 ? change : undefined;
  });
}

type InitramfsFiles = ReadonlyMap<string, { readonly mode: number; readonly size: number }>;

/** cpio entries: added, removed, changed in size or mode (directories' sizes are 0 in cpio). */
export function diffInitramfs(a: InitramfsFiles, b: InitramfsFiles): FileDiff {
  return diffListings(a, b, (path, x, y) => {
    const change: { -readonly [K in keyof FileChange]: FileChange[K] } = { path };
    if (x.size !== y.size) change.size = { from: x.size, to: y.size };
    if (x.mode !== y.mode) change.mode = { from: (x.mode & 0o177777).toString(8), to: (y.mode & 0o177777).toString(8) };
    return Object.keys(change).length > 1 ? change : undefined;
  });
}

function diffListings<E>(a: ReadonlyMap<string, E>, b: ReadonlyMap<string, E>, compare: (path: string, x: E, y: E) => FileChange | undefined): FileDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: FileChange[] = [];
  for (const [path, x] of a) {
    const y = b.get(path);
    if (y === undefined) removed.push(path);
    else {
      const change = compare(path, x, y);
      if (change) changed.push(change);
    }
  }
  for (const path of b.keys()) if (!a.has(path)) added.push(path);
  const byPath = (p: string, q: string) => (p < q ? -1 : p > q ? 1 : 0);
  return { added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort((p, q) => byPath(p.path, q.path)) };
}

export function isEmptyFileDiff(d: FileDiff | undefined): boolean {
  return d === undefined || d.added.length + d.removed.length + d.changed.length === 0;
}
