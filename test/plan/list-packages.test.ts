// A layer without packages: of its own still records the image's packages (its SBOM and
// manifest.json list what the parent installed): its plan lists them with the nearest parent's
// package manager, without installing anything or cleaning package leftovers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { imagePackageManager, loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { fixedPlanOptions } from "./support.js";

const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-list-packages-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, text: string): string {
  const full = path.join(dir, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
  return full;
}

const LEAF = 'files:\n  - {dest: /etc/motd, content: "hi\\n"}\nboot:\n  kernel: newest\n';

describe("list-packages on a layer without packages:", () => {
  it("two layers above a dnf base: rpm lists the image's packages, the manifest and SBOM say dnf", () => {
    write(
      "base.yaml",
      'name: base\npackages:\n  manager: dnf\n  release: "9"\n  repos: [{name: r, baseurl: "http://mirror/r"}]\n  install: [kernel]\nboot: false\n',
    );
    write("mid.yaml", "name: mid\nfrom: {recipe: base.yaml}\ncommands:\n  - run: [/bin/true]\nboot: false\n");
    const leaf = loadRecipe(write("leaf/leaf.yaml", `name: leaf\nfrom: {recipe: ../mid.yaml}\n${LEAF}`), { env: {} });
    const p = plan(leaf, fixedPlanOptions());
    const ids = p.steps.map((s) => s.id);
    expect(ids).toContain("list-packages");
    expect(ids).not.toContain("clean-leftovers");
    expect(ids.some((id) => id.startsWith("install"))).toBe(false);
    const script = renderPlan(p);
    expect(script).toMatch(/^HOME=\S+ rpm --root="\$MNT" --dbpath=\/var\/lib\/rpm -qa .* > \/var\/tmp\/bootsmith\/work-test\/packages\.tsv$/m);
    expect(script).toMatch(/bootsmith artifacts image-identity .* --packages \/var\/tmp\/bootsmith\/work-test\/packages\.tsv/);
    expect(script).not.toContain("http://mirror/r");
    expect(p.packageManager).toBe("dnf");
    expect(imagePackageManager(leaf)).toBe("dnf");
  });

  it("on an apt base: dpkg-query reads the image's dpkg database", () => {
    write("deb.yaml", "name: deb\npackages:\n  manager: apt\n  release: bookworm\n  install: [linux-image-amd64]\nboot: false\n");
    const leaf = loadRecipe(write("deb-leaf.yaml", `name: deb-leaf\nfrom: {recipe: deb.yaml}\n${LEAF}`), { env: {} });
    expect(renderPlan(plan(leaf, fixedPlanOptions()))).toMatch(/^dpkg-query --admindir="\$MNT"\/var\/lib\/dpkg -W /m);
    expect(imagePackageManager(leaf)).toBe("apt");
  });

  it("an external base image and no packages: nothing to list with, recorded as none", () => {
    const leaf = loadRecipe(write("ext.yaml", `name: ext\nfrom: {image: "registry.local/base:1"}\n${LEAF}`), { env: {} });
    const p = plan(leaf, fixedPlanOptions());
    expect(p.steps.map((s) => s.id)).not.toContain("list-packages");
    expect(p.packageManager).toBe("none");
    // …and the recipe is told so, with the fix, where it names the image
    expect(leaf.warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`)).toEqual([
      "2: from.image: no packages: names the image's package manager, so its packages are not listed (the SBOMs and manifest.json hold none): add packages: {manager: dnf|apt|zypper} (nothing else: nothing is installed, the packages are listed)",
    ]);
  });

  it("an external base image with packages: naming only the manager: its database is listed, nothing installed", () => {
    const leaf = loadRecipe(
      write(
        "ext-apt.yaml",
        `name: ext
from: {image: "registry.local/debian:12"}
packages: {manager: apt}
${LEAF}`,
      ),
      { env: {} },
    );
    expect(leaf.warnings).toEqual([]);
    const p = plan(leaf, fixedPlanOptions());
    const ids = p.steps.map((s) => s.id);
    expect(ids).toContain("list-packages");
    expect(ids.some((id) => id.startsWith("install") || id === "configure-repos")).toBe(false);
    expect(renderPlan(p)).toMatch(/^dpkg-query --admindir="\$MNT"\/var\/lib\/dpkg -W /m);
    expect(p.packageManager).toBe("apt");
    // with something to install, the install runs as before
    const installs = loadRecipe(
      write(
        "ext-apt-jq.yaml",
        `name: ext
from: {image: "registry.local/debian:12"}
packages: {manager: apt, install: [jq]}
${LEAF}`,
      ),
      { env: {} },
    );
    expect(plan(installs, fixedPlanOptions()).steps.map((s) => s.id)).toEqual(expect.arrayContaining(["install-packages", "list-packages", "clean-leftovers"]));
  });
});
