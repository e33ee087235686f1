// The package manager registry. Valid `packages.manager` values come from here (plus the ones
// planned but not implemented), so a manager cannot be accepted by validation yet unknown to
// the planner.
import type { PackageManagerPlugin } from "./types.js";
import { dnf } from "./dnf.js";
import { apt } from "./apt.js";

export const packageManagers = { dnf, apt } as const satisfies Record<string, PackageManagerPlugin>;
export type ManagerName = keyof typeof packageManagers;

export function isSupportedManager(name: string): name is ManagerName {
  return Object.hasOwn(packageManagers, name);
}
