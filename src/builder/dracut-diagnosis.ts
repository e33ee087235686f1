// Why dracut failed, from its output. dracut prints hundreds of "… will not be installed,
// because command … could not be found" lines for optional modules it skips; the line that made
// it fail (a module named with --add that cannot be installed, a FATAL, a full disk) is usually
// far above the last lines. The failure report shows these lines first, with a hint.
import type { OutputDiagnosis } from "../exec/run.js";

const CAUSES = [
  /cannot be found or installed/i,
  /\bFATAL\b/,
  /^dracut(\[[EF]\]|: ERROR)/i,
  /dracut-install: ERROR/i,
  /No space left on device/i,
  /Cannot find module directory/i,
];

const HINTS: readonly { readonly when: RegExp; readonly hint: string }[] = [
  {
    when: /'(ifcfg|dbus|systemd-networkd)' cannot be found or installed/i,
    hint: "dracut's network module resolved to systemd-networkd, which needs dbus in the image: name network-legacy in boot.initramfs.modules (the Debian default; needs isc-dhcp-client, procps, iproute2) or install dbus",
  },
  {
    when: /'(dmsquash-live|livenet)' cannot be found or installed/i,
    hint: "on Debian the live modules ship in dracut-live and need dracut-network; livenet also needs curl: add them to packages.install",
  },
  {
    when: /'network-legacy' cannot be found or installed/i,
    hint: "network-legacy needs dhclient, pgrep and ip in the image (Debian: isc-dhcp-client, procps, iproute2; and dracut-network)",
  },
  {
    when: /'network-manager' cannot be found or installed/i,
    hint: "network-manager needs NetworkManager in the image (Debian: network-manager, EL: NetworkManager)",
  },
  {
    when: /cannot be found or installed/i,
    hint: "a module named in boot.initramfs.modules is missing or lacks the programs it needs in the image: install the package that ships it, or remove it from the list (`bootsmith validate` checks the known ones)",
  },
  { when: /No space left on device/i, hint: "the disk under the buildah storage or the work directory (BOOTSMITH_WORK_DIR) is full" },
  {
    when: /Cannot find module directory/i,
    hint: "the selected kernel has no /lib/modules directory in the image: install its modules package or pick another boot.kernel",
  },
];

export const dracutDiagnosis: OutputDiagnosis = {
  isCause: (line) => CAUSES.some((re) => re.test(line)),
  hint: (causes) => HINTS.find((h) => causes.some((c) => h.when.test(c)))?.hint,
};
