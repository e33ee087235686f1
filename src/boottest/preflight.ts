// Boot preflight: cheap checks on the artifacts that catch images which cannot netboot, before a
// VM (boot-test) or a whole cluster (publish) finds out the slow way. Reads the files directly:
// the initramfs's cpio listing, the squashfs superblock, the kernel's boot header, the sizes.
import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ARTIFACT_FILES, isMultiArchManifest, MANIFEST_FILE, multiArchMessage, type Manifest } from "../core/manifest.js";
import { isCommandError, type RunContext } from "../exec/run.js";
import { DRACUT_MODULES_TXT, listInitramfs, type InitramfsListing } from "../builder/initramfs.js";
import { DEFAULT_KERNEL_SQUASHFS_COMPRESSORS, kernelSupports, readSquashfsSuperblock } from "./squashfs.js";
import { formatBytes } from "../core/format.js";
import type { Arch } from "../core/arch.js";

export type CheckStatus = "ok" | "warn" | "fail";

export type PreflightCheckId =
  "kernel-format" | "initramfs-live-modules" | "initramfs-squashfs-driver" | "squashfs-compression" | "initramfs-size" | "rootfs-size";

export interface PreflightCheck {
  readonly id: PreflightCheckId;
  readonly status: CheckStatus;
  readonly message: string;
}

export interface PreflightResult {
  /** False when any check failed; warnings do not make it false. */
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

export interface PreflightInput {
  readonly kernel?: string;
  readonly initramfs: string;
  readonly rootfs?: string;
  /** The kernel command line (template or filled in): `root=live:` makes the live modules required. */
  readonly params?: string;
  /** From manifest.kernel.squashfsCompressors; when absent the Debian kernel's list is assumed. */
  readonly squashfsCompressors?: readonly string[];
  /** RAM of the node (or VM) that will boot it; enables the rootfs-vs-RAM check. */
  readonly nodeMemoryMiB?: number;
  /** The image's architecture (manifest.arch), which decides the kernel formats that boot (default x86_64). */
  readonly arch?: Arch;
  /** For the zstd/xz/… decompressors. */
  readonly ctx?: RunContext;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * Sizes at which netbooting is known to break or get painful. iPXE on BIOS and many UEFI
 * firmwares load the initrd below 4 GiB with 32-bit sizes, and the x86 boot protocol's
 * initrd_addr_max is below 4 GiB on most kernels: a ≥ 4 GiB initramfs does not boot.
 */
export const NETBOOT_LIMITS = {
  initramfsFailBytes: 4 * GiB,
  /** Far above what a live initramfs needs (≈ 50–100 MB); usually a sign the root got packed in. */
  initramfsWarnBytes: 1 * GiB,
  /**
   * livenet downloads the whole squashfs into RAM before mounting it (the overlay's writes live
   * in RAM too): above half the node's RAM the system has little left to run in.
   */
  rootfsWarnRamFraction: 0.5,
} as const;

const LIVE_MODULES = {
  livenet: ["usr/sbin/livenetroot", "sbin/livenetroot"],
  "dmsquash-live": ["usr/sbin/dmsquash-live-root", "sbin/dmsquash-live-root"],
} as const;

type LiveModule = keyof typeof LIVE_MODULES;

export function usesLiveRoot(params: string | undefined): boolean {
  return params !== undefined && /(^|\s)root=live:/.test(params);
}

/** Run every check; a check that cannot read its file becomes a "fail" with the reason. */
export async function preflight(input: PreflightInput): Promise<PreflightResult> {
  const checks: PreflightCheck[] = [];
  if (input.kernel) checks.push(await checkKernel(input.kernel, input.arch ?? "x86_64"));

  let listing: InitramfsListing | undefined;
  try {
    listing = await listInitramfs(input.initramfs, { wantContents: [DRACUT_MODULES_TXT], ctx: input.ctx });
  } catch (error) {
    const hint = isCommandError(error) && error.hint ? ` (${error.hint})` : "";
    checks.push({ id: "initramfs-live-modules", status: "fail", message: `cannot read the initramfs ${input.initramfs}: ${(error as Error).message}${hint}` });
  }
  if (listing) checks.push(...checkLiveModules(listing, input.params));

  if (input.rootfs) checks.push(await checkSquashfs(input.rootfs, input.squashfsCompressors));
  checks.push(...(await checkSizes(input)));
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

/** Preflight an artifact directory as `build` leaves it, with manifest.json when present. */
export async function preflightArtifactDir(dir: string, options: { params?: string; nodeMemoryMiB?: number; ctx?: RunContext } = {}): Promise<PreflightResult> {
  const manifest = await readManifestIfPresent(dir);
  return preflight({
    kernel: path.join(dir, ARTIFACT_FILES.kernel),
    initramfs: path.join(dir, ARTIFACT_FILES.initrd),
    rootfs: path.join(dir, ARTIFACT_FILES.rootfs),
    params: options.params ?? manifest?.params,
    squashfsCompressors: manifest?.kernel?.squashfsCompressors,
    nodeMemoryMiB: options.nodeMemoryMiB,
    arch: manifestArch(manifest),
    ctx: options.ctx,
  });
}

export async function readManifestIfPresent(dir: string): Promise<Manifest | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message}); rebuild the image or restore the file`, { cause: error });
  }
  // The combined directory of a recipe built for several architectures boots nothing itself.
  if (isMultiArchManifest(value))
    throw new Error(multiArchMessage(dir, value, `boot-test one architecture's directory, e.g. ${path.join(dir, Object.keys(value.arches)[0] ?? "ARCH")}`));
  return value as Manifest;
}

