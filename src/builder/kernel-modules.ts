// Out-of-tree kernel modules must be built for the kernel that boots, never for the build host's:
// a module whose vermagic names another kernel fails to load on the node ("disagrees about
// version of symbol", "Exec format error") long after the image was published. After DKMS or a
// source build (and depmod), every module under lib/modules/KVER/updates and /extra is read: its
// .modinfo vermagic must start with KVER, and modules.dep must list it.
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { BootsmithError, EXIT } from "../core/errors.js";
import { run, type RunContext } from "../exec/run.js";
import { elfSection } from "./elf.js";
import { decompressor } from "./initramfs.js";
import { resolveInRoot } from "./rootfs-path.js";
import { sha256File } from "../core/hash.js";

export class KernelModuleError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.failed, options);
    this.name = "KernelModuleError";
  }
}

/** Where DKMS (updates/dkms) and kbuild's modules_install (INSTALL_MOD_DIR=extra) put out-of-tree modules. */
export const OUT_OF_TREE_DIRS = ["updates", "extra"] as const;

const MODULE_FILE = /\.ko(\.xz|\.zst|\.gz)?$/;

export interface CheckedModule {
  /** Path relative to lib/modules/KVER, as modules.dep names it. */
  readonly file: string;
  readonly vermagic: string;
}

/** The key=value entries of a module's .modinfo section (the module file as bytes, uncompressed); the first of a repeated key. */
export function modinfoOf(module: Buffer): Map<string, string> {
  const info = new Map<string, string>();
  const modinfo = elfSection(module, ".modinfo");
  if (!modinfo) return info;
  for (const entry of modinfo.toString("latin1").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0 && !info.has(entry.slice(0, eq))) info.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return info;
}

/** The `vermagic=` value of a module's .modinfo section (the module file as bytes, uncompressed). */
export function vermagicOf(module: Buffer): string | undefined {
  return modinfoOf(module).get("vermagic");
}

export interface OutOfTreeModule {
  /** Path relative to lib/modules/KVER, as modules.dep names it. */
  readonly file: string;
  /** Module name (the file's name without .ko[.xz|.zst|.gz]). */
  readonly name: string;
  /** sha256 of the file as the image holds it (compressed, when it is). */
  readonly sha256: string;
  /** Its .modinfo entries (version, srcversion, vermagic, license, …). */
  readonly modinfo: ReadonlyMap<string, string>;
}

/** The out-of-tree modules (updates/, extra/) of kernel `kver` in the image at `root`, with their hashes and .modinfo; none when the kernel has no /lib/modules. */
export async function outOfTreeModules(root: string, kver: string, ctx: RunContext): Promise<OutOfTreeModule[]> {
  const modulesDir = resolveInRoot(root, `/lib/modules/${kver}`);
  const files = OUT_OF_TREE_DIRS.flatMap((d) => moduleFiles(path.join(modulesDir, d), modulesDir));
  const modules: OutOfTreeModule[] = [];
  for (const file of files) {
    const full = path.join(modulesDir, file);
    modules.push({ file, name: moduleName(file), sha256: await sha256File(full), modinfo: modinfoOf(await readModule(full, ctx)) });
  }
  return modules;
}

/** A module file's bytes; .ko.xz and .ko.zst are decompressed by the host's xz/zstd (in a private temporary directory). */
async function readModule(file: string, ctx: RunContext): Promise<Buffer> {
  if (file.endsWith(".ko")) return readFileSync(file);
  if (file.endsWith(".gz")) return gunzipSync(readFileSync(file));
  const tool = decompressor(file.endsWith(".xz") ? "xz" : "zstd");
  const tmp = mkdtempSync(path.join(os.tmpdir(), "bootsmith-module-"));
  try {
    const input = path.join(tmp, `module.ko${tool.ext}`);
    const output = path.join(tmp, "module.ko");
    copyFileSync(file, input);
    await run({ file: tool.tool, args: tool.args(input, output) }, ctx);
    return readFileSync(output);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Module files below `dir` (a host path), relative to `base`; symlinks are not followed. */
function moduleFiles(dir: string, base: string): string[] {
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...moduleFiles(full, base));
    else if (entry.isFile() && MODULE_FILE.test(entry.name)) out.push(path.relative(base, full));
  }
  return out.sort();
}

/**
 * Check the out-of-tree modules of kernel `kver` in the image at `root`: there is at least one,
 * each was built for `kver` and modules.dep lists it. Throws KernelModuleError (exit 1) naming
 * every module that fails, and the kernel it was built for.
 */
export async function checkKernelModules(root: string, kver: string, ctx: RunContext): Promise<CheckedModule[]> {
  const modulesDir = resolveInRoot(root, `/lib/modules/${kver}`);
  if (!existsSync(modulesDir)) throw new KernelModuleError(`the image has no /lib/modules/${kver}: kernel ${kver} is not installed in it`);
  const files = OUT_OF_TREE_DIRS.flatMap((d) => moduleFiles(path.join(modulesDir, d), modulesDir));
  if (files.length === 0)
    throw new KernelModuleError(
      `no kernel module was installed for kernel ${kver} (nothing under /lib/modules/${kver}/${OUT_OF_TREE_DIRS.join(" or /")}): the DKMS packages or the module source built nothing for it; see the dkms/make output above`,
    );
  const depFile = path.join(modulesDir, "modules.dep");
  const listed = new Set(
    existsSync(depFile)
      ? readFileSync(depFile, "utf8")
          .split("\n")
          .map((l) => l.slice(0, l.indexOf(":")))
      : [],
  );
  const checked: CheckedModule[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const where = `/lib/modules/${kver}/${file}`;
    const vermagic = vermagicOf(await readModule(path.join(modulesDir, file), ctx));
    if (vermagic === undefined) {
      problems.push(`${where} has no vermagic (not a kernel module: no .modinfo section with vermagic=)`);
      continue;
    }
    const builtFor = vermagic.split(" ")[0] ?? "";
    if (builtFor !== kver) problems.push(`module ${moduleName(file)} (${where}) was built for kernel ${builtFor}, not ${kver} (vermagic "${vermagic.trim()}")`);
    else if (!listed.has(file))
      problems.push(`module ${moduleName(file)} (${where}) is not in modules.dep: depmod -a ${kver} has not run since it was installed`);
    checked.push({ file, vermagic });
  }
  if (problems.length > 0)
    throw new KernelModuleError(`${problems.length} kernel module(s) do not fit the selected kernel ${kver}:\n  ${problems.join("\n  ")}`, {});
  return checked;
}

function moduleName(file: string): string {
  return path.basename(file).replace(MODULE_FILE, "");
}
