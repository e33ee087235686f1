// The package managers bootsmith knows by name. The recipe schema accepts these; pkg/index.ts
// maps each implemented one to its plug-in with a Record<ManagerName, …>, so a name without a
// plug-in (or a plug-in without a name) is a compile error rather than a runtime surprise.

/** Implemented: each has a plug-in in src/pkg/. */
export const MANAGER_NAMES = ["dnf", "apt"] as const;
export type ManagerName = (typeof MANAGER_NAMES)[number];

/** Accepted by the schema so a recipe gets a clear "planned, not supported yet" error. */
export const PLANNED_MANAGERS = ["zypper"] as const;