/** The manifest's architecture when it is one bootsmith knows (older manifests: x86_64). */
export function manifestArch(manifest: Manifest | undefined): Arch {
  return manifest?.arch === "aarch64" ? "aarch64" : "x86_64";
}

export function formatPreflight(result: PreflightResult): string[] {
  return result.checks.map((c) => `${c.status.toUpperCase().padEnd(4)} ${c.id}: ${c.message}`);
}

/** What a kernel file is, from its first bytes; each architecture boots its own kinds. */
export type KernelFormat = "bzImage" | "arm64-image" | "arm64-efi-image" | "efi-zboot" | "gzip" | "unknown";

export function kernelFormat(head: Buffer): KernelFormat {
  const at = (offset: number, text: string) => head.length >= offset + text.length && head.toString("latin1", offset, offset + text.length) === text;
  // x86 boot protocol: "HdrS" at 0x202 marks a bzImage that iPXE and QEMU can load directly.
  if (at(0x202, "HdrS")) return "bzImage";
  // arm64 Image header (Documentation/arch/arm64/booting.rst): magic "ARM\x64" at 0x38; with the
  // EFI stub the file also starts with "MZ", so UEFI firmware and iPXE can start it as a PE image.
  if (at(0x38, "ARM\x64")) return at(0, "MZ") ? "arm64-efi-image" : "arm64-image";
  // CONFIG_EFI_ZBOOT: a PE image with "zimg" at 4 that decompresses its own payload.
  if (at(0, "MZ") && at(4, "zimg")) return "efi-zboot";
  // Debian's arm64 vmlinuz is a gzip-compressed Image: QEMU, GRUB and iPXE (≥ 1.21.1) unpack it.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  return "unknown";
}

const KERNEL_FORMATS: Record<Arch, { readonly ok: Partial<Record<KernelFormat, string>>; readonly expected: string }> = {
  x86_64: { ok: { bzImage: "an x86 bzImage" }, expected: 'no x86 boot header ("HdrS" at 0x202): not a bzImage, iPXE may refuse it' },
  aarch64: {
    ok: {
      "arm64-efi-image": "an arm64 Image with the EFI stub",
      "arm64-image": "an arm64 Image (no EFI stub: direct kernel boot or GRUB only, not UEFI/iPXE)",
      "efi-zboot": "an arm64 EFI zboot image",
      gzip: "a gzip-compressed arm64 Image (QEMU, GRUB and iPXE ≥ 1.21.1 unpack it; UEFI firmware alone cannot start it)",
    },
    expected: 'neither an arm64 Image ("ARM\\x64" at 0x38) nor a gzip-compressed or EFI zboot one',
  },
};

