// The XCCDF profiles an OpenSCAP content file defines, and which of them a recipe's
// scan.openscap.profile names, decided the way oscap decides it: an exact id, or the end of
// exactly one id (oscap 1.3 takes `--profile standard` for
// xccdf_org.ssgproject.content_profile_standard and refuses a suffix two ids share). Checked when
// the recipe loads: oscap itself refuses an unknown profile only when the scan runs, after the
// packages, the commands and the initramfs.

/**
 * The ids of the XCCDF <Profile> elements in a data stream, an XCCDF benchmark or a tailoring
 * file, whatever their namespace prefix (SSG writes xccdf-1.2:, tailoring files xccdf:). A scan of
 * the text rather than an XML parse: SSG's data streams are megabytes, and only these elements'
 * id attributes are wanted.
 */
export function xccdfProfileIds(xml: string): string[] {
  const ids = new Set<string>();
  for (const m of xml.matchAll(/<(?:[\w.-]+:)?Profile\s[^>]*?\bid\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) ids.add(m[1] ?? m[2]!);
  return [...ids];
}

export type ProfileMatch =
  { readonly kind: "found"; readonly id: string } | { readonly kind: "none" } | { readonly kind: "several"; readonly ids: readonly string[] };

/** Which of `ids` the recipe's `profile` names: itself, or the one id it is the end of. */
export function matchProfile(profile: string, ids: readonly string[]): ProfileMatch {
  if (ids.includes(profile)) return { kind: "found", id: profile };
  const ends = ids.filter((id) => id.endsWith(profile));
  if (ends.length === 1) return { kind: "found", id: ends[0]! };
  return ends.length === 0 ? { kind: "none" } : { kind: "several", ids: ends };
}
