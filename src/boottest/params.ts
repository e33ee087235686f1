// The kernel command line for a boot test: the image's params template with the local URLs
// filled in, plus knobs that make a failing test end fast instead of hanging.
import type { BootRole } from "../core/manifest.js";
import { ParamsTemplateError, renderParams } from "../core/params.js";
import { BootsmithError, EXIT } from "../core/errors.js";

export { DEFAULT_PARAMS_TEMPLATE } from "../core/params.js";

/**
 * Test-only additions, never registered for real nodes:
 * - rd.shell=0 rd.emergency=poweroff: a dracut failure powers off (QEMU exits via -no-reboot)
 *   instead of waiting at a shell nobody types into;
 * - panic=10: a kernel panic reboots after 10 s, which -no-reboot turns into QEMU exiting;
 * - modprobe.blacklist=kvm,kvm_amd,kvm_intel: under TCG with `-cpu max` the guest sees SVM/VMX,
 *   udev loads kvm_amd, and that load can soft-lock a TCG vCPU for minutes.
 */
export const TEST_PARAMS = "rd.shell=0 rd.emergency=poweroff panic=10 modprobe.blacklist=kvm,kvm_amd,kvm_intel";

export class BootParamsError extends BootsmithError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options);
    this.name = "BootParamsError";
  }
}

/**
 * Fill `{{ rootfs.url }}`, `{{ kernel.url }}`, `{{ initrd.url }}` (and `{{ name }}`/`{{ tag }}`)
 * with the shared templating that registration uses, so a template that boot-tests is one that
 * registers. An unknown placeholder is an error, not a literal `{{…}}` on a kernel command line.
 */
export function fillParamsTemplate(template: string, urls: Readonly<Record<BootRole, string>>, values: { name?: string; tag?: string } = {}): string {
  try {
    return renderParams(template, { name: values.name ?? "boot-test", tag: values.tag ?? "boot-test", target: "boot-test", urls });
  } catch (error) {
    if (error instanceof ParamsTemplateError) throw new BootParamsError(error.message, { cause: error });
    throw error;
  }
}

/** The full test command line: filled template, a serial console if none, and TEST_PARAMS. */
export function bootTestParams(template: string, urls: Readonly<Record<BootRole, string>>, values: { name?: string; tag?: string } = {}): string {
  const filled = fillParamsTemplate(template, urls, values);
  // The watcher reads the serial port; without a serial console (ttyS on x86, the PL011 ttyAMA on
  // arm64) the image would boot in silence.
  const serial = /(^|\s)console=tty(S|AMA)\d/.test(filled) ? "" : "console=ttyS0";
  return [filled, serial, TEST_PARAMS]
    .flatMap((p) => p.split(/\s+/))
    .filter(Boolean)
    .join(" ");
}
