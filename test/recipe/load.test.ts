// What the loader accepts: variables ($${VAR} escape, --var override, importEnv), defaults,
// parents, file sources and the input digest.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe, type LoadOptions } from "../../src/recipe/load.js";
import { inputDigests } from "../../src/recipe/inputs.js";
import { locateInRecipe } from "../../src/recipe/source.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-load-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function load(yaml: string, options: LoadOptions = {}, files: Record<string, string> = {}) {
  const dir = path.join(root, `r${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  writeFileSync(path.join(dir, "recipe.yaml"), yaml);
  return loadRecipe(path.join(dir, "recipe.yaml"), { env: {}, ...options });
}

const BASE = 'name: t\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n';

describe("variables", () => {
  it("substitutes vars: into every string; $${NAME} in a vars: value is a literal", () => {
    const r = load(
      `${BASE}vars:\n  TAG: "9.5"\n  MIRROR: https://mirror.example/$\${NOT_SUBSTITUTED}\ntags: ["\${TAG}", "\${TAG}-x"]\ndescription: "from \${MIRROR}"\n`,
    );
    expect(r.spec.tags).toEqual(["9.5", "9.5-x"]);
    expect(r.spec.description).toBe("from https://mirror.example/${NOT_SUBSTITUTED}");
  });

  it("a vars: value builds on other variables (vars:, --var, importEnv), expanded before it is used", () => {
    const yaml = `${BASE}importEnv: [SITE]\nvars:\n  BASEOS: "\${MIRROR}/9/BaseOS"\n  MIRROR: https://\${SITE}.example\ncommands:\n  - script: echo \${BASEOS}\n`;
    expect(load(yaml, { env: { SITE: "lab" } }).spec.commands[0]?.script).toBe("echo https://lab.example/9/BaseOS");
    // --var MIRROR replaces the recipe's MIRROR, and BASEOS follows it; a --var value is taken as it is.
    expect(load(yaml, { env: { SITE: "lab" }, vars: { MIRROR: "http://m/${X}" } }).spec.commands[0]?.script).toBe("echo http://m/${X}/9/BaseOS");
  });

  it("a vars: value naming an undefined variable, or itself through others, is an error at its line", () => {
    expect(() => load(`${BASE}vars:\n  BASEOS: "\${MIRROR}/9"\n`)).toThrow(
      /recipe\.yaml:8:11: vars\.BASEOS: \$\{MIRROR\} is not defined: add it to vars:, pass --var MIRROR=VALUE/,
    );
    expect(() => load(`${BASE}vars:\n  A: "\${B}"\n  B: "x\${A}"\n`)).toThrow(/vars\.B: \$\{A\} refers back to itself \(A → B → A\)/);
  });

  it("$${VAR} is a literal ${VAR} and needs no definition", () => {
    const r = load(`${BASE}commands:\n  - script: 'echo "$\${HOME}" $$\${X}'\n`);
    expect(r.spec.commands[0]?.script).toBe('echo "${HOME}" $${X}');
  });

  it("--var overrides vars:", () => {
    const r = load(`${BASE}vars: {TAG: a}\ntags: ["\${TAG}"]\n`, { vars: { TAG: "b" } });
    expect(r.spec.tags).toEqual(["b"]);
  });

  it("--var defines variables the recipe does not", () => {
    const r = load(`${BASE}description: "\${WHO}"\n`, { vars: { WHO: "ci" } });
    expect(r.spec.description).toBe("ci");
  });

  it("importEnv takes only the named environment variables; vars: wins over them", () => {
    const r = load(`${BASE}importEnv: [BUILD_HOST, SITE]\nvars: {SITE: lab}\ndescription: "\${BUILD_HOST} \${SITE}"\n`, {
      env: { BUILD_HOST: "h1", SITE: "env", OTHER: "x" },
    });
    expect(r.spec.description).toBe("h1 lab");
  });

  it("values are substituted verbatim, never re-expanded", () => {
    const r = load(`${BASE}description: "\${A}"\n`, { vars: { A: "${B} $(id) `id`" } });
    expect(r.spec.description).toBe("${B} $(id) `id`");
  });
});

