// Directory sums, pruning for the chart, and the largest-directories list.
import { describe, expect, it } from "vitest";
import { largestDirectories, pruneTree, sizeTree } from "../../src/lifecycle/size-tree.js";

const files: [string, number][] = [
  ["/usr/lib/modules/6.1/kernel/a.ko", 600],
  ["/usr/lib/modules/6.1/kernel/b.ko", 300],
  ["/usr/bin/bash", 80],
  ["/usr/bin/ls", 20],
  ["/etc/motd", 5],
  ["/etc/hosts", 4],
  ["/vmlinuz", 1],
];

describe("sizeTree", () => {
  it("sums files into every directory above them, as du does", () => {
    const tree = sizeTree(files);
    expect(tree).toMatchObject({ path: "/", bytes: 1010, files: 7 });
    expect(tree.children.map((c) => [c.path, c.bytes, c.files])).toEqual([
      ["/usr", 1000, 4],
      ["/etc", 9, 2],
    ]);
    expect(tree.children[0]!.children.map((c) => [c.path, c.bytes])).toEqual([
      ["/usr/lib", 900],
      ["/usr/bin", 100],
    ]);
  });
});

describe("pruneTree", () => {
  it("merges a chain of single directories into one node and stops at maxDepth", () => {
    const pruned = pruneTree(sizeTree(files), { maxDepth: 2, minShare: 0, maxChildren: 10 });
    const lib = pruned.children[0]!.children[0]!;
    // /usr/lib holds only modules/6.1/kernel: one box named by the chain, at the level of lib.
    expect(lib).toMatchObject({ name: "lib/modules/6.1/kernel", path: "/usr/lib/modules/6.1/kernel", bytes: 900, children: [] });
  });

  it("folds children under minShare, and past maxChildren, into one '(N smaller)' node with their sum", () => {
    const pruned = pruneTree(sizeTree(files), { maxDepth: 3, minShare: 0.05, maxChildren: 10 });
    expect(pruned.children.map((c) => [c.name, c.bytes, c.folded ?? false])).toEqual([
      ["usr", 1000, false],
      ["(1 smaller)", 9, true],
    ]);
    const one = pruneTree(sizeTree(files), { maxDepth: 3, minShare: 0, maxChildren: 1 });
    expect(one.children[0]!.children.map((c) => [c.name, c.bytes])).toEqual([
      ["lib/modules/6.1/kernel", 900],
      ["(1 smaller)", 100],
    ]);
  });
});

describe("largestDirectories", () => {
  it("lists directories up to the depth asked, largest first", () => {
    expect(largestDirectories(sizeTree(files), 2, 3)).toEqual([
      { path: "/usr", bytes: 1000, files: 4 },
      { path: "/usr/lib", bytes: 900, files: 2 },
      { path: "/usr/bin", bytes: 100, files: 2 },
    ]);
  });
});
