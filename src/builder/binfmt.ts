// Foreign-architecture builds: an arm64 image built on x86_64 runs its maintainer scripts,
// dracut and the recipe's commands as arm64 programs, which the kernel hands to qemu-user through
// binfmt_misc. This checks the three things that must hold (binfmt_misc mounted, the qemu entry
// registered with the F flag, a static binary of that architecture really runs) and says which
// command fixes the first that does not.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ARCHES, hostArch, type Arch } from "../core/arch.js";
import type { Reporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";
import type { HostCheck } from "./host.js";

export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

export interface BinfmtOptions {
  /** binfmt_misc's mount point (tests point it elsewhere). */
  readonly binfmtDir?: string;
  /** The build host's architecture (default: this process's). */
  readonly host?: Arch;
  readonly reporter: Reporter;
  readonly signal?: AbortSignal;
  /** fail (the build needs it) or warn (only arm64 recipes would). */
  readonly need: "fail" | "warn";
}

/** Debian's commands that install and enable qemu-user's binfmt entries. */
export function binfmtFix(arch: Arch): string {
  const entry = `qemu-${ARCHES[arch].qemu}`;
  return `apt-get install qemu-user-static binfmt-support arch-test && update-binfmts --enable ${entry}`;
}

export async function foreignArchCheck(arch: Arch, options: BinfmtOptions): Promise<HostCheck> {
  const id = `binfmt:${arch}`;
  const title = `${arch} emulation`;
  const host = options.host ?? hostArch();
  if (host === arch) return { id, title, status: "ok", detail: `native (${arch} host): no emulation needed` };
  const dir = options.binfmtDir ?? BINFMT_DIR;
  const status = options.need;
  const binfmtStatus = await readFile(path.join(dir, "status"), "utf8").catch(() => undefined);
  if (binfmtStatus === undefined)
    return {
      id,
      title,
      status,
      detail: `binfmt_misc is not mounted at ${dir}: ${arch} programs in the image cannot run on this ${host ?? process.arch} host`,
      fix: `mount -t binfmt_misc binfmt_misc ${dir} (as root; in a container the host or a --privileged container must allow it), then ${binfmtFix(arch)}`,
    };
  if (binfmtStatus.trim() !== "enabled") return { id, title, status, detail: `binfmt_misc at ${dir} is disabled`, fix: `echo 1 > ${path.join(dir, "status")}` };
  const entry = `qemu-${ARCHES[arch].qemu}`;
  const registration = await readFile(path.join(dir, entry), "utf8").catch(() => undefined);
  if (registration === undefined)
    return { id, title, status, detail: `no ${entry} entry in ${dir}: qemu-user is not registered for ${arch}`, fix: binfmtFix(arch) };
  if (!/^enabled$/m.test(registration)) return { id, title, status, detail: `${path.join(dir, entry)} is disabled`, fix: `update-binfmts --enable ${entry}` };
  const interpreter = /^interpreter (\S+)/m.exec(registration)?.[1] ?? "?";
  const flags = /^flags: ?(\S*)/m.exec(registration)?.[1] ?? "";
  // F: the kernel opens the interpreter at registration, so it is found inside a chroot (the
  // image's root) too; without it every arm64 program in buildah run / mmdebstrap fails.
  if (!flags.includes("F"))
    return {
      id,
      title,
      status,
      detail: `${entry} (${interpreter}) lacks the F flag: it cannot be found from inside the image's root`,
      fix: `apt-get install qemu-user-static (its entries carry F), then update-binfmts --enable ${entry}`,
    };
  // Registered is not enough: run a static program of that architecture (arch-test's own, the
  // test mmdebstrap makes before a foreign build).
  const debian = ARCHES[arch].debian;
  try {
    const { stdout } = await run(
      { file: "arch-test", args: [debian], timeoutMs: 30_000 },
      { step: "doctor", reporter: options.reporter, signal: options.signal },
      { quiet: true },
    );
    if (stdout.trim() !== `${debian}: ok`) throw new Error(stdout.trim());
  } catch (error) {
    const why = isCommandError(error) ? error.message.split("\n")[0] : (error as Error).message;
    return { id, title, status, detail: `${entry} is registered (${interpreter}) but a static ${arch} program does not run: ${why}`, fix: binfmtFix(arch) };
  }
  return { id, title, status: "ok", detail: `qemu-user via binfmt_misc (${interpreter}, flags ${flags}): a static ${arch} program runs` };
}
