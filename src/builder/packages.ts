// Parse the package list a plug-in's listPackages command prints: name, epoch, version,
// release, arch, tab-separated (dpkg prints name, "", version, "", arch with the epoch inside
// the version).
import type { PackageRecord } from "../core/manifest.js";

export function parsePackageList(text: string): PackageRecord[] {
  const packages: PackageRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [name = "", epochField = "", versionField = "", release = "", arch = ""] = line.split("\t");
    if (name.startsWith("gpg-pubkey")) continue; // rpm's imported keys are not packages
    let epoch = epochField && epochField !== "0" ? epochField : undefined;
    let version = versionField;
    const colon = version.indexOf(":");
    if (!epoch && colon > 0) [epoch, version] = [version.slice(0, colon), version.slice(colon + 1)];
    packages.push({ name, ...(epoch ? { epoch } : {}), version, ...(release ? { release } : {}), arch });
  }
  return packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
