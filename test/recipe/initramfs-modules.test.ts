// The initramfs modules a recipe gets by default on each family, and the module lists that are
// explained before anything is built: an error where dracut certainly fails (Debian's `network`
// resolving to systemd-networkd without dbus), a warning where it depends on packages.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { RecipeError } from "../../src/recipe/errors.js";
import { checkInitramfsModules, DEFAULT_INITRAMFS_MODULES, imageFamily, type LayerChain } from "../../src/recipe/initramfs-modules.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-modules-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DEBIAN_BOOT = ["linux-image-amd64", "systemd-sysv", "dracut", "dracut-live", "dracut-network", "curl", "isc-dhcp-client", "procps", "iproute2"];
const debian = (install: string[], fromScratch = true): LayerChain => ({ layers: [{ manager: "apt", install }], fromScratch });

describe("the image family and its default modules", () => {
  it.each([
    [[{ manager: "apt", install: [] }], "debian"],
    [[{ manager: "dnf", install: [] }], "el"],
    // a child without packages: its parent's manager decides
    [[{ install: [] }, { manager: "apt", install: [] }], "debian"],
    [[{ install: [] }], "unknown"],
  ] as const)("%j is %s", (layers, family) => {
    expect(imageFamily({ layers, fromScratch: false })).toBe(family);
  });

  it("Debian names network-legacy (no dbus needed); EL keeps dracut's network", () => {
    expect(DEFAULT_INITRAMFS_MODULES.debian).toEqual(["dmsquash-live", "livenet", "network-legacy"]);
    expect(DEFAULT_INITRAMFS_MODULES.el).toEqual(["dmsquash-live", "livenet", "network"]);
  });
});

describe("checkInitramfsModules", () => {
  it.each<[string, readonly string[], LayerChain, { severity: "error" | "warning"; match: RegExp }[]]>([
    ["the Debian default with its packages", DEFAULT_INITRAMFS_MODULES.debian, debian(DEBIAN_BOOT), []],
    [
      "Debian network without dbus, chain from scratch",
      ["dmsquash-live", "livenet", "network"],
      debian(DEBIAN_BOOT),
      [{ severity: "error", match: /network \(systemd-networkd on Debian\) needs dbus.*'ifcfg' cannot be found or installed.*network-legacy/ }],
    ],
    ["Debian livenet alone pulls network, the same", ["dmsquash-live", "livenet"], debian(DEBIAN_BOOT), [{ severity: "error", match: /needs dbus/ }]],
    ["Debian network with dbus installed", ["dmsquash-live", "livenet", "network"], debian([...DEBIAN_BOOT, "dbus"]), []],
    [
      "Debian network on an external base: may have dbus",
      ["dmsquash-live", "livenet", "network"],
      debian(DEBIAN_BOOT, false),
      [{ severity: "warning", match: /needs dbus in the image, and no layer names it/ }],
    ],
    ["network-legacy named next to network decides the backend", ["dmsquash-live", "livenet", "network", "network-legacy"], debian(DEBIAN_BOOT), []],
    [
      "Debian network-manager without the package",
      ["dmsquash-live", "livenet", "network-manager"],
      debian([...DEBIAN_BOOT, "dbus"]),
      [{ severity: "warning", match: /network-manager needs network-manager/ }],
    ],
    [
      "Debian default without its packages",
      DEFAULT_INITRAMFS_MODULES.debian,
      debian(["linux-image-amd64", "dracut"]),
      [
        {
          severity: "warning",
          match:
            /dmsquash-live needs dracut-live; livenet needs dracut-live, dracut-network, curl; network-legacy needs dracut-network, isc-dhcp-client, procps, iproute2/,
        },
      ],
    ],
    [
      "EL network-manager without NetworkManager",
      ["dmsquash-live", "livenet", "network-manager"],
      { layers: [{ manager: "dnf", install: ["kernel"] }], fromScratch: true },
      [{ severity: "warning", match: /network-manager needs NetworkManager/ }],
    ],
    ["EL default", DEFAULT_INITRAMFS_MODULES.el, { layers: [{ manager: "dnf", install: ["kernel"] }], fromScratch: true }, []],
  ])("%s", (_name, modules, chain, expected) => {
    const findings = checkInitramfsModules(modules, chain);
    expect(findings.map((f) => f.severity)).toEqual(expected.map((e) => e.severity));
    findings.forEach((f, i) => expect(f.message).toMatch(expected[i]!.match));
  });
});

describe("loading recipes", () => {
  let n = 0;
  function write(files: Record<string, string>): string {
    const dir = path.join(root, `r${n++}`);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    return dir;
  }
  const debianBase = `name: base\nfrom: scratch\npackages:\n  manager: apt\n  release: bookworm\n  install: [${DEBIAN_BOOT.join(", ")}]\nboot: false\n`;

  it("a Debian child without packages gets the Debian default through its parent; a dnf recipe keeps network", () => {
    const dir = write({
      "base.yaml": debianBase,
      "child.yaml": "name: child\nfrom:\n  recipe: base.yaml\n",
      "el.yaml": 'name: el\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n',
    });
    const child = loadRecipe(path.join(dir, "child.yaml"), { env: {} });
    expect(child.spec.boot && child.spec.boot.initramfs.modules).toEqual(DEFAULT_INITRAMFS_MODULES.debian);
    expect(child.warnings).toEqual([]);
    const el = loadRecipe(path.join(dir, "el.yaml"), { env: {} });
    expect(el.spec.boot && el.spec.boot.initramfs.modules).toEqual(DEFAULT_INITRAMFS_MODULES.el);
  });

  it("refuses Debian's network without dbus with the file, line and field, before anything is built", () => {
    const dir = write({
      "base.yaml": debianBase,
      "child.yaml": "name: child\nfrom:\n  recipe: base.yaml\nboot:\n  initramfs:\n    modules: [dmsquash-live, livenet, network]\n",
    });
    const load = () => loadRecipe(path.join(dir, "child.yaml"), { env: {} });
    expect(load).toThrow(RecipeError);
    expect(load).toThrow(/child\.yaml:6:14: boot\.initramfs\.modules: dracut's network \(systemd-networkd on Debian\) needs dbus/);
  });

  it("warns, with a position, when a module's packages are named by no layer", () => {
    const dir = write({
      "r.yaml": "name: r\nfrom: scratch\npackages:\n  manager: apt\n  release: bookworm\n  install: [linux-image-amd64, dracut, dracut-live, dracut-network]\n",
    });
    const r = loadRecipe(path.join(dir, "r.yaml"), { env: {} });
    expect(r.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      expect.stringMatching(/^boot\.initramfs\.modules: livenet needs curl; network-legacy needs isc-dhcp-client, procps, iproute2: no layer installs them/),
    ]);
  });
});
