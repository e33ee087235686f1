// The iPXE script a test node boots from: the same shape OpenCHAMI BSS generates for
// `/boot/v1/bootscript?mac=…`, so boot-test exercises the path real nodes take.
import { BootsmithError, EXIT } from "../core/errors.js";

export interface IpxeScriptInput {
  readonly kernelUrl: string;
  readonly initrdUrl: string;
  /** More initrds the kernel unpacks after the first (boot-test's check harness). */
  readonly extraInitrdUrls?: readonly string[];
  /** The kernel command line, already filled in (URLs, test knobs). */
  readonly params: string;
}

export class IpxeScriptError extends BootsmithError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = "IpxeScriptError";
  }
}

/** The name iPXE gives an image fetched without --name: the last path segment of its URL. */
export function imageName(url: string): string {
  const pathname = new URL(url).pathname;
  return pathname.slice(pathname.lastIndexOf("/") + 1) || "initrd";
}

/**
 * `kernel URL initrd=NAME PARAMS` / `initrd URL` / `boot`. The `initrd=NAME` argument tells an
 * EFI-stub kernel which loaded image is its initrd (BIOS boots ignore it); NAME must match what
 * iPXE calls the initrd, which is the basename of its URL.
 */
export function renderIpxeScript(input: IpxeScriptInput): string {
  for (const [what, value] of [
    ["kernel URL", input.kernelUrl],
    ["initrd URL", input.initrdUrl],
    ...(input.extraInitrdUrls ?? []).map((u) => ["initrd URL", u] as const),
  ]) {
    if (!/^https?:\/\/\S+$/.test(value)) throw new IpxeScriptError(`${what} must be an http(s) URL without spaces: ${JSON.stringify(value)}`);
  }
  // A newline in params would start a new iPXE command.
  if (/[\r\n]/.test(input.params)) throw new IpxeScriptError("params must be one line: a newline would inject iPXE commands");
  const params = input.params.trim().split(/\s+/).filter(Boolean).join(" ");
  const extra = (input.extraInitrdUrls ?? []).map((u) => `initrd ${u}`);
  return [
    "#!ipxe",
    `kernel ${input.kernelUrl} initrd=${imageName(input.initrdUrl)}${params ? ` ${params}` : ""}`,
    `initrd ${input.initrdUrl}`,
    ...extra,
    "boot",
    "",
  ].join("\n");
}

const LOOPBACK_URL = /\b(https?:\/\/)(127\.0\.0\.1|localhost|\[::1\])([:/])/g;

/**
 * A fetched boot script (e.g. from BSS) with the host's loopback URLs pointed at the address the
 * guest reaches the host by, and the distinct URLs that were rewritten (to say so). Everything
 * else stays exactly as registered.
 */
export function rewriteLoopbackUrls(script: string, guestHost: string): { script: string; rewritten: string[] } {
  const rewritten = new Set<string>();
  const out = script.replace(LOOPBACK_URL, (_m, scheme: string, _host: string, sep: string) => `${scheme}${guestHost}${sep}`);
  for (const m of script.matchAll(/\bhttps?:\/\/(?:127\.0\.0\.1|localhost|\[::1\])[^\s]*/g)) rewritten.add(m[0]);
  return { script: out, rewritten: [...rewritten] };
}

/**
 * Add `initrd URL` after the script's last initrd line (or before its first `boot`): the kernel
 * unpacks it after the image's own initramfs.
 */
export function appendInitrd(script: string, url: string): string {
  const lines = script.split("\n");
  let at = -1;
  lines.forEach((l, i) => {
    if (/^\s*initrd\s/.test(l)) at = i + 1;
  });
  if (at < 0) at = lines.findIndex((l) => /^\s*boot\b/.test(l));
  if (at < 0) throw new IpxeScriptError("the boot script has neither an initrd nor a boot line: cannot add the check harness");
  lines.splice(at, 0, `initrd ${url}`);
  return lines.join("\n");
}

/** The URLs a BSS-shaped script boots: kernel, initrds, and the live root from root=live:. */
export function scriptUrls(script: string): { kernel?: string; initrds: string[]; rootfs?: string } {
  const url = (line: string) => line.split(/\s+/).find((w) => /^https?:\/\//.test(w));
  let kernel: string | undefined;
  let rootfs: string | undefined;
  const initrds: string[] = [];
  for (const line of script.split("\n")) {
    if (/^\s*kernel\s/.test(line)) {
      kernel ??= url(line);
      rootfs ??= /(?:^|\s)root=live:(\S+)/.exec(line)?.[1];
    } else if (/^\s*initrd\s/.test(line)) {
      const u = url(line);
      if (u) initrds.push(u);
    }
  }
  return { kernel, initrds, rootfs };
}

/** The kernel command line of a BSS-shaped script (words after the kernel URL, before `||`). */
export function scriptParams(script: string): string | undefined {
  const line = script.split("\n").find((l) => /^\s*kernel\s/.test(l));
  if (!line) return undefined;
  const words = line.split("||")[0]!.trim().split(/\s+/);
  const at = words.findIndex((w) => /^https?:\/\//.test(w));
  return at < 0 ? undefined : words.slice(at + 1).join(" ");
}
