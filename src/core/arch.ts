// A recipe's target architecture under the names each tool wants. The recipe says x86_64 or
// aarch64 (the kernel's and RPM's names); Debian and OCI say amd64/arm64; QEMU and binfmt_misc
// use their own. One table, so no module spells a mapping of its own.

export type Arch = "x86_64" | "aarch64";

export interface ArchNames {
  /** dpkg / mmdebstrap --architectures. */
  readonly debian: string;
  /** OCI image config and manifest-list platform (buildah --arch). */
  readonly oci: string;
  /** RPM / dnf --forcearch and the kernel's uname -m. */
  readonly rpm: string;
  /** qemu-system-<name> and the binfmt_misc entry qemu-<name>. */
  readonly qemu: string;
  /** mksquashfs -Xbcj filter for xz (squashfs-tools 4.5 has none for arm64). */
  readonly xzBcj?: string;
}

export const ARCHES: Readonly<Record<Arch, ArchNames>> = {
  x86_64: { debian: "amd64", oci: "amd64", rpm: "x86_64", qemu: "x86_64", xzBcj: "x86" },
  aarch64: { debian: "arm64", oci: "arm64", rpm: "aarch64", qemu: "aarch64" },
};

/** The architecture of the machine bootsmith runs on (Node's process.arch), when it is one bootsmith builds for. */
export function hostArch(nodeArch: string = process.arch): Arch | undefined {
  return nodeArch === "x64" ? "x86_64" : nodeArch === "arm64" ? "aarch64" : undefined;
}
