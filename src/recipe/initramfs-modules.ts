// Which dracut modules the initramfs gets when a recipe does not say, and which module lists
// cannot work on the image's family. Both depend on the distribution: dracut's `network` module
// picks its backend from what the image has (059: network-manager, then systemd-networkd, then
// network-legacy), and on Debian with systemd but without dbus it picks systemd-networkd, which
// fails ("dracut module 'ifcfg' cannot be found or installed"). Known before anything is built,
// from the package lists of the recipe and its parents.

/** The distribution family an image belongs to, from the package manager of its layers. */
export type ImageFamily = "debian" | "el" | "unknown";

/**
 * - debian: network-legacy (dhclient) is the backend that needs no dbus; naming it makes
 *   dracut's `network` (pulled in by livenet) resolve to it.
 * - el: `network`, as OpenCHAMI's images use: dracut picks network-manager when the image has
 *   NetworkManager, network-legacy otherwise.
 * - unknown (an external base image and no packages section): the same as el, dracut decides.
 */
export const DEFAULT_INITRAMFS_MODULES: Readonly<Record<ImageFamily, readonly string[]>> = {
  debian: ["dmsquash-live", "livenet", "network-legacy"],
  el: ["dmsquash-live", "livenet", "network"],
  unknown: ["dmsquash-live", "livenet", "network"],
};

/** What the checks need to know about one layer: its package manager and what it installs. */
export interface LayerPackages {
  readonly manager?: string;
  readonly install: readonly string[];
}

/** An image's layers, the recipe's own first, and whether the chain starts from scratch (so every package list is known). */
export interface LayerChain {
  readonly layers: readonly LayerPackages[];
  readonly fromScratch: boolean;
}

export function imageFamily(chain: LayerChain): ImageFamily {
  const manager = chain.layers.find((l) => l.manager !== undefined)?.manager;
  return manager === "apt" ? "debian" : manager === "dnf" ? "el" : "unknown";
}

export interface ModuleFinding {
  readonly severity: "error" | "warning";
  readonly message: string;
}

/** dracut network backends; naming one decides what `network` resolves to. */
const BACKENDS = ["network-legacy", "network-manager", "systemd-networkd", "connman", "network-wicked"];

/** Debian packages each module needs in the image (dracut ships live and network modules separately). */
const DEBIAN_NEEDS: Readonly<Record<string, readonly string[]>> = {
  "dmsquash-live": ["dracut-live"],
  livenet: ["dracut-live", "dracut-network", "curl"],
  network: ["dracut-network"],
  "network-legacy": ["dracut-network", "isc-dhcp-client", "procps", "iproute2"],
  "network-manager": ["dracut-network", "network-manager"],
  "systemd-networkd": ["dracut-network"],
};
const EL_NEEDS: Readonly<Record<string, readonly string[]>> = {
  "network-manager": ["NetworkManager"],
};

/**
 * Problems of a module list on an image family. An error where the build certainly fails (a
 * module needs dbus and no layer of a chain from scratch installs it); a warning where it depends
 * on packages the layers do not name (they may still arrive as dependencies).
 */
export function checkInitramfsModules(modules: readonly string[], chain: LayerChain): ModuleFinding[] {
  const family = imageFamily(chain);
  const installed = new Set(chain.layers.flatMap((l) => l.install));
  const findings: ModuleFinding[] = [];
  if (family === "debian") {
    const backend = BACKENDS.find((b) => modules.includes(b));
    const viaNetwork = backend === undefined && (modules.includes("network") || modules.includes("livenet"));
    const dbusBackend = viaNetwork
      ? "network (systemd-networkd on Debian)"
      : backend === "systemd-networkd" || backend === "network-manager"
        ? backend
        : undefined;
    if (dbusBackend !== undefined && !installed.has("dbus") && !installed.has("dbus-broker")) {
      findings.push({
        severity: chain.fromScratch ? "error" : "warning",
        message:
          `dracut's ${dbusBackend} needs dbus in the image, and ${chain.fromScratch ? "no layer installs it" : "no layer names it"}: ` +
          `dracut would fail with "dracut module 'ifcfg' cannot be found or installed". ` +
          `Use network-legacy instead of network (the Debian default: ${DEFAULT_INITRAMFS_MODULES.debian.join(", ")}), or add dbus to packages.install`,
      });
    }
  }
  const needs = family === "debian" ? DEBIAN_NEEDS : family === "el" ? EL_NEEDS : {};
  if (chain.fromScratch) {
    const missing = modules.flatMap((m) => {
      const absent = (needs[m] ?? []).filter((pkg) => !installed.has(pkg));
      return absent.length > 0 ? [`${m} needs ${absent.join(", ")}`] : [];
    });
    if (missing.length > 0) {
      findings.push({
        severity: "warning",
        message: `${missing.join("; ")}: no layer installs them, so unless a dependency brings them dracut cannot add these modules; add them to packages.install`,
      });
    }
  }
  return findings;
}
