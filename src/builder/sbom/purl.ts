// Package URLs (purl-spec) for the packages of an image, built with packageurl-js, the purl
// project's own JavaScript implementation (it encodes names, versions and qualifiers).
// rpm: pkg:rpm/<distro>/<name>@<version>-<release>?arch=…&epoch=…; deb: pkg:deb/<distro>/<name>@<version>?arch=…
// The namespace is the image's os-release ID (as syft and Trivy use it); without one, rpm's vendor.
import { PackageURL } from "packageurl-js";
import type { PackageRecord } from "../../core/manifest.js";

export interface PurlContext {
  readonly packageManager: string;
  /** os-release ID and VERSION_ID of the image, when it has them. */
  readonly distroId?: string;
  readonly distroVersion?: string;
}

export function packageUrl(p: PackageRecord, ctx: PurlContext): string | undefined {
  const distro = ctx.distroId && ctx.distroVersion ? `${ctx.distroId}-${ctx.distroVersion}` : ctx.distroId;
  switch (ctx.packageManager) {
    case "dnf": {
      const namespace = ctx.distroId ?? slug(p.supplier);
      const qualifiers: Record<string, string> = { arch: p.arch };
      if (p.epoch) qualifiers.epoch = p.epoch;
      if (distro) qualifiers.distro = distro;
      return new PackageURL("rpm", namespace, p.name, p.release ? `${p.version}-${p.release}` : p.version, qualifiers, undefined).toString();
    }
    case "apt": {
      // dpkg's version carries the epoch ("1:2.4"); purl-spec keeps it in the deb version.
      const version = p.epoch ? `${p.epoch}:${p.version}` : p.version;
      const qualifiers: Record<string, string> = { arch: p.arch };
      if (distro) qualifiers.distro = distro;
      return new PackageURL("deb", ctx.distroId ?? "debian", p.name, version, qualifiers, undefined).toString();
    }
    default:
      return undefined;
  }
}

/** "Rocky Enterprise Software Foundation" → "rocky-enterprise-software-foundation". */
function slug(value: string | undefined): string | undefined {
  const s = value
    ?.toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return s || undefined;
}
