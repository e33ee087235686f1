// Kernel selection: the newest installed kernel by version (rpm/dpkg-style comparison), or the
// one the recipe names. Never directory order: image-builder's "first in /boot" picked old
// kernels after upgrades.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveInRoot } from "./rootfs-path.js";
import { BootsmithError, EXIT } from "../core/errors.js";

export class KernelSelectionError extends BootsmithError {
  constructor(message: string) {
    super(message, EXIT.failed);
    this.name = "KernelSelectionError";
  }
}

export interface SelectedKernel {
  readonly version: string;
  /** Path of the kernel image inside the image root (e.g. /boot/vmlinuz-6.1.0-28-amd64). */
  readonly image: string;
  /** squashfs compressors the kernel's config enables, when /boot/config-KVER exists. */
  readonly squashfsCompressors?: readonly string[];
}

/** rpmvercmp: compare alternating runs of digits (numerically) and letters; `~` sorts first. */
export function compareVersions(a: string, b: string): number {
  const tokens = (v: string) => v.match(/~|\d+|[A-Za-z]+/g) ?? [];
  const ta = tokens(a);
  const tb = tokens(b);
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === y) continue;
    if (x === "~") return -1;
    if (y === "~") return 1;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xNum = /^\d/.test(x);
    const yNum = /^\d/.test(y);
    if (xNum && yNum) {
      const diff = BigInt(x) - BigInt(y);
      if (diff !== 0n) return diff < 0n ? -1 : 1;
      continue;
    }
    // A numeric segment is newer than an alphabetic one (rpm's rule).
    if (xNum !== yNum) return xNum ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Kernel versions under /lib/modules (and /usr/lib/modules) that have a kernel image. */
export function installedKernels(root: string): { version: string; image: string }[] {
  const versions = new Set<string>();
  for (const dir of ["/lib/modules", "/usr/lib/modules"]) {
    const host = resolveInRoot(root, dir);
    if (existsSync(host)) for (const entry of readdirSync(host)) versions.add(entry);
  }
  const kernels: { version: string; image: string }[] = [];
  for (const version of versions) {
    const image = [`/boot/vmlinuz-${version}`, `/lib/modules/${version}/vmlinuz`].find((p) => existsSync(resolveInRoot(root, p)));
    if (image) kernels.push({ version, image });
  }
  return kernels.sort((a, b) => compareVersions(a.version, b.version));
}

export function selectKernel(root: string, wanted: string): SelectedKernel {
  const kernels = installedKernels(root);
  if (kernels.length === 0) {
    throw new KernelSelectionError(
      "no kernel is installed in the image (no /lib/modules/<version> with /boot/vmlinuz-<version> or /lib/modules/<version>/vmlinuz): install the distribution's kernel package (kernel, kernel-core, linux-image-amd64) or set boot: false for a layer without boot artifacts",
    );
  }
  const chosen = wanted === "newest" ? kernels[kernels.length - 1]! : kernels.find((k) => k.version === wanted);
  if (!chosen) {
    throw new KernelSelectionError(
      `boot.kernel is ${wanted}, but the image has ${kernels.map((k) => k.version).join(", ")}: name one of those or use "newest"`,
    );
  }
  return { ...chosen, squashfsCompressors: squashfsCompressors(root, chosen.version) };
}

const SQUASHFS_OPTIONS: Record<string, string> = { ZLIB: "gzip", LZ4: "lz4", LZO: "lzo", XZ: "xz", ZSTD: "zstd" };

function squashfsCompressors(root: string, version: string): string[] | undefined {
  const config = resolveInRoot(root, `/boot/config-${version}`);
  if (!existsSync(config)) return undefined;
  const text = readFileSync(config, "utf8");
  return Object.entries(SQUASHFS_OPTIONS)
    .filter(([opt]) => new RegExp(`^CONFIG_SQUASHFS_${opt}=y`, "m").test(text))
    .map(([, comp]) => comp);
}

/**
 * Select the kernel and record it in `recordFile` (JSON), where the manifest step reads it: the
 * build and a hand-run `bootsmith rootfs select-kernel` hand it on the same way.
 */
export function selectAndRecordKernel(root: string, wanted: string, recordFile: string): SelectedKernel {
  const kernel = selectKernel(root, wanted);
  mkdirSync(path.dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${JSON.stringify(kernel)}\n`);
  return kernel;
}

export function readKernelRecord(recordFile: string): SelectedKernel {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(recordFile, "utf8"));
  } catch (error) {
    throw new KernelSelectionError(
      `cannot read the kernel record ${recordFile} (written by \`bootsmith rootfs select-kernel … --record FILE\`): ${(error as Error).message}`,
    );
  }
  const k = value as Partial<SelectedKernel>;
  if (typeof k.version !== "string" || typeof k.image !== "string")
    throw new KernelSelectionError(`${recordFile}: not a kernel record (expected {version, image})`);
  return { version: k.version, image: k.image, ...(Array.isArray(k.squashfsCompressors) ? { squashfsCompressors: k.squashfsCompressors.map(String) } : {}) };
}
