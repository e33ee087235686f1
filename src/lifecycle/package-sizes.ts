// Installed size per package, from the image's own package database inside rootfs.squashfs,
// read without mounting or unpacking the image: dpkg's status file is streamed out with
// `unsquashfs -cat`; an rpm database (sqlite or bdb, a binary store rpm must open itself) is
// extracted alone into a temporary directory and queried with the host's `rpm --dbpath`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isCommandError, run, type RunContext } from "../exec/run.js";
import { silentReporter } from "../exec/events.js";
import { LifecycleError } from "./errors.js";
import type { RootfsListing } from "./rootfs-listing.js";

export interface PackageSize {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  /** Installed size in bytes, as the package database records it (dpkg: Installed-Size KiB × 1024). */
  readonly bytes: number;
}

export interface PackageSizes {
  readonly database: "dpkg" | "rpm";
  /** Largest first. */
  readonly packages: readonly PackageSize[];
}

const DPKG_STATUS = "/var/lib/dpkg/status";
/** Where images keep the rpm database: EL's real directory, SUSE's (and new Fedora's) sysimage. */
const RPM_DIRS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
const RPM_DB_FILES = ["rpmdb.sqlite", "Packages", "Packages.db"];
/** rpm prints the epoch only when there is one, as the manifest's versions do. */
const RPM_QUERY = "%{NAME}\\t%{ARCH}\\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\\t%{SIZE}\\n";

type Ctx = Pick<RunContext, "signal">;

/** The image's package sizes, or undefined when it has no dpkg or rpm database. */
export async function readPackageSizes(squashfs: string, listing: RootfsListing, ctx: Ctx = {}): Promise<PackageSizes | undefined> {
  if (listing.get(DPKG_STATUS)?.type === "file") {
    const status = await unsquashfs(["-cat", squashfs, DPKG_STATUS.slice(1)], ctx, squashfs);
    return { database: "dpkg", packages: bySize(parseDpkgStatus(status)) };
  }
  const rpmDir = RPM_DIRS.map((d) => resolveInListing(listing, d)).find(
    (d) => d !== undefined && RPM_DB_FILES.some((f) => listing.get(`${d}/${f}`)?.type === "file"),
  );
  if (rpmDir === undefined) return undefined;
  const work = await mkdtemp(path.join(tmpdir(), "bootsmith-rpmdb-"));
  try {
    const dest = path.join(work, "root");
    await unsquashfs(["-q", "-n", "-no-xattrs", "-d", dest, squashfs, rpmDir.slice(1)], ctx, squashfs);
    const dbpath = path.join(dest, rpmDir);
    // HOME points at the empty work directory so no ~/.rpmmacros changes where rpm looks.
    const result = await runQuiet({ file: "rpm", args: [`--dbpath=${dbpath}`, "-qa", "--qf", RPM_QUERY], env: { HOME: work } }, ctx).catch((error: unknown) => {
      throw new LifecycleError(`${squashfs}: cannot read the image's rpm database (${rpmDir}) with the host's rpm: ${describe(error)}`, { cause: error });
    });
    return { database: "rpm", packages: bySize(parseRpmQuery(result)) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** dpkg's status file: the installed packages' stanzas (Installed-Size is in KiB). */
export function parseDpkgStatus(text: string): PackageSize[] {
  const packages: PackageSize[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!);
    }
    const name = fields.get("package");
    if (!name || !/\binstalled$/.test(fields.get("status") ?? "")) continue;
    packages.push({
      name,
      arch: fields.get("architecture") ?? "",
      version: fields.get("version") ?? "",
      bytes: Number(fields.get("installed-size") ?? 0) * 1024,
    });
  }
  return packages;
}

/** `rpm -qa --qf RPM_QUERY` output; rpm's imported keys (gpg-pubkey) are not packages. */
export function parseRpmQuery(text: string): PackageSize[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("gpg-pubkey\t"))
    .map((line) => {
      const [name = "", arch = "", version = "", size = "0"] = line.split("\t");
      return { name, arch, version, bytes: Number(size) || 0 };
    });
}

const bySize = (packages: PackageSize[]) => packages.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));

/** Follow symbolic links (SUSE: /var/lib/rpm -> ../../usr/lib/sysimage/rpm) through the listing. */
function resolveInListing(listing: RootfsListing, dir: string): string | undefined {
  let current = dir;
  for (let hops = 0; hops < 8; hops++) {
    const entry = listing.get(current);
    if (!entry) return undefined;
    if (entry.type === "dir") return current;
    if (entry.type !== "symlink" || entry.target === undefined) return undefined;
    current = path.posix.resolve(path.posix.dirname(current), entry.target);
  }
  return undefined;
}

async function unsquashfs(args: string[], ctx: Ctx, squashfs: string): Promise<string> {
  try {
    return await runQuiet({ file: "unsquashfs", args }, ctx);
  } catch (error) {
    throw new LifecycleError(`${squashfs}: cannot read the package database: ${describe(error)}`, { cause: error });
  }
}

async function runQuiet(cmd: { file: string; args: string[]; env?: Record<string, string> }, ctx: Ctx): Promise<string> {
  const result = await run(cmd, { step: "inspect", reporter: silentReporter, ...(ctx.signal ? { signal: ctx.signal } : {}) }, { quiet: true });
  return result.stdout;
}

const describe = (error: unknown) => (isCommandError(error) ? error.report : (error as Error).message);
