// What a build may leave behind on the host: buildah working containers and mounts. Tests take
// a snapshot before a failing build and compare after.
import { readFileSync } from "node:fs";
import { execa } from "execa";

export interface HostSnapshot {
  readonly containers: readonly string[];
  readonly mounts: readonly string[];
}

export async function snapshotHost(prefix = "bootsmith-"): Promise<HostSnapshot> {
  const { stdout } = await execa("buildah", ["containers", "--format", "{{.ContainerName}}"]);
  const containers = stdout.split("\n").filter((n) => n.startsWith(prefix)).sort();
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes("/containers/storage/overlay/") || l.includes(prefix))
    .sort();
  return { containers, mounts };
}
