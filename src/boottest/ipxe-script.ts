// The iPXE script a test node boots from: the same shape OpenCHAMI BSS generates for
// `/boot/v1/bootscript?mac=…`, so boot-test exercises the path real nodes take.
import { BootsmithError, EXIT } from "../core/errors.js";

export interface IpxeScriptInput {
  readonly kernelUrl: string;
  readonly initrdUrl: string;
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
  ] as const) {
    if (!/^https?:\/\/\S+$/.test(value)) throw new IpxeScriptError(`${what} must be an http(s) URL without spaces: ${JSON.stringify(value)}`);
  }
  // A newline in params would start a new iPXE command.
  if (/[\r\n]/.test(input.params)) throw new IpxeScriptError("params must be one line: a newline would inject iPXE commands");
  const params = input.params.trim().split(/\s+/).filter(Boolean).join(" ");
  return ["#!ipxe", `kernel ${input.kernelUrl} initrd=${imageName(input.initrdUrl)}${params ? ` ${params}` : ""}`, `initrd ${input.initrdUrl}`, "boot", ""].join("\n");
}
