// The image's os-release (os-release(5)): read for the distribution behind the package URLs, and
// extended with IMAGE_ID/IMAGE_VERSION so a booted node can say which image it runs. Every path
// is resolved inside the image root (resolveInRoot): /etc/os-release is usually a symlink to
// ../usr/lib/os-release, and a hostile image could point it at the host's files.
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveInRoot } from "./rootfs-path.js";

export type OsRelease = Readonly<Record<string, string>>;

/** The files os-release(5) names, in the order a reader tries them. */
const OS_RELEASE_FILES = ["/etc/os-release", "/usr/lib/os-release"] as const;

/** Parse os-release text: KEY=VALUE lines, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    fields[match[1]!] = unquote(match[2]!);
  }
  return fields;
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return quote === '"' ? inner.replace(/\\([\\$"`])/g, "$1") : inner;
  }
  return value;
}

/** The image's os-release fields, or an empty record when it has none (a bare package set). */
export function readOsRelease(root: string): OsRelease {
  for (const inner of OS_RELEASE_FILES) {
    const file = resolveInRoot(root, inner);
    if (existsSync(file) && !lstatSync(file).isDirectory()) return parseOsRelease(readFileSync(file, "utf8"));
  }
  return {};
}

/** A value quoted for os-release: double quotes, with the characters the format escapes. */
function quote(value: string): string {
  return `"${value.replace(/[\\$"`]/g, "\\$&")}"`;
}

/**
 * Set IMAGE_ID and IMAGE_VERSION in the image's os-release, replacing earlier values (a child
 * layer inherits its parent's). The write goes to the file /etc/os-release resolves to inside the
 * root, through a temporary file renamed over it, so the symlink itself stays as the distribution
 * shipped it. Returns the path inside the image that was written.
 */
export function writeImageIdentity(root: string, identity: { readonly id: string; readonly version: string }): string {
  // A dangling /etc/os-release symlink is still the file readers open: create its target.
  const inner =
    OS_RELEASE_FILES.find((f) => existsSync(resolveInRoot(root, f))) ?? (isLink(path.join(root, "etc/os-release")) ? "/etc/os-release" : "/usr/lib/os-release");
  const file = resolveInRoot(root, inner);
  mkdirSync(path.dirname(file), { recursive: true });
  const rootResolved = path.resolve(root);
  if (path.relative(rootResolved, file).startsWith("..")) throw new Error(`${inner} resolves outside the image root`);
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const kept = old.split("\n").filter((l) => l.trim() !== "" && !/^\s*IMAGE_(ID|VERSION)=/.test(l));
  const text = [...kept, `IMAGE_ID=${quote(identity.id)}`, `IMAGE_VERSION=${quote(identity.version)}`, ""].join("\n");
  const partial = `${file}.bootsmith-partial`;
  writeFileSync(partial, text, { mode: 0o644, flag: "w" });
  renameSync(partial, file);
  return path.join("/", path.relative(rootResolved, file));
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
