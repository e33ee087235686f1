// The whole path on a real image: `bootsmith build` of recipes/debian-12-live.yaml (mmdebstrap,
// the Debian kernel, dracut with livenet/dmsquash-live, zstd squashfs) and registration with a
// BSS that follows OpenCHAMI's contract, whose boot script for the node's MAC hands out the
// artifact URLs as registered. The netboot from such a script runs once, in
// test/boottest/boot-checks-qemu.test.ts (a BSS registration of the same artifacts booted to the
// marker, which names this manifest's kernel); the CLI's `boot-test RECIPE` runs in the README's
// main job, and test/boottest/qemu-boot.test.ts boots the same artifacts directly and broken on
// purpose.
//
// The build takes 3–6 minutes on 2 cores. CI runs the README's main job first and passes its
// output in BOOTSMITH_TEST_ARTIFACTS (in CI their absence fails the file); without it, locally,
// this file builds the image itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { registerPublished } from "../../src/register/register.js";
import { scriptParams, scriptUrls } from "../../src/boottest/ipxe-script.js";
import type { Manifest } from "../../src/core/manifest.js";
import { inCi, mainJobArtifacts, MissingPrerequisiteError } from "../support/prerequisites.js";
import { sha256File } from "../../src/core/hash.js";
import { cycloneDxErrors, spdxErrors } from "../support/sbom-schemas.js";

const RECIPE = path.join(REPO_ROOT, "recipes/debian-12-live.yaml");
const MAC = "52:54:00:be:e7:01";
const BUILD_TIMEOUT = 1_200_000;

let work: string;
let artifacts: string;
let manifest: Manifest;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-e2e-"));
  const main = mainJobArtifacts(["manifest.json", "vmlinuz", "initramfs.img", "rootfs.squashfs"]);
  // CI must test the main job's real Debian kernel + dracut build, not quietly make another one.
  if (!main.present && inCi()) throw new MissingPrerequisiteError("debian-live e2e", [main]);
  if (main.present) {
    artifacts = path.resolve(main.dir!);
  } else {
    artifacts = path.join(work, "debian-12-live");
    const result = await bootsmith(["build", RECIPE, "--out", artifacts, "--no-publish", "--progress", "plain"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: BUILD_TIMEOUT,
    });
    if (result.exitCode !== 0) throw new Error(`build of the Debian live recipe failed:\n${result.stderr}`);
  }
  manifest = JSON.parse(readFileSync(path.join(artifacts, "manifest.json"), "utf8")) as Manifest;
}, BUILD_TIMEOUT);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("Debian live image", () => {
  it("has the three boot artifacts and a manifest that describes them", () => {
    expect(manifest.name).toBe("debian-12-live");
    expect(manifest.kernel?.version).toMatch(/-amd64$/);
    expect(manifest.kernel?.squashfsCompressors).toContain("zstd");
    expect(manifest.rootfs).toMatchObject({ compression: "zstd", level: 3 });
    expect(manifest.packages.find((p) => p.name === "linux-image-amd64")).toBeTruthy();
    expect(manifest.packages.find((p) => p.name === "dracut-live")).toBeTruthy();
    for (const role of ["kernel", "initrd", "rootfs"] as const) expect(manifest.artifacts[role]?.size ?? 0).toBeGreaterThan(1_000_000);
  });

  it("has schema-valid CycloneDX and SPDX SBOMs listing the booted kernel's package with its purl", async () => {
    const cdx = JSON.parse(readFileSync(path.join(artifacts, "sbom.cdx.json"), "utf8")) as { components: { name: string; version: string; purl?: string }[] };
    const spdx = JSON.parse(readFileSync(path.join(artifacts, "sbom.spdx.json"), "utf8")) as {
      packages: { name: string; externalRefs?: { referenceLocator: string }[] }[];
    };
    expect(cycloneDxErrors(cdx)).toEqual([]);
    expect(spdxErrors(spdx)).toEqual([]);
    for (const role of ["sbomCycloneDx", "sbomSpdx"] as const)
      expect(manifest.artifacts[role]?.sha256).toBe(await sha256File(path.join(artifacts, manifest.artifacts[role]!.file)));
    const kernelPackage = `linux-image-${manifest.kernel!.version}`;
    const kernel = cdx.components.find((c) => c.name === kernelPackage);
    expect(kernel, kernelPackage).toBeTruthy();
    expect(kernel!.purl).toBe(`pkg:deb/debian/${kernelPackage}@${kernel!.version}?arch=amd64&distro=debian-12`);
    expect(spdx.packages.find((p) => p.name === kernelPackage)?.externalRefs?.[0]?.referenceLocator).toBe(kernel!.purl);
  });

  describe("registered in BSS", () => {
    let bss: BssServer;
    let files: StaticServer;

    beforeAll(async () => {
      bss = await startBssServer();
      files = await startStaticServer({ root: artifacts });
    });
    afterAll(async () => {
      await files?.close();
      await bss?.stop();
    });

    it("the boot script BSS serves for the node's MAC loads the registered kernel, initramfs and squashfs URLs", async () => {
      // The URLs a node sees: under QEMU user networking the host's 127.0.0.1 is 10.0.2.2, which
      // the host itself cannot reach, so the HEAD check of the artifacts is left to the unit tests.
      const guestBase = `http://10.0.2.2:${files.port}`;
      const image = {
        name: manifest.name,
        tag: manifest.tags[0]!,
        target: "local",
        urls: { kernel: `${guestBase}/vmlinuz`, initrd: `${guestBase}/initramfs.img`, rootfs: `${guestBase}/rootfs.squashfs` },
      };
      const registration = await registerPublished(
        image,
        manifest.params!,
        { macs: [MAC] },
        { type: "bss", url: bss.url },
        { stateDir: path.join(work, "state"), checkArtifacts: false },
      );
      expect(registration.written).toBe(true);
      expect(bss.violations).toEqual([]);

      // What iPXE on the node gets: the kernel and initramfs from the registered URLs, and the
      // manifest's params with root=live: pointing livenet at the registered squashfs.
      const response = await fetch(bss.bootscriptUrl(MAC));
      expect(response.status).toBe(200);
      const script = await response.text();
      const urls = scriptUrls(script);
      expect(urls.kernel).toBe(image.urls.kernel);
      expect(urls.initrds).toEqual([image.urls.initrd]);
      expect(urls.rootfs).toBe(image.urls.rootfs);
      expect(scriptParams(script)).toContain(`root=live:${image.urls.rootfs}`);
    });
  });
});
