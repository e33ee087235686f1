// Kernel command line templating: a recipe writes `root=live:{{ rootfs.url }}` once, and the
// published URLs are filled in at registration. Deliberately not a general template engine: a
// fixed set of placeholders, so a typo is an error before anything is built or published.
import type { PublishedImage } from "./published-image.js";
import { BootsmithError, EXIT } from "./errors.js";

/** Every placeholder a params template may use, with what it becomes. */
export const PARAM_PLACEHOLDERS = {
  "rootfs.url": "URL of rootfs.squashfs as published",
  "kernel.url": "URL of vmlinuz as published",
  "initrd.url": "URL of initramfs.img as published",
  name: "image name",
  tag: "image tag",
} as const;

export type ParamPlaceholder = keyof typeof PARAM_PLACEHOLDERS;

/** A recipe's boot.params when it gives none, and boot-test's for an image without a manifest: a live netboot. */
export const DEFAULT_PARAMS_TEMPLATE = "console=ttyS0 ip=dhcp rd.neednet=1 root=live:{{ rootfs.url }} rd.live.overlay.overlayfs=1";

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export class ParamsTemplateError extends BootsmithError {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message, EXIT.usage);
    this.name = "ParamsTemplateError";
  }
}

function isPlaceholder(name: string): name is ParamPlaceholder {
  return Object.hasOwn(PARAM_PLACEHOLDERS, name);
}

const VALID_LIST = Object.keys(PARAM_PLACEHOLDERS)
  .map((p) => `{{ ${p} }}`)
  .join(", ");

/**
 * Problems with a template, without publishing anything (for the recipe validator).
 * Empty when the template is usable.
 */
export function validateParamsTemplate(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!isPlaceholder(name)) problems.push(`unknown placeholder {{ ${name} }} in params; valid placeholders: ${VALID_LIST}`);
  }
  // Braces left after removing well-formed placeholders mean an unclosed or stray `{{`/`}}`.
  const rest = template.replace(PLACEHOLDER, "");
  if (rest.includes("{{") || rest.includes("}}")) problems.push(`unbalanced "{{" or "}}" in params: ${JSON.stringify(template)}`);
  if (/[\r\n]/.test(template))
    problems.push("params must be one line (the kernel command line has no newlines): write it on one line, or as a folded block (params: >)");
  return problems;
}

function valueOf(name: ParamPlaceholder, image: PublishedImage): string | undefined {
  switch (name) {
    case "rootfs.url":
      return image.urls.rootfs;
    case "kernel.url":
      return image.urls.kernel;
    case "initrd.url":
      return image.urls.initrd;
    case "name":
      return image.name;
    case "tag":
      return image.tag;
    default: {
      const never: never = name;
      return never;
    }
  }
}

/**
 * Fill a template from a published image and append site-wide params.
 * Throws ParamsTemplateError on an unknown placeholder or one whose URL the image lacks.
 */
export function renderParams(template: string, image: PublishedImage, extra?: string): string {
  const problems = validateParamsTemplate(template);
  const rendered = template.replace(PLACEHOLDER, (whole, raw: string) => {
    if (!isPlaceholder(raw)) return whole;
    const value = valueOf(raw, image);
    if (value === undefined || value === "") {
      problems.push(`{{ ${raw} }}: image ${image.name}:${image.tag} published by "${image.target}" has no ${raw.replace(".url", "")} URL`);
      return whole;
    }
    return value;
  });
  if (problems.length > 0) throw new ParamsTemplateError(`params template: ${problems.join("; ")}`, problems);
  return joinParams(rendered, extra);
}

/**
 * The words of a kernel command line as the kernel's parser (lib/cmdline.c next_arg) splits it:
 * at whitespace outside double quotes, so `motd="a  b"` stays one word, its spaces kept.
 */
export function splitParams(params: string | undefined): string[] {
  const words: string[] = [];
  let word = "";
  let quoted = false;
  for (const c of params ?? "") {
    if (c === '"') quoted = !quoted;
    if (!quoted && /\s/.test(c)) {
      if (word !== "") words.push(word);
      word = "";
    } else word += c;
  }
  if (word !== "") words.push(word);
  return words;
}

/** Join command-line fragments with single spaces, dropping empty ones (quoted values kept whole). */
export function joinParams(...parts: (string | undefined)[]): string {
  return parts.flatMap((p) => splitParams(p)).join(" ");
}

/** The URL in `root=live:URL`, if the params boot a live (dmsquash-live/livenet) root. */
export function liveRootUrl(params: string): string | undefined {
  for (const word of splitParams(params)) {
    if (word.startsWith("root=live:")) return word.slice("root=live:".length);
  }
  return undefined;
}