async function checkKernel(file: string, arch: Arch): Promise<PreflightCheck> {
  try {
    const fh = await open(file, "r");
    const head = Buffer.alloc(0x400);
    let bytes: number;
    try {
      ({ bytesRead: bytes } = await fh.read(head, 0, head.length, 0));
    } finally {
      await fh.close();
    }
    const format = kernelFormat(head.subarray(0, bytes));
    const rule = KERNEL_FORMATS[arch];
    const what = rule.ok[format];
    if (what) return { id: "kernel-format", status: "ok", message: `${path.basename(file)} is ${what}` };
    const other = (Object.keys(KERNEL_FORMATS) as Arch[]).find((a) => KERNEL_FORMATS[a].ok[format] !== undefined);
    return other
      ? { id: "kernel-format", status: "fail", message: `${path.basename(file)} is an ${other} kernel (${format}) but the image is ${arch}: it cannot boot` }
      : { id: "kernel-format", status: "warn", message: `${path.basename(file)} has ${rule.expected}` };
  } catch (error) {
    return { id: "kernel-format", status: "fail", message: `cannot read the kernel ${file}: ${(error as Error).message}` };
  }
}

function checkLiveModules(listing: InitramfsListing, params: string | undefined): PreflightCheck[] {
  const names = new Set(listing.entries.map((e) => e.name));
  const modulesTxt = listing.contents.get(DRACUT_MODULES_TXT);
  const listed = new Set((modulesTxt ?? "").split("\n").map((l) => l.trim()));
  const has = (m: LiveModule) => listed.has(m) || LIVE_MODULES[m].some((f) => names.has(f));
  const present = (Object.keys(LIVE_MODULES) as LiveModule[]).filter(has);
  const missing = (Object.keys(LIVE_MODULES) as LiveModule[]).filter((m) => !has(m));
  const evidence = modulesTxt !== undefined ? `dracut's ${DRACUT_MODULES_TXT}` : "the module's files (no modules.txt: not a dracut initramfs?)";
  const live = usesLiveRoot(params);
  const checks: PreflightCheck[] = [];

  if (missing.length === 0) {
    checks.push({ id: "initramfs-live-modules", status: "ok", message: `initramfs has ${present.join(" and ")} (from ${evidence})` });
  } else if (!live) {
    const why = params === undefined ? "no params known" : "params do not use root=live:";
    checks.push({ id: "initramfs-live-modules", status: "ok", message: `initramfs lacks ${missing.join(", ")}; not required (${why})` });
  } else {
    checks.push({
      id: "initramfs-live-modules",
      status: "fail",
      message:
        `params use root=live: but the initramfs lacks dracut's ${missing.join(" and ")} (checked ${evidence}); ` +
        `the node would stop in dracut waiting for its root. Build it with dracut --add "dmsquash-live livenet network network-legacy"`,
    });
  }
  if (live && has("livenet") && !names.has("usr/bin/curl") && !names.has("bin/curl")) {
    checks.push({
      id: "initramfs-live-modules",
      status: "fail",
      message: "livenet is in the initramfs but curl is not: livenet downloads the rootfs with curl",
    });
  }

  // dmsquash-live mounts the squashfs: the driver must be in the initramfs unless built into the kernel.
  const driver = listing.entries.find((e) => /(^|\/)squashfs\.ko(\.(xz|zst|gz))?$/.test(e.name));
  if (live) {
    checks.push(
      driver
        ? { id: "initramfs-squashfs-driver", status: "ok", message: `initramfs has the squashfs driver (${driver.name})` }
        : {
            id: "initramfs-squashfs-driver",
            status: "warn",
            message: "no squashfs.ko in the initramfs: fine only if the kernel has squashfs built in (CONFIG_SQUASHFS=y)",
          },
    );
  }
  return checks;
}