describe("YAML", () => {
  it("merge keys (<<: *anchor, <<: [*a, *b]) merge mappings, the item's own keys winning", () => {
    const r = load(
      [
        BASE.replace("  install: [kernel]\n", "  install: &base [kernel, dracut]\n"),
        "files:",
        '  - &motd {dest: /etc/motd, content: "hi\\n", mode: "0640"}',
        "  - {<<: *motd, dest: /etc/issue}",
        "commands:",
        "  - &env {env: {A: a}, run: [/bin/true]}",
        "  - <<: [*env, {timeout: 5}]",
        "    run: [/bin/false]",
        "labels: {x: y}",
        "description: >",
        "  folded",
        "  text",
      ].join("\n") + "\n",
    );
    expect(r.spec.packages?.install).toEqual(["kernel", "dracut"]);
    expect(r.spec.files[1]).toEqual({ dest: "/etc/issue", content: "hi\n", mode: "0640" });
    expect(r.spec.commands[1]).toMatchObject({ env: { A: "a" }, timeout: 5, run: ["/bin/false"] });
    expect(r.spec.description).toBe("folded text\n");
  });
});

describe("defaults and parents", () => {
  it("fills defaults", () => {
    const r = load(BASE);
    expect(r.spec.tags).toEqual(["latest"]);
    expect(r.spec.arch).toBe("x86_64");
    expect(r.spec.boot && r.spec.boot.initramfs.modules).toEqual(["dmsquash-live", "livenet", "network"]); // dnf: EL default
    expect(r.spec.boot && r.spec.boot.rootfs.profile).toBe("dev");
  });

  it("loads a parent recipe and resolves file sources inside the recipe directory", () => {
    const r = load(
      "name: child\nfrom:\n  recipe: base/base.yaml\nfiles:\n  - dest: /etc/motd\n    src: files/motd\n",
      {},
      {
        "base/base.yaml": `${BASE.replace("name: t", "name: base")}boot: false\n`,
        "files/motd": "hi\n",
      },
    );
    expect(r.parent?.spec.name).toBe("base");
    expect(r.parent?.file).toBe(path.join(path.dirname(r.file), "base", "base.yaml"));
    expect(r.fileSources.get(0)).toBe(path.join(path.dirname(r.file), "files", "motd"));
  });

  it("the input digest is stable and covers file contents", () => {
    const a = load(`${BASE}files:\n  - dest: /etc/motd\n    src: motd\n`, {}, { motd: "one\n" });
    const b = load(`${BASE}files:\n  - dest: /etc/motd\n    src: motd\n`, {}, { motd: "one\n" });
    const c = load(`${BASE}files:\n  - dest: /etc/motd\n    src: motd\n`, {}, { motd: "two\n" });
    expect(a.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.inputDigest).toBe(a.inputDigest);
    expect(c.inputDigest).not.toBe(a.inputDigest);
  });
});

describe("files that overlap", () => {
  it("overlays are accepted: a file over a directory's copy, two directories merged, two files into one directory", () => {
    const files = { "site/a.conf": "a\n", "site/b.conf": "b\n", "site2/c.conf": "c\n", motd: "m\n", issue: "i\n" };
    const yaml = `${BASE}files:
  - {dest: /etc/site/, src: site}
  - {dest: /etc/site/, src: site2}
  - {dest: /etc/site/a.conf, content: override}
  - {dest: /etc/, src: motd}
  - {dest: /etc/, src: issue}
`;
    expect(load(yaml, {}, files).spec.files).toHaveLength(5);
  });
});

describe("boot params", () => {
  it("a folded block (params: >) is one line: YAML's closing newline is dropped", () => {
    const r = load(
      `${BASE}boot:\n  params: >\n    console=ttyS0 ip=dhcp\n    root=live:{{ rootfs.url }}\npublish:\n  - {type: local, dir: /srv/boot}\nregister:\n  - type: bss\n    url: http://bss.local\n    nids: [1]\n    params: >\n      quiet\n      slurm=1\n`,
    );
    expect(r.spec.boot && r.spec.boot.params).toBe("console=ttyS0 ip=dhcp root=live:{{ rootfs.url }}");
    expect(r.spec.register[0]?.params).toBe("quiet slurm=1");
  });
});

describe("locateInRecipe", () => {
  it("gives a recipe entry's file, line and column (a failed build step names it), the file alone when unreadable", () => {
    const r = load(`${BASE}commands:\n  - run: ["true"]\n  - name: second\n    script: exit 3\n`);
    expect(locateInRecipe(r.file, ["commands", 1])).toBe(`${r.file}:9:5`);
    expect(locateInRecipe(r.file, ["packages"])).toBe(`${r.file}:4:3`);
    expect(locateInRecipe(path.join(root, "gone.yaml"), ["commands", 0])).toBe(path.join(root, "gone.yaml"));
  });
});

