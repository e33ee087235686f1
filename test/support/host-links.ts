// Hostile images for build tests: images whose etc/resolv.conf and etc/hosts are symlinks to
// files on the build host. A recipe cannot plant these (buildah run mounts its own resolv.conf
// and hosts over the image's while a command runs), but any image pulled from elsewhere can have
// them, so tests make them with buildah directly.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";

/** Bytes and mtime of each file: what "untouched" means. */
export function fingerprint(files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, existsSync(f) ? `${statSync(f).mtimeMs} ${readFileSync(f).toString("base64")}` : "absent"]));
}

/** Host files the links name, with content a leak would show: resolv (absolute link), hosts (relative, climbing out). */
export interface HostTargets {
  readonly resolv: string;
  readonly hosts: string;
  /** Strings of the host files' content that must not appear in anything the image saw. */
  readonly markers: readonly string[];
}

export function writeHostTargets(dir: string): HostTargets {
  const resolv = path.join(dir, "host-resolv-linked.conf");
  const hosts = path.join(dir, "host-hosts-linked");
  writeFileSync(resolv, "nameserver 192.0.2.54 # host file, must stay as is\n");
  writeFileSync(hosts, "192.0.2.1 host-only # host file, must stay as is\n");
  return { resolv, hosts, markers: ["192.0.2.54", "host-only"] };
}

/**
 * Commit `from` as `to` with etc/resolv.conf an absolute link to targets.resolv and etc/hosts a
 * relative link that climbs out of the root to targets.hosts; `prepare` may change the root first.
 */
export async function commitWithHostLinks(from: string, to: string, targets: HostTargets, prepare?: (root: string) => void): Promise<void> {
  const container = (await execa("buildah", ["from", "--pull=never", from])).stdout.trim();
  try {
    const root = (await execa("buildah", ["mount", container])).stdout.trim();
    prepare?.(root);
    for (const f of ["etc/resolv.conf", "etc/hosts"]) rmSync(path.join(root, f), { force: true });
    await execa("ln", ["-s", targets.resolv, path.join(root, "etc/resolv.conf")]);
    await execa("ln", ["-s", `../../../../../../../../..${targets.hosts}`, path.join(root, "etc/hosts")]);
    await execa("buildah", ["commit", "--quiet", container, to]);
  } finally {
    await execa("buildah", ["rm", container], { reject: false });
  }
}

/** The content of a file inside a committed image. */
export async function readInImage(image: string, inner: string): Promise<string> {
  return withImageRoot(image, (root) => readFileSync(path.join(root, inner), "utf8"));
}

/** Read a committed image's files through a temporary working container, removed again after. */
export async function withImageRoot<T>(image: string, read: (root: string) => T): Promise<T> {
  const container = (await execa("buildah", ["from", "--pull=never", image])).stdout.trim();
  try {
    const root = (await execa("buildah", ["mount", container])).stdout.trim();
    return read(root);
  } finally {
    await execa("buildah", ["rm", container], { reject: false });
  }
}

/** A recipe command that records what the image sees in the two files (a refusal is fine). */
export const RECORD_SEEN = "cat /etc/resolv.conf /etc/hosts > /tmp/seen 2>&1 || true";
