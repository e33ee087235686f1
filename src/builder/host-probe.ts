// Try buildah for real in a throw-away storage root next to the real one (same filesystem, so
// the answer holds for it): create a scratch container, mount it, write into it, and, when a
// static busybox is at hand, `buildah run` it with the chosen isolation. `buildah info` alone
// says yes to overlay even where mounting it fails.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CleanupStack } from "../exec/cleanup.js";
import type { Reporter } from "../exec/events.js";
import { isCommandError, run } from "../exec/run.js";

export interface ProbeResult {
  readonly driverError?: string;
  /** undefined when isolation was not tried (no static busybox, or the driver failed). */
  readonly isolationOk?: boolean;
  readonly isolationError?: string;
}

export interface ProbeOptions {
  readonly buildah: string;
  readonly driver: string;
  readonly isolation: string;
  /** Directory to create the temporary storage in (on the real storage root's filesystem). */
  readonly parent: string;
  /** A statically linked busybox to copy into the container for the `buildah run` test. */
  readonly busybox?: string;
  readonly reporter: Reporter;
  readonly signal?: AbortSignal;
}

/** A failure in one line: the message and the tool's last words, which usually name the cause. */
export function shortReason(error: unknown): string {
  if (isCommandError(error)) {
    const last = error.outputTail.filter((l) => l.trim()).at(-1);
    return last ? `${error.message}: ${last.trim()}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile("/proc/mounts", "utf8").catch(() => "");
  return table
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((target): target is string => target !== undefined && (target === dir || target.startsWith(dir + "/")))
    .reverse();
}

export async function probeBuildah(options: ProbeOptions): Promise<ProbeResult> {
  const ctx = { step: "host-probe", reporter: options.reporter, signal: options.signal };
  const cleanup = new CleanupStack();
  const dir = await mkdtemp(join(options.parent, ".bootsmith-probe-"));
  cleanup.push(`remove ${dir}`, async () => {
    // A driver that half-worked can leave a mount behind; rm -rf through it would fail (EBUSY).
    for (const target of await mountsUnder(dir)) {
      await run({ file: "umount", args: ["-l", target] }, ctx, { quiet: true }).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });
  const global = ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", options.driver];
  const buildah = (...args: string[]) => run({ file: options.buildah, args: [...global, ...args], timeoutMs: 60_000 }, ctx, { quiet: true });

  try {
    let container: string;
    try {
      container = (await buildah("from", "--quiet", "--name", "bootsmith-probe", "scratch")).stdout.trim();
      cleanup.push("remove the probe container", async () => {
        await buildah("rm", container).catch(() => {});
      });
      const mountpoint = (await buildah("mount", container)).stdout.trim();
      await writeFile(join(mountpoint, "bootsmith-probe"), "ok\n");
      await buildah("umount", container);
    } catch (error) {
      return { driverError: shortReason(error) };
    }
    if (!options.busybox) return {};
    try {
      await buildah("copy", "--quiet", container, options.busybox, "/bin/busybox");
      await buildah("run", "--isolation", options.isolation, container, "/bin/busybox", "true");
      return { isolationOk: true };
    } catch (error) {
      return { isolationOk: false, isolationError: shortReason(error) };
    }
  } finally {
    await cleanup.unwind((label, error) => {
      options.reporter.emit({ type: "message", level: "warn", text: `host probe cleanup "${label}" failed: ${shortReason(error)}` });
    });
  }
}