describe("kernelModules", () => {
  const APT = "name: k\nfrom: scratch\npackages:\n  manager: apt\n  release: bookworm\n  install: [linux-image-amd64]\n";
  const SOURCE = { "mod/Kbuild": "obj-m := m.o\n", "mod/m.c": "/* module */\n" };

  it("resolves build.src inside the recipe's directory and hashes its contents into the input digest", () => {
    const yaml = `${APT}kernelModules:\n  dkms: [v4l2loopback-dkms]\n  build:\n    src: mod\n`;
    const a = load(yaml, {}, SOURCE);
    const b = load(yaml, {}, { ...SOURCE, "mod/m.c": "/* changed */\n" });
    expect(a.kernelModuleSource).toBe(path.join(path.dirname(a.file), "mod"));
    expect(a.spec.kernelModules).toEqual({ dkms: ["v4l2loopback-dkms"], build: { src: "mod", make: [] } });
    expect(b.inputDigest).not.toBe(a.inputDigest);
    expect(inputDigests(b)["kernelModules.build.src"]).not.toBe(inputDigests(a)["kernelModules.build.src"]);
  });

  it.each([
    [`${APT}kernelModules: {}\n`, "give dkms (a list of DKMS packages) or build (a module source directory)"],
    [`${APT}kernelModules:\n  dkms: [x-dkms]\nboot: false\n`, "but boot: false"],
    [`${BASE}kernelModules:\n  dkms: [x-dkms]\n`, "but packages.manager is dnf"],
    ['name: k\nfrom: {image: "r/x:1"}\nkernelModules:\n  dkms: [x-dkms]\n', "add packages: {manager: apt} to this recipe"],
    [`${APT}kernelModules:\n  build:\n    src: ../elsewhere\n`, "kernelModules.build.src"],
    [`${APT}kernelModules:\n  build:\n    src: mod\n    make: ["-j 4"]\n`, "must be one make argument"],
  ])("refuses %j", (yaml, message) => {
    expect(() => load(yaml, {}, SOURCE)).toThrow(message);
  });
});

describe("the paths steps read: each must be the kind of thing its tool takes, checked at its line", () => {
  const LAYER = 'name: p\nfrom: {image: "r/x:1"}\npackages: {manager: apt}\n';
  const FILES = {
    "play/site.yml": "- hosts: all\n  tasks: []\n",
    "play/roles/r/tasks/main.yml": "[]\n",
    "mod/Kbuild": "obj-m := m.o\n",
    "mod/m.c": "/* module */\n",
    "empty/README": "no build files here\n",
    "scap/ds.xml": '<Profile id="xccdf_x_profile_p"/>\n',
  };
  it.each([
    [
      `${LAYER}commands:\n  - ansible: {playbook: play}\n`,
      "5:25: commands[0].ansible.playbook: play is a directory; give the playbook file, e.g. play/site.yml",
    ],
    [
      `${LAYER}commands:\n  - ansible: {playbook: play/site.yml, roles: play/site.yml}\n`,
      "5:47: commands[0].ansible.roles: play/site.yml is a file; give the directory that holds the roles",
    ],
    [
      `${LAYER}kernelModules:\n  build: {src: mod/Kbuild}\n`,
      "5:16: kernelModules.build.src: mod/Kbuild is a file; give the directory that holds the module's source",
    ],
    [
      `${LAYER}kernelModules:\n  build: {src: empty}\n`,
      "5:16: kernelModules.build.src: empty has neither a Kbuild file nor a Makefile, which make -C /lib/modules/KVER/build M=DIR needs",
    ],
    [
      `${LAYER}scan:\n  openscap: {profile: p, datastream: scap}\n`,
      "5:38: scan.openscap.datastream: scap is a directory; give the data stream file, e.g. scap/ds.xml",
    ],
    [
      `${LAYER}scan:\n  openscap: {profile: p, datastream: scap/ds.xml, tailoring: scap}\n`,
      "scan.openscap.tailoring: scap is a directory; give the tailoring file, e.g. scap/ds.xml",
    ],
    [
      `${LAYER}scan:\n  openscap: {profile: p, datastream: scap/ds.xml, cpe: scap}\n`,
      "scan.openscap.cpe: scap is a directory; give the CPE dictionary file, e.g. scap/ds.xml",
    ],
  ])("refuses %j", (yaml, message) => {
    expect(() => load(yaml, {}, FILES)).toThrow(message);
  });
});

