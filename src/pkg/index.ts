// The package manager registry: one plug-in per name in core/package-managers.ts. Typed as a
// Record over those names, so validation cannot accept a manager the planner does not know.
import type { ManagerName } from "../core/package-managers.js";
import type { PackageManagerPlugin } from "./types.js";
import { dnf } from "./dnf.js";
import { apt } from "./apt.js";
import { zypper } from "./zypper.js";

export const packageManagers: Readonly<Record<ManagerName, PackageManagerPlugin>> = { dnf, apt, zypper };
