// `bootsmith register --export FILE`: the payload for sites that apply registrations themselves,
// with `ochami bss boot params set -f yaml -d @FILE` (a BSS BootParams document), or for
// boot-service targets the BootConfiguration resource ({metadata, spec}).
import { stringify } from "yaml";
import type { BootParams } from "./bss.js";
import type { BootConfigurationSpec } from "./boot-service.js";
import { normalizeSelectors, type BootTarget, type RegistrationInput } from "./targets.js";

export function bssPayload(input: RegistrationInput): BootParams {
  const s = normalizeSelectors(input.selectors);
  const bp: BootParams = {};
  if (s.macs.length > 0) bp.macs = s.macs;
  if (s.hosts.length > 0) bp.hosts = s.hosts;
  if (s.nids.length > 0) bp.nids = s.nids;
  if (input.image.urls.kernel) bp.kernel = input.image.urls.kernel;
  if (input.image.urls.initrd) bp.initrd = input.image.urls.initrd;
  bp.params = input.params;
  return bp;
}

export function bootConfigurationSpec(input: RegistrationInput, target: { groups?: readonly string[]; priority?: number }): BootConfigurationSpec {
  const bp = bssPayload(input);
  const spec: BootConfigurationSpec = { kernel: bp.kernel ?? "" };
  if (bp.hosts) spec.hosts = bp.hosts;
  if (bp.macs) spec.macs = bp.macs;
  if (bp.nids) spec.nids = bp.nids;
  if (target.groups && target.groups.length > 0) spec.groups = [...target.groups];
  if (bp.initrd) spec.initrd = bp.initrd;
  if (bp.params) spec.params = bp.params;
  if (target.priority !== undefined) spec.priority = target.priority;
  return spec;
}

/** The YAML document to write for a target (BSS BootParams unless it is a non-legacy boot-service). */
export function exportPayload(input: RegistrationInput, target?: BootTarget): string {
  const header = `# Written by bootsmith for ${input.image.name}:${input.image.tag}.\n`;
  if (target?.type === "boot-service" && !target.legacy) {
    const doc = { metadata: { name: target.name }, spec: bootConfigurationSpec(input, target) };
    return `${header}# Apply: POST it to ${target.url.replace(/\/+$/, "")}/bootconfigurations (or PUT /bootconfigurations/<uid> to replace).\n${stringify(doc)}`;
  }
  return `${header}# Apply: ochami bss boot params set -f yaml -d @FILE\n${stringify(bssPayload(input))}`;
}