describe("scan.openscap.profile: one of the content's profiles, checked at validate (oscap refuses any other only when the scan runs)", () => {
  const LAYER = 'name: p\nfrom: {image: "r/x:1"}\npackages: {manager: apt}\n';
  // The shape of SSG's data streams (xccdf-1.2: prefix) and of a tailoring file (xccdf: prefix).
  const CONTENT = {
    "ds.xml": [
      '<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2">',
      '<xccdf-1.2:Benchmark id="xccdf_org.ssgproject.content_benchmark_DEBIAN-11">',
      '<xccdf-1.2:Profile id="xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"><xccdf-1.2:title>x</xccdf-1.2:title></xccdf-1.2:Profile>',
      '<xccdf-1.2:Profile id="xccdf_org.ssgproject.content_profile_anssi_np_nt28_minimal"/>',
      "<xccdf-1.2:Profile id='xccdf_org.ssgproject.content_profile_standard'/>",
      '<xccdf-1.2:Profile id="xccdf_org.ssgproject.content_profile_cis_level1_server"/>',
      '<xccdf-1.2:Profile id="xccdf_org.ssgproject.content_profile_cis_level2_server"/>',
      "</xccdf-1.2:Benchmark></ds:data-stream-collection>",
    ].join("\n"),
    "tailoring.xml":
      '<xccdf:Tailoring id="t"><xccdf:Profile id="xccdf_site_profile_compute" extends="xccdf_org.ssgproject.content_profile_standard"/></xccdf:Tailoring>\n',
    "oval.xml": "<oval_definitions><definitions/></oval_definitions>\n",
  };
  const scan = (profile: string, extra = "") => `${LAYER}scan:\n  openscap:\n    profile: ${profile}\n    datastream: ds.xml\n${extra}`;

  it("takes a full id, or a suffix as oscap does, which it writes out in full (remediation finds the TestResult by the full id)", () => {
    expect(load(scan("xccdf_org.ssgproject.content_profile_standard"), {}, CONTENT).scanSources?.profile).toBe("xccdf_org.ssgproject.content_profile_standard");
    expect(load(scan("standard"), {}, CONTENT).scanSources?.profile).toBe("xccdf_org.ssgproject.content_profile_standard");
    expect(load(scan("nt28_high"), {}, CONTENT).scanSources?.profile).toBe("xccdf_org.ssgproject.content_profile_anssi_np_nt28_high");
    // A tailoring file's own profile.
    expect(load(scan("xccdf_site_profile_compute", "    tailoring: tailoring.xml\n"), {}, CONTENT).scanSources?.profile).toBe("xccdf_site_profile_compute");
  });

  it.each([
    [
      scan("xccdf_org.ssgproject.content_profile_standart"),
      "6:14: scan.openscap.profile: xccdf_org.ssgproject.content_profile_standart is not a profile of ds.xml; did you mean xccdf_org.ssgproject.content_profile_standard? (oscap info ds.xml lists them: xccdf_org.ssgproject.content_profile_anssi_np_nt28_high, xccdf_org.ssgproject.content_profile_anssi_np_nt28_minimal, xccdf_org.ssgproject.content_profile_standard, xccdf_org.ssgproject.content_profile_cis_level1_server, xccdf_org.ssgproject.content_profile_cis_level2_server)",
    ],
    [scan("cis_level3_server"), "scan.openscap.profile: cis_level3_server is not a profile of ds.xml (oscap info ds.xml lists them:"],
    [scan("xccdf_site_profile_compute"), "xccdf_site_profile_compute is not a profile of ds.xml (oscap info"],
    [scan("xccdf_nope", "    tailoring: tailoring.xml\n"), "xccdf_nope is not a profile of ds.xml nor of the tailoring file tailoring.xml"],
    // A suffix is the end of an id, as oscap matches it, not any part of one.
    [scan("nt28_h"), "nt28_h is not a profile of ds.xml"],
    [
      scan("server"),
      "6:14: scan.openscap.profile: server is the end of several profile ids (xccdf_org.ssgproject.content_profile_cis_level1_server, xccdf_org.ssgproject.content_profile_cis_level2_server), as oscap would refuse it; give the full id",
    ],
    [
      `${LAYER}scan:\n  openscap:\n    profile: standard\n    datastream: oval.xml\n`,
      "7:17: scan.openscap.datastream: oval.xml defines no XCCDF profile: give a SCAP source data stream (e.g. /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml)",
    ],
  ])("refuses %j", (yaml, message) => {
    expect(() => load(yaml, {}, CONTENT)).toThrow(message);
  });
});
