// Both SBOM writers on package lists shaped like rpm's and dpkg's, checked against the official
// schemas (test/contracts/), with the exact package URLs a scanner will look up.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sbomInput, writeSboms } from "../../../src/builder/sbom/index.js";
import { cycloneDxJson } from "../../../src/builder/sbom/cyclonedx.js";
import { spdxJson } from "../../../src/builder/sbom/spdx.js";
import { parsePackageList } from "../../../src/builder/packages.js";
import { cycloneDxErrors, spdxErrors } from "../../support/sbom-schemas.js";

const created = new Date("2026-11-30T12:34:56.789Z");
const image = (packageManager: string) => ({ name: "compute", version: "9.5", packageManager, inputDigest: "ab".repeat(32), created, toolVersion: "0.1.0" });

// rpm --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n'
const RPM = [
  "bash\t0\t5.1.8\t9.el9\tx86_64\tGPL-3.0-or-later\tRocky Enterprise Software Foundation",
  "shadow-utils\t2\t4.9\t8.el9\tx86_64\tBSD and GPLv2+\tRocky Enterprise Software Foundation",
  "gpg-pubkey\t0\t350d275d\t6279464b\t(none)\tpubkey\t(none)",
  "kernel-core\t0\t5.14.0\t427.13.1.el9_4\tx86_64\t((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause)\t(none)",
].join("\n");
// dpkg-query -f='${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n'
const DPKG = [
  "linux-image-6.1.0-28-amd64\t\t6.1.119-1\t\tamd64\t\tDebian Kernel Team <debian-kernel@lists.debian.org>",
  "attr\t\t1:2.5.1-4\t\tamd64\t\tGuillem Jover <guillem@debian.org>",
  "libc6\t\t2.36-9+deb12u9\t\tamd64\t\tGNU Libc Maintainers <debian-glibc@lists.debian.org>",
].join("\n");

describe("SBOMs", () => {
  it("rpm: schema-valid CycloneDX 1.6 and SPDX 2.3 with pkg:rpm/<distro>/name@version-release?arch&epoch", () => {
    const input = sbomInput(image("dnf"), parsePackageList(RPM), { distroId: "rocky", distroVersion: "9.4" });
    const cdx = JSON.parse(cycloneDxJson(input)) as {
      specVersion: string;
      components: { name: string; purl?: string; version: string; licenses?: unknown[]; supplier?: { name: string } }[];
      metadata: { component: { name: string; version: string } };
    };
    const spdx = JSON.parse(spdxJson(input)) as {
      packages: { name: string; licenseDeclared: string; licenseComments?: string; supplier: string; externalRefs?: { referenceLocator: string }[] }[];
    };
    expect(cycloneDxErrors(cdx)).toEqual([]);
    expect(spdxErrors(spdx)).toEqual([]);
    expect(cdx.specVersion).toBe("1.6");
    expect(cdx.metadata.component).toMatchObject({ name: "compute", version: "9.5" });
    expect(cdx.components.map((c) => c.name)).toEqual(["bash", "kernel-core", "shadow-utils"]); // rpm's gpg-pubkey is not a package
    const shadow = cdx.components.find((c) => c.name === "shadow-utils")!;
    expect(shadow.purl).toBe("pkg:rpm/rocky/shadow-utils@4.9-8.el9?arch=x86_64&distro=rocky-9.4&epoch=2");
    expect(shadow.version).toBe("2:4.9-8.el9");
    expect(shadow.supplier).toEqual({ name: "Rocky Enterprise Software Foundation" });
    expect(cdx.components.find((c) => c.name === "bash")!.purl).toBe("pkg:rpm/rocky/bash@5.1.8-9.el9?arch=x86_64&distro=rocky-9.4");
    // SPDX ids become {license: {id}}, expressions {expression}, other text {license: {name}}.
    expect(cdx.components.find((c) => c.name === "bash")!.licenses).toEqual([{ license: { id: "GPL-3.0-or-later" } }]);
    expect(cdx.components.find((c) => c.name === "kernel-core")!.licenses).toEqual([
      { expression: "((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause)" },
    ]);
    expect(shadow.licenses).toEqual([{ license: { name: "BSD and GPLv2+" } }]);
    const sShadow = spdx.packages.find((p) => p.name === "shadow-utils")!;
    expect(sShadow).toMatchObject({
      licenseDeclared: "NOASSERTION",
      licenseComments: "package database License: BSD and GPLv2+",
      supplier: "Organization: Rocky Enterprise Software Foundation",
    });
    expect(sShadow.externalRefs?.[0]?.referenceLocator).toBe(shadow.purl);
    expect(spdx.packages.find((p) => p.name === "kernel-core")).toMatchObject({
      licenseDeclared: "((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause)",
      supplier: "NOASSERTION",
    });
  });

  it("deb: pkg:deb/debian/name@[epoch:]version?arch, the maintainer as supplier, no licence (dpkg has none)", () => {
    const input = sbomInput(image("apt"), parsePackageList(DPKG), { distroId: "debian", distroVersion: "12" });
    const cdx = JSON.parse(cycloneDxJson(input)) as { components: { name: string; purl?: string; licenses?: unknown[] }[] };
    const spdx = JSON.parse(spdxJson(input)) as { packages: { name: string; supplier: string; licenseDeclared: string }[]; relationships: unknown[] };
    expect(cycloneDxErrors(cdx)).toEqual([]);
    expect(spdxErrors(spdx)).toEqual([]);
    const purls = Object.fromEntries(cdx.components.map((c) => [c.name, c.purl]));
    expect(purls["linux-image-6.1.0-28-amd64"]).toBe("pkg:deb/debian/linux-image-6.1.0-28-amd64@6.1.119-1?arch=amd64&distro=debian-12");
    expect(purls.attr).toBe("pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12");
    expect(purls.libc6).toBe("pkg:deb/debian/libc6@2.36-9+deb12u9?arch=amd64&distro=debian-12");
    expect(cdx.components.every((c) => c.licenses === undefined || c.licenses.length === 0)).toBe(true);
    expect(spdx.packages.find((p) => p.name === "attr")).toMatchObject({
      supplier: "Organization: Guillem Jover (guillem@debian.org)",
      licenseDeclared: "NOASSERTION",
    });
    // The document describes the image, which contains every package.
    expect(spdx.relationships).toHaveLength(1 + 3);
  });

  it("the same build gives the same bytes (document ids derive from the content, time from the build)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-sbom-"));
    try {
      const input = () => sbomInput(image("apt"), parsePackageList(DPKG), { distroId: "debian" });
      const [cdxFile, spdxFile] = writeSboms(dir, input());
      const first = [readFileSync(cdxFile!, "utf8"), readFileSync(spdxFile!, "utf8")];
      writeSboms(dir, input());
      expect([readFileSync(cdxFile!, "utf8"), readFileSync(spdxFile!, "utf8")]).toEqual(first);
      expect(first[1]).toContain('"created": "2026-11-30T12:34:56Z"');
      const other = sbomInput({ ...image("apt"), version: "9.6" }, parsePackageList(DPKG), { distroId: "debian" });
      expect(other.uuid).not.toBe(input().uuid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
