// The package managers bootsmith knows by name. The recipe schema accepts these; pkg/index.ts
// maps each to its plug-in with a Record<ManagerName, …>, so a name without a plug-in (or a
// plug-in without a name) is a compile error rather than a runtime surprise.

/** Each has a plug-in in src/pkg/. */
export const MANAGER_NAMES = ["dnf", "apt", "zypper"] as const;
export type ManagerName = (typeof MANAGER_NAMES)[number];

/** The managers whose repositories are rpm-md (repodata/repomd.xml): dnf and zypper. */
export const RPM_MD_MANAGERS: ReadonlySet<ManagerName> = new Set<ManagerName>(["dnf", "zypper"]);