async function checkSquashfs(file: string, kernelList: readonly string[] | undefined): Promise<PreflightCheck> {
  try {
    const sb = await readSquashfsSuperblock(file);
    const list = kernelList ?? DEFAULT_KERNEL_SQUASHFS_COMPRESSORS;
    const source = kernelList ? "per the kernel config recorded in manifest.json" : `assumed Debian kernel list ${list.join(",")}; the manifest names none`;
    return kernelSupports(list, sb.compression)
      ? {
          id: "squashfs-compression",
          status: "ok",
          message: `rootfs is squashfs ${sb.versionMajor}.x with ${sb.compression}, which the kernel supports (${source})`,
        }
      : {
          id: "squashfs-compression",
          status: "fail",
          message: `rootfs is compressed with ${sb.compression} but the kernel's squashfs supports only ${list.join(", ")} (${source}); rebuild it with one of those`,
        };
  } catch (error) {
    return { id: "squashfs-compression", status: "fail", message: `cannot read the rootfs ${file}: ${(error as Error).message}` };
  }
}

async function checkSizes(input: PreflightInput): Promise<PreflightCheck[]> {
  const initrdSize = (await stat(input.initramfs).catch(() => undefined))?.size;
  const rootfsSize = input.rootfs ? (await stat(input.rootfs).catch(() => undefined))?.size : undefined;
  return sizeChecks({ initramfsBytes: initrdSize, rootfsBytes: rootfsSize, nodeMemoryMiB: input.nodeMemoryMiB });
}

/** The size rules alone (pure), so they can be tested without multi-GiB files. */
export function sizeChecks(sizes: { initramfsBytes?: number; rootfsBytes?: number; nodeMemoryMiB?: number }): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const { initramfsBytes, rootfsBytes, nodeMemoryMiB } = sizes;
  if (initramfsBytes !== undefined) {
    const human = formatBytes(initramfsBytes);
    if (initramfsBytes >= NETBOOT_LIMITS.initramfsFailBytes)
      checks.push({ id: "initramfs-size", status: "fail", message: `initramfs is ${human}: ≥ 4 GiB does not load on iPXE/BIOS and many UEFI firmwares` });
    else if (initramfsBytes >= NETBOOT_LIMITS.initramfsWarnBytes)
      checks.push({
        id: "initramfs-size",
        status: "warn",
        message: `initramfs is ${human}: large for a netboot initramfs (limit 4 GiB; live images usually need < 200 MB)`,
      });
    else checks.push({ id: "initramfs-size", status: "ok", message: `initramfs is ${human} (netboot limit 4 GiB)` });
  }
  if (rootfsBytes !== undefined) {
    const human = formatBytes(rootfsBytes);
    if (nodeMemoryMiB === undefined) {
      checks.push({ id: "rootfs-size", status: "ok", message: `rootfs is ${human}; livenet keeps it in RAM, so nodes need well over that much memory` });
    } else {
      const ram = nodeMemoryMiB * MiB;
      const share = rootfsBytes / ram;
      const base = `rootfs is ${human}, ${Math.round(share * 100)}% of the node's ${nodeMemoryMiB} MiB RAM (livenet keeps it in RAM)`;
      if (rootfsBytes + (initramfsBytes ?? 0) >= ram) checks.push({ id: "rootfs-size", status: "fail", message: `${base}: it cannot fit` });
      else if (share > NETBOOT_LIMITS.rootfsWarnRamFraction)
        checks.push({ id: "rootfs-size", status: "warn", message: `${base}: little memory left to run in` });
      else checks.push({ id: "rootfs-size", status: "ok", message: base });
    }
  }
  return checks;
}
