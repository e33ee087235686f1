// What boot registration takes: which image, with which kernel command line, for which nodes,
// at which boot service. The recipe schema mirrors these types (zod) so a recipe's
// `registrations:` entries arrive here unchanged.
import type { PublishedImage } from "../core/published-image.js";
import { hostNameProblem } from "../core/host-name.js";
import { normalizeMac } from "../core/mac.js";
import { nidProblem } from "../core/nid.js";

/** Which nodes boot the image. At least one list must be non-empty. */
export interface Selectors {
  /** MAC addresses, `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, either case (sent to BSS as lower case with colons). */
  readonly macs?: readonly string[];
  /** Host names (core/host-name.ts): xnames such as `x1000c0s0b0n0`, a BSS tag such as `Default`/`Compute`, or a host name. */
  readonly hosts?: readonly string[];
  /** Node IDs. */
  readonly nids?: readonly number[];
}

export interface RegistrationInput {
  readonly image: PublishedImage;
  /** The rendered kernel command line (see renderParams in params.ts). */
  readonly params: string;
  readonly selectors: Selectors;
}

/** OpenCHAMI BSS (or boot-service with its legacy API): `/boot/v1/bootparameters`. */
export interface BssTarget {
  readonly type: "bss";
  /** Base URL; `/boot/v1/...` is appended unless the URL already ends in `/boot/v1`. */
  readonly url: string;
  /** Environment variable holding the bearer token (default: BSS_TOKEN, then ochami's). */
  readonly tokenEnv?: string;
  /** PEM file with the CA that signed the service's certificate. */
  readonly caFile?: string;
}

/** OpenCHAMI boot-service v0.2: `BootConfiguration` resources at `/bootconfigurations`. */
export interface BootServiceTarget {
  readonly type: "boot-service";
  readonly url: string;
  /** metadata.name of the BootConfiguration: created, or replaced when it exists. */
  readonly name: string;
  /** Node groups the configuration applies to (in addition to the selectors). */
  readonly groups?: readonly string[];
  /** 0–100; the higher wins when several configurations match a node. */
  readonly priority?: number;
  /** Talk to the service's legacy BSS API (`/boot/v1`) instead of BootConfigurations. */
  readonly legacy?: boolean;
  readonly tokenEnv?: string;
  readonly caFile?: string;
}

export type BootTarget = BssTarget | BootServiceTarget;

export type BootTargetType = BootTarget["type"];

/** Valid target type names, derived from a table keyed by the union so a new type is a compile error here. */
const TARGET_TYPES: Record<BootTargetType, true> = { bss: true, "boot-service": true };
export const BOOT_TARGET_TYPES = Object.keys(TARGET_TYPES) as BootTargetType[];

/** Problems with a set of selectors, as messages naming the field (empty when valid). */
export function validateSelectors(selectors: Selectors): string[] {
  const errors: string[] = [];
  const { macs = [], hosts = [], nids = [] } = selectors;
  if (macs.length + hosts.length + nids.length === 0) errors.push("no nodes selected: give at least one of macs, hosts or nids");
  for (const mac of macs) {
    if (normalizeMac(mac) === undefined) errors.push(`macs: ${JSON.stringify(mac)} is not a MAC address of the form aa:bb:cc:dd:ee:ff (or aa-bb-cc-dd-ee-ff)`);
  }
  for (const host of hosts) {
    const problem = hostNameProblem(host);
    if (problem) errors.push(`hosts: ${JSON.stringify(host)} ${problem}`);
  }
  for (const nid of nids) {
    const problem = nidProblem(nid);
    if (problem) errors.push(`nids: ${String(nid)} ${problem}`);
  }
  return errors;
}

/** MACs compare case-insensitively in BSS and it takes only colons: keep one spelling (lower case, colons) everywhere. */
export function normalizeSelectors(selectors: Selectors): { macs: string[]; hosts: string[]; nids: number[] } {
  const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  return {
    macs: uniq((selectors.macs ?? []).map((m) => normalizeMac(m) ?? m.toLowerCase())),
    hosts: uniq(selectors.hosts ?? []),
    nids: uniq(selectors.nids ?? []),
  };
}

/**
 * A recipe's `register:` entry (src/recipe/schema.ts RegistrationSchema output), typed
 * structurally so this module does not depend on the recipe schema.
 */
export interface RecipeRegistrationLike {
  readonly type: BootTargetType;
  readonly url: string;
  readonly macs?: readonly string[];
  readonly hosts?: readonly string[];
  readonly nids?: readonly number[];
  /** Site-wide params appended to the image's template. */
  readonly params?: string;
  readonly tokenEnv?: string;
  readonly caFile?: string;
  readonly name?: string;
  readonly groups?: readonly string[];
  readonly priority?: number;
  readonly legacy?: boolean;
}

/** Split a recipe registration into the target, the selectors and the extra params. */
export function fromRecipeRegistration(r: RecipeRegistrationLike): { target: BootTarget; selectors: Selectors; extraParams: string } {
  const common = { url: r.url, ...(r.tokenEnv ? { tokenEnv: r.tokenEnv } : {}), ...(r.caFile ? { caFile: r.caFile } : {}) };
  let target: BootTarget;
  switch (r.type) {
    case "bss":
      target = { type: "bss", ...common };
      break;
    case "boot-service":
      target = {
        type: "boot-service",
        ...common,
        name: r.name ?? "",
        ...(r.groups && r.groups.length > 0 ? { groups: r.groups } : {}),
        ...(r.priority !== undefined ? { priority: r.priority } : {}),
        ...(r.legacy ? { legacy: true } : {}),
      };
      break;
    default: {
      const never: never = r.type;
      throw new Error(`unknown registration type ${String(never)}`);
    }
  }
  return { target, selectors: { macs: r.macs ?? [], hosts: r.hosts ?? [], nids: r.nids ?? [] }, extraParams: r.params ?? "" };
}
