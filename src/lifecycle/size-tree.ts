// Sizes of a file tree, summed per directory (what `du` would say of the unpacked tree): built
// from a rootfs or initramfs listing, then cut down to what a report can show.

export interface SizeNode {
  /** The last path component ("" for the root); a folded remainder is named "(N smaller)". */
  readonly name: string;
  /** Absolute path in the image ("/" for the root). */
  readonly path: string;
  /** Bytes of every file and symlink below (hard links count once per name, as `du -l`). */
  readonly bytes: number;
  readonly files: number;
  readonly children: readonly SizeNode[];
  /** True for the node standing in for the small children a pruned tree folded together. */
  readonly folded?: true;
}

interface MutableNode {
  name: string;
  path: string;
  bytes: number;
  files: number;
  children: Map<string, MutableNode>;
}

/** Sum `[path, bytes]` pairs of files (and symlinks) into a directory tree. */
export function sizeTree(files: Iterable<readonly [string, number]>): SizeNode {
  const root: MutableNode = { name: "", path: "/", bytes: 0, files: 0, children: new Map() };
  for (const [file, bytes] of files) {
    const parts = file.split("/").filter(Boolean);
    let node = root;
    node.bytes += bytes;
    node.files += 1;
    // Directories only: the file itself is not a node (a report shows directories).
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      let child = node.children.get(name);
      if (!child) {
        child = { name, path: `/${parts.slice(0, i + 1).join("/")}`, bytes: 0, files: 0, children: new Map() };
        node.children.set(name, child);
      }
      child.bytes += bytes;
      child.files += 1;
      node = child;
    }
  }
  return freeze(root);
}

function freeze(node: MutableNode): SizeNode {
  const children = [...node.children.values()].map(freeze).sort(bySize);
  return { name: node.name, path: node.path, bytes: node.bytes, files: node.files, children };
}

const bySize = (a: SizeNode, b: SizeNode) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1);

export interface PruneOptions {
  /** Levels of directories kept below the root. */
  readonly maxDepth: number;
  /** Children smaller than this share of the root are folded into one "(N smaller)" node. */
  readonly minShare: number;
  /** At most this many children per directory, the rest folded. */
  readonly maxChildren: number;
}

/** The tree a chart can draw: `maxDepth` levels, small or surplus children folded into one node. */
export function pruneTree(root: SizeNode, options: PruneOptions): SizeNode {
  const minBytes = root.bytes * options.minShare;
  const prune = (original: SizeNode, depth: number): SizeNode => {
    const node = mergeChain(original);
    if (depth >= options.maxDepth) return { ...node, children: [] };
    const kept: SizeNode[] = [];
    const rest: SizeNode[] = [];
    for (const child of node.children) (kept.length < options.maxChildren && child.bytes >= minBytes ? kept : rest).push(child);
    const children = kept.map((c) => prune(c, depth + 1));
    // Files directly in this directory are part of its size but of no child: they show as the
    // space the children leave free, so only directories are folded here.
    if (rest.length > 0) {
      children.push({
        name: `(${rest.length} smaller)`,
        path: `${node.path === "/" ? "" : node.path}/…`,
        bytes: rest.reduce((s, c) => s + c.bytes, 0),
        files: rest.reduce((s, c) => s + c.files, 0),
        children: [],
        folded: true,
      });
    }
    return { ...node, children };
  };
  return prune(root, 0);
}

/**
 * A directory whose only content is one directory is drawn as one box named by both
 * ("modules/6.1.0-amd64"), so a chain of single directories does not use up the levels.
 */
function mergeChain(node: SizeNode): SizeNode {
  let merged = node;
  while (merged.children.length === 1 && merged.children[0]!.bytes === merged.bytes && merged.children[0]!.files === merged.files && merged.name !== "") {
    const only = merged.children[0]!;
    merged = { ...only, name: `${merged.name}/${only.name}` };
  }
  return merged;
}

export interface DirectorySize {
  readonly path: string;
  readonly bytes: number;
  readonly files: number;
}

/** The `count` largest directories at most `maxDepth` levels deep, largest first (as `du -d N | sort -h`). */
export function largestDirectories(root: SizeNode, maxDepth: number, count: number): DirectorySize[] {
  const all: DirectorySize[] = [];
  const walk = (node: SizeNode, depth: number) => {
    if (depth > maxDepth) return;
    if (depth > 0) all.push({ path: node.path, bytes: node.bytes, files: node.files });
    for (const child of node.children) walk(child, depth + 1);
  };
  walk(root, 0);
  return all.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, count);
}
