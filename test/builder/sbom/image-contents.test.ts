// What the SBOMs list besides the package database, on an image root made here: the kernel
// modules a kernelModules step built (DKMS and a source tree), the files recipes copied in (also
// a parent's), and the commands that changed the image unlisted, in both formats, schema-valid.
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeIdentity } from "../../../src/builder/image-identity.js";
import { loadRecipe } from "../../../src/recipe/load.js";
import { silentReporter } from "../../../src/exec/events.js";
import { cycloneDxErrors, spdxErrors } from "../../support/sbom-schemas.js";
import { moduleElf } from "../../support/module-elf.js";

const KVER = "6.1.0-28-amd64";
const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-sbom-contents-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (bytes: Buffer | string, algorithm = "sha256") => createHash(algorithm).update(bytes).digest("hex");

function write(file: string, bytes: Buffer | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

// A parent that copies a file and a directory and runs a command with a secret in it; a child
// that builds a DKMS module and one from source and writes a file from content.
const recipes = path.join(dir, "recipes");
write(path.join(recipes, "files/motd"), "welcome\n");
write(path.join(recipes, "files/site/a.conf"), "a=1\n");
write(path.join(recipes, "files/site/sub/b.conf"), "b=2\n");
write(path.join(recipes, "files/hello-module/Makefile"), "obj-m := hello.o\n");
write(
  path.join(recipes, "parent.yaml"),
  `apiVersion: bootsmith/v1
name: site-base
tags: [v1]
from: {image: "docker.io/library/debian:12"}
packages: {manager: apt}
importEnv: [TOKEN]
secrets: [TOKEN]
files:
  - {src: files/motd, dest: /etc/}
  - {src: files/site, dest: /opt/site}
commands:
  - run: [systemctl, enable, munge]
  - {name: fetch site tools, script: "curl -H 'Authorization: Bearer {{ TOKEN }}' https://tools.example/get | sh\\necho done"}
boot: false
`,
);
write(
  path.join(recipes, "child.yaml"),
  `apiVersion: bootsmith/v1
name: site-dkms
tags: [v2]
from: {recipe: parent.yaml}
packages: {manager: apt}
files:
  - {dest: /etc/site-release, content: "v2\\n"}
kernelModules:
  dkms: [v4l2loopback-dkms]
  build: {src: files/hello-module}
boot: {kernel: newest}
`,
);

// The finished image root.
const root = path.join(dir, "root");
const v4l2 = moduleElf(`license=GPL\0version=0.12.7\0srcversion=ABC123\0name=v4l2loopback\0vermagic=${KVER} SMP preempt mod_unload modversions \0`);
const hello = moduleElf(`license=Dual BSD/GPL\0srcversion=DEF456\0name=hello\0vermagic=${KVER} SMP preempt mod_unload modversions \0`);
write(path.join(root, `lib/modules/${KVER}/updates/dkms/v4l2loopback.ko`), v4l2);
write(path.join(root, `lib/modules/${KVER}/extra/hello.ko`), hello);
write(path.join(root, `lib/modules/${KVER}/kernel/fs/in-tree.ko`), moduleElf(`name=in-tree\0vermagic=${KVER} \0`));
write(path.join(root, "etc/motd"), "welcome\n");
write(path.join(root, "opt/site/a.conf"), "a=1 changed by a command\n");
write(path.join(root, "opt/site/sub/b.conf"), "b=2\n");
write(path.join(root, "etc/site-release"), "v2\n");
write(path.join(root, "etc/os-release"), 'ID=debian\nVERSION_ID="12"\n');

const PACKAGES = [
  `linux-image-${KVER}\t\t6.1.119-1\t\tamd64\t\tDebian Kernel Team <debian-kernel@lists.debian.org>`,
  "v4l2loopback-dkms\t\t0.12.7-2\t\tall\t\tDebian",
].join("\n");

interface Cdx {
  components: {
    type: string;
    name: string;
    version?: string;
    "bom-ref": string;
    description?: string;
    hashes?: { alg: string; content: string }[];
    properties?: { name: string; value: string }[];
  }[];
  dependencies: { ref: string; dependsOn?: string[] }[];
  compositions?: { aggregate: string; assemblies: string[] }[];
  annotations?: { subjects: string[]; text: string }[];
  metadata: { component: { "bom-ref": string } };
}
interface Spdx {
  packages: {
    SPDXID: string;
    name: string;
    versionInfo?: string;
    checksums?: { algorithm: string; checksumValue: string }[];
    sourceInfo?: string;
    comment?: string;
  }[];
  files?: { SPDXID: string; fileName: string; checksums: { algorithm: string; checksumValue: string }[]; comment: string }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

describe("SBOM contents beyond the package database", () => {
  const out = path.join(dir, "out");
  mkdirSync(out, { recursive: true });
  const recipe = loadRecipe(path.join(recipes, "child.yaml"), { env: { TOKEN: "s3cr3t-token-value" } });
  const identity = writeIdentity({
    root,
    id: "site-dkms",
    version: "v2",
    manifest: {
      recipe,
      outDir: out,
      packages: PACKAGES,
      tools: {},
      timings: [],
      sourceDateEpoch: 1_700_000_000,
      kernel: { version: KVER, image: `/boot/vmlinuz-${KVER}` },
    },
    ctx: { step: "identity", reporter: silentReporter },
  });
  const read = async <T>(file: string) => {
    await identity;
    return JSON.parse(readFileSync(path.join(out, file), "utf8")) as T;
  };

  it("CycloneDX: built kernel modules as device drivers (version, kernel, sha256, origin), copied files with hashes, schema-valid", async () => {
    const cdx = await read<Cdx>("sbom.cdx.json");
    expect(cycloneDxErrors(cdx)).toEqual([]);
    const drivers = cdx.components.filter((c) => c.type === "device-driver");
    expect(drivers.map((c) => [c.name, c.version])).toEqual([
      ["hello", "DEF456"],
      ["v4l2loopback", "0.12.7"],
    ]); // the in-tree module ships with the kernel package
    const v = drivers.find((c) => c.name === "v4l2loopback")!;
    expect(v.hashes).toEqual([{ alg: "SHA-256", content: sha(v4l2) }]);
    expect(v.description).toContain("DKMS (dkms autoinstall -k 6.1.0-28-amd64) from v4l2loopback-dkms (kernelModules.dkms of recipe site-dkms)");
    expect(v.properties).toEqual(
      expect.arrayContaining([
        { name: "bootsmith:kernel-module:kernel", value: KVER },
        { name: "bootsmith:kernel-module:path", value: `/lib/modules/${KVER}/updates/dkms/v4l2loopback.ko` },
      ]),
    );
    expect(drivers.find((c) => c.name === "hello")!.description).toContain(
      "from the source files/hello-module with kbuild against linux-headers-6.1.0-28-amd64",
    );
    // Each module depends on the kernel package it was built for.
    const kernelRef = cdx.components.find((c) => c.name === `linux-image-${KVER}`)!["bom-ref"];
    expect(cdx.dependencies.find((d) => d.ref === v["bom-ref"])?.dependsOn).toEqual([kernelRef]);
    const files = cdx.components.filter((c) => c.type === "file");
    expect(files.map((c) => c.name)).toEqual(["/etc/motd", "/etc/site-release", "/opt/site/a.conf", "/opt/site/sub/b.conf"]);
    const a = files.find((c) => c.name === "/opt/site/a.conf")!;
    // The hash of what ships (a command changed it after the copy), and where it came from.
    expect(a.hashes).toContainEqual({ alg: "SHA-256", content: sha("a=1 changed by a command\n") });
    expect(a.description).toBe("files[1] of recipe site-base: copied from files/site");
    expect(files.find((c) => c.name === "/etc/site-release")!.description).toBe("files[0] of recipe site-dkms: written from its content");
    const imageRef = cdx.metadata.component["bom-ref"];
    expect(cdx.dependencies.find((d) => d.ref === imageRef)?.dependsOn).toEqual(expect.arrayContaining([v["bom-ref"], a["bom-ref"]]));
  });

  it("CycloneDX: commands and the base image make the composition incomplete, named in an annotation without secrets", async () => {
    const cdx = await read<Cdx>("sbom.cdx.json");
    const imageRef = cdx.metadata.component["bom-ref"];
    expect(cdx.compositions).toEqual([{ aggregate: "incomplete", assemblies: [imageRef] }]);
    const text = cdx.annotations?.[0]?.text ?? "";
    expect(cdx.annotations?.[0]?.subjects).toEqual([imageRef]);
    expect(text).toContain("base image docker.io/library/debian:12");
    expect(text).toContain("commands[0] of recipe site-base: run: systemctl enable munge");
    expect(text).toContain("commands[1] of recipe site-base (fetch site tools): script: curl");
    // As the recipe writes it: a secret stays a {{ template }}, never its value.
    expect(text).toContain("Bearer {{ TOKEN }}");
    expect(text).not.toContain("s3cr3t-token-value");
  });

  it("SPDX: modules as packages (checksum, sourceInfo, kernel), files with SHA1 and SHA256, the image not claimed complete, schema-valid", async () => {
    const spdx = await read<Spdx>("sbom.spdx.json");
    expect(spdxErrors(spdx)).toEqual([]);
    const v = spdx.packages.find((p) => p.name === "v4l2loopback")!;
    expect(v).toMatchObject({ versionInfo: "0.12.7", checksums: [{ algorithm: "SHA256", checksumValue: sha(v4l2) }] });
    expect(v.sourceInfo).toContain("DKMS");
    expect(v.comment).toContain(`built for kernel ${KVER}`);
    const kernelId = spdx.packages.find((p) => p.name === `linux-image-${KVER}`)!.SPDXID;
    expect(spdx.relationships).toContainEqual({ spdxElementId: v.SPDXID, relationshipType: "DEPENDS_ON", relatedSpdxElement: kernelId });
    expect(spdx.relationships).toContainEqual({ spdxElementId: "SPDXRef-Image", relationshipType: "CONTAINS", relatedSpdxElement: v.SPDXID });
    const motd = spdx.files?.find((f) => f.fileName === "./etc/motd");
    expect(motd?.checksums).toEqual([
      { algorithm: "SHA1", checksumValue: sha("welcome\n", "sha1") },
      { algorithm: "SHA256", checksumValue: sha("welcome\n") },
    ]);
    expect(motd?.comment).toBe("files[0] of recipe site-base: copied from files/motd");
    expect(spdx.relationships).toContainEqual({ spdxElementId: "SPDXRef-Image", relationshipType: "CONTAINS", relatedSpdxElement: motd?.SPDXID });
    const image = spdx.packages.find((p) => p.SPDXID === "SPDXRef-Image")!;
    expect(image.comment).toContain("Not complete");
    expect(image.comment).toContain("run: systemctl enable munge");
    expect(image.comment).not.toContain("s3cr3t-token-value");
  });
});
