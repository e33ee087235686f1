// What a build may leave behind on the host: buildah working containers and overlay mounts.
// Tests snapshot before a failing build and compare after. Only this test's containers (by
// name prefix) count, and mounts that belong to a live container (another build running at the
// same time) are not leaks.
import { readFileSync } from "node:fs";
import { execa } from "execa";

export interface HostSnapshot {
  readonly containers: readonly string[];
  readonly mounts: readonly string[];
}

async function liveMountpoints(): Promise<Set<string>> {
  const { stdout } = await execa("buildah", ["mount"]);
  return new Set(
    stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[1])
      .filter((p): p is string => Boolean(p)),
  );
}

/** Containers whose name starts with `prefix`, and overlay mounts no live container owns. */
export async function snapshotHost(prefix = "bootsmith-"): Promise<HostSnapshot> {
  const { stdout } = await execa("buildah", ["containers", "--format", "{{.ContainerName}}"]);
  const containers = stdout
    .split("\n")
    .filter((n) => n.startsWith(prefix))
    .sort();
  const owned = await liveMountpoints();
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((mp) => mp.includes("/containers/storage/overlay/") && !owned.has(mp))
    .sort();
  return { containers, mounts };
}
