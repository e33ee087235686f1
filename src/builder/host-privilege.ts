// Can buildah work here: as root, or rootless through user namespaces? Kept pure (facts in,
// verdict out) so every branch is testable on a machine where we are root.

export interface PrivilegeInputs {
  readonly uid: number;
  readonly user: string;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian-specific; absent on newer kernels). */
  readonly unprivilegedUsernsClone?: string;
  /** /proc/sys/user/max_user_namespaces */
  readonly maxUserNamespaces?: string;
  /** /etc/subuid contents. */
  readonly subuid?: string;
  /** newuidmap found (Debian package uidmap). */
  readonly newuidmap: boolean;
}

export interface PrivilegeVerdict {
  readonly mode: "root" | "rootless" | "unavailable";
  readonly detail: string;
  /** What to do, one item per problem; empty when fine. */
  readonly fixes: readonly string[];
}

export function assessPrivilege(input: PrivilegeInputs): PrivilegeVerdict {
  if (input.uid === 0) return { mode: "root", detail: "running as root", fixes: [] };
  const fixes: string[] = [];
  if (input.unprivilegedUsernsClone !== undefined && input.unprivilegedUsernsClone.trim() !== "1") {
    fixes.push("enable unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1");
  }
  if (input.maxUserNamespaces !== undefined && Number(input.maxUserNamespaces.trim()) <= 0) {
    fixes.push("allow user namespaces: sysctl -w user.max_user_namespaces=15000");
  }
  const hasRange = (input.subuid ?? "")
    .split("\n")
    .map((line) => line.split(":")[0]?.trim())
    .some((owner) => owner === input.user || owner === String(input.uid));
  if (!hasRange) fixes.push(`give ${input.user} subordinate ids: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${input.user}`);
  if (!input.newuidmap) fixes.push("install newuidmap/newgidmap: apt-get install uidmap");
  fixes.push("or run bootsmith as root (building boot images needs device nodes and mounts)");
  if (fixes.length === 1) return { mode: "rootless", detail: `running as ${input.user} (uid ${input.uid}) with user namespaces`, fixes: [] };
  return { mode: "unavailable", detail: `running as ${input.user} (uid ${input.uid}) without usable user namespaces`, fixes };
}
