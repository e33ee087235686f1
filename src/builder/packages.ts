// Parse the package list a plug-in's listPackages command prints: name, epoch, version,
// release, arch, license, supplier, tab-separated (dpkg prints name, "", version, "", arch, "",
// maintainer with the epoch inside the version; rpm prints "(none)" for a tag a package lacks).
import type { PackageRecord } from "../core/manifest.js";

export function parsePackageList(text: string): PackageRecord[] {
  const packages: PackageRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [name = "", epochField = "", versionField = "", release = "", arch = "", license = "", supplier = ""] = line.split("\t");
    if (name.startsWith("gpg-pubkey")) continue; // rpm's imported keys are not packages
    let epoch = epochField && epochField !== "0" ? epochField : undefined;
    let version = versionField;
    const colon = version.indexOf(":");
    if (!epoch && colon > 0) [epoch, version] = [version.slice(0, colon), version.slice(colon + 1)];
    packages.push({
      name,
      ...(epoch ? { epoch } : {}),
      version,
      ...(release ? { release } : {}),
      arch,
      ...optional("license", license),
      ...optional("supplier", supplier),
    });
  }
  return packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A field rpm or dpkg left empty or printed as "(none)" is absent, not a value. */
function optional<K extends string>(key: K, value: string): Partial<Record<K, string>> {
  const v = value.trim();
  return v && v !== "(none)" ? ({ [key]: v } as Record<K, string>) : {};
}
