// OpenCHAMI configs are checked as strictly as native recipes: every problem names the original
// file, line:column and key, including problems found only in the converted recipe.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../../src/recipe/load.js";
import { RecipeError } from "../../../src/recipe/errors.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-compat-errors-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines = (...l: string[]) => l.join("\n") + "\n";
/** Lines 1-4: an image-builder child layer. */
const IB = ["options:", "  layer_type: base", "  pkg_manager: dnf", "  parent: registry.local/base:9"];
/** Lines 1-7: an image-thrillhouse child layer. */
const TH = ["meta:", "  name: t", "  tags: [a]", "  from: registry.local/base:9", "layer:", "  manager:", "    name: dnf"];

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly files?: Readonly<Record<string, string>>;
  /** "LINE:COL PATH: MESSAGE". */
  readonly issues: readonly string[];
}

const cases: readonly Case[] = [
  // --- image-builder ----------------------------------------------------------------------------
  {
    name: "image-builder: unknown option, with did-you-mean",
    yaml: lines(...IB, "  publish_tag: '9.5'"),
    issues: ['5:3 options.publish_tag: unknown key "publish_tag"; did you mean "publish_tags"?'],
  },
  {
    name: "image-builder: unknown top-level key, with did-you-mean",
    yaml: lines(...IB, "package_group: ['Minimal Install']"),
    issues: ['5:1 package_group: unknown key "package_group"; did you mean "package_groups"?'],
  },
  {
    // image-builder writes each entry into its dnf.conf as key=value (installer.py generate_config);
    // a dnf command-line flag is not that form, and the message must not claim the setting unknown.
    name: "image-builder: dnf_options written as a dnf flag",
    yaml: lines(...IB, "  dnf_options: ['--setopt=install_weak_deps=False', '--nobest']"),
    issues: [
      '5:17 options.dnf_options[0]: "--setopt=install_weak_deps=False" is a dnf command-line flag; dnf_options are dnf.conf settings, as image-builder writes them into dnf.conf: write install_weak_deps=False',
      '5:53 options.dnf_options[1]: "--nobest" is a dnf command-line flag; dnf_options are dnf.conf settings (key=value) as image-builder writes them into dnf.conf; bootsmith maps gpgcheck, install_weak_deps, best and keepcache',
    ],
  },
  {
    name: "image-builder: wrong value, with the valid ones",
    yaml: lines("options:", "  layer_type: bsae", "  pkg_manager: dnf"),
    issues: ['2:15 options.layer_type: must be one of "base", "ansible"; did you mean "base"?'],
  },
  {
    name: "image-builder: Ansible layer with what cannot map (inventory, absolute playbook)",
    yaml: lines(
      "options:",
      "  layer_type: ansible",
      "  parent: registry.local/base:9",
      "  groups: [compute]",
      "  playbooks: /data/configs/playbooks/compute.yaml",
      "  inventory: /data/configs/inventory/",
    ),
    issues: [
      "6:14 options.inventory: inventory sources are not read: bootsmith generates the inventory (one host in groups:). Move the variables from the inventory's group_vars/ and host_vars/ into group_vars/ beside the playbook (bootsmith reads and hashes that directory) or into vars:, then remove inventory:",
      "5:14 options.playbooks: /data/configs/playbooks/compute.yaml is a path inside image-builder's container; give the playbook relative to this config (bootsmith reads it, its roles and group_vars/ from the config's directory)",
    ],
  },
  {
    name: "image-builder: OVAL evaluation, and scap_benchmark without a profile",
    yaml: lines(
      ...IB,
      "  scap_benchmark: true",
      "  oval_eval: true",
      "openscap:",
      "  - benchmark_path: ds.xml",
      "  - oval_url: https://example.org/oval.xml.bz2",
    ),
    files: { "ds.xml": "<ds/>\n" },
    issues: [
      "6:14 options.oval_eval: OVAL vulnerability evaluation (oval_eval, oval_url) has no bootsmith equivalent: its definitions are downloaded at build time. Remove it and run `oscap oval eval` against the published image's package list, or keep a commands: entry that runs it in the image",
      "5:19 options.scap_benchmark: scap_benchmark needs profile (an XCCDF profile id, e.g. xccdf_org.ssgproject.content_profile_standard)",
    ],
  },
  {
    name: "image-builder: unsupported copyfiles opts",
    yaml: lines(...IB, "copyfiles:", "  - src: motd", "    dest: /etc/motd", "    opts: ['--chmod=0644', '--from=builder']"),
    files: { motd: "hi\n" },
    issues: ["8:28 copyfiles[0].opts[1]: buildah copy flag --from=builder is not supported; bootsmith maps --chmod=MODE and --chown=USER[:GROUP]"],
  },
  {
    name: "image-builder: buildah flags bootsmith has no setting for",
    yaml: lines(...IB, "  publish_registry: registry.local", "  registry_opts_push: ['--sign-by=me']"),
    issues: [
      "6:24 options.registry_opts_push[0]: buildah flag --sign-by=me is not supported here; bootsmith maps --tls-verify and --authfile (publish registry tlsVerify/authFile)",
    ],
  },
  {
    name: "image-builder: a problem found in the converted recipe names the original key",
    yaml: lines(...IB, "copyfiles:", "  - src: files/missing.conf", "    dest: /etc/missing.conf"),
    issues: [
      "6:10 copyfiles[0].src: <dir>/files/missing.conf does not exist; src is relative to the recipe's directory <dir> (bootsmith recipe: files[0].src)",
    ],
  },
  {
    name: "image-builder: zypper with a .repo file URL",
    yaml: lines(
      "options:",
      "  layer_type: base",
      "  pkg_manager: zypper",
      "  parent: registry.local/sles:15",
      "repos:",
      "  - alias: extra",
      "    url: https://mirror.local/extra.repo",
    ),
    issues: [
      "7:10 repos[0].url: a .repo file URL is not supported (image-builder hands it to zypper addrepo); give the repository's baseurl, or its lines with config:",
    ],
  },
  {
    name: "image-builder: from scratch with no release in the repository URLs",
    yaml: lines(
      "options:",
      "  layer_type: base",
      "  pkg_manager: dnf",
      "repos:",
      "  - alias: base",
      "    url: http://mirror.local/$releasever/BaseOS/",
      "packages: [kernel]",
    ),
    issues: [
      "5:3 repos: bootsmith runs dnf --installroot with --releasever from scratch (image-builder leaves it to the build host), and no repository URL names the release (such as …/9/BaseOS/…): give it with `bootsmith convert --release 9 CONFIG -o RECIPE` and build the recipe that writes",
    ],
  },
  {
    name: "image-builder: a native check on s3_prefix points at s3_prefix, not publish_s3",
    yaml: lines(...IB, "  publish_s3: http://s3.local:7480", "  s3_prefix: /compute//base/"),
    issues: [
      '6:14 options.s3_prefix: "/compute//base/" has an empty path segment (a leading / or //), which makes keys an S3 console cannot show and that are not the folder meant: write "compute/base/" (bootsmith recipe: publish[0].prefix)',
    ],
  },
  // --- image-thrillhouse --------------------------------------------------------------------------
  {
    name: "image-thrillhouse: unknown keys, with did-you-mean, and a missing one",
    yaml: lines("meta:", "  name: t", "  tag: [a]", "layer:", "  manager:", "    name: dnf", "  actoins: {}"),
    issues: [
      "2:3 meta.tags: is required (array)",
      '3:3 meta.tag: unknown key "tag"; did you mean "tags"?',
      '7:3 layer.actoins: unknown key "actoins"; did you mean "actions"?',
    ],
  },
  {
    name: "image-thrillhouse: zypper options bootsmith does not have",
    yaml: lines(
      "meta:",
      "  name: t",
      "  tags: [a]",
      "  from: registry.local/sles:15",
      "layer:",
      "  manager:",
      "    name: zypper",
      "    options:",
      '      force-resolution: "true"',
      '      dup: "true"',
    ),
    issues: [
      "9:25 layer.manager.options.force-resolution: force-resolution is not supported: bootsmith installs exactly the packages named, or fails",
      '10:12 layer.manager.options.dup: zypper option "dup" is not supported by bootsmith',
    ],
  },
  {
    name: "image-thrillhouse: run: with a shell operator",
    yaml: lines(...TH, "  actions:", "    commands:", "      - run: rpm -qa | sort > /root/packages.txt"),
    issues: [
      '10:14 layer.actions.commands[0].run: run: is split into words without a shell, and "|" is a shell operator: image-thrillhouse would run only `rpm -qa`. Use script: for shell syntax',
    ],
  },
  {
    name: "image-thrillhouse: Ansible command options that cannot map, and tarball publishing",
    yaml: lines(
      ...TH,
      "  actions:",
      "    commands:",
      "      - ansible: {playbook: site.yaml, groups: [compute], skip_tags: slow, check_mode: true}",
      "publish:",
      "  - type: tarball",
      "    path: /out/t.tar",
    ),
    files: { "site.yaml": "- hosts: all\n  tasks: []\n" },
    issues: [
      "10:70 layer.actions.commands[0].ansible.skip_tags: skip_tags has no bootsmith equivalent: select the tasks to run with tags: instead, or remove the tags from the playbook",
      "10:88 layer.actions.commands[0].ansible.check_mode: a check-mode run changes nothing in the image: remove the command, or remove check_mode to apply the playbook",
      "12:11 publish[0].type: tarball publishing is not supported: export the committed image with `buildah push localhost/bootsmith/<name>:<tag> oci-archive:FILE`",
    ],
  },
  {
    name: "image-thrillhouse: from scratch without releasever",
    yaml: lines("meta:", "  name: t", "  tags: [a]", "layer:", "  manager:", "    name: dnf", "  actions:", "    install:", "      packages: [kernel]"),
    issues: ['6:5 layer.manager: options.releasever is required for a build from scratch (image-thrillhouse requires it too), e.g. releasever: "9"'],
  },
  {
    name: "image-thrillhouse: Go template directives",
    yaml: lines("meta:", "  name: t", '  tags: ["{{ .tag }}"]', "layer:", "  manager:", "    name: dnf", "    options: {releasever: '9'}"),
    issues: [
      "3:10 meta.tags[0]: Go template directives ({{ … }}) are not supported: render the config first (image-thrillhouse renders with its var files) and point bootsmith at the result",
    ],
  },
  {
    name: "image-thrillhouse: a native check on a converted value points at its origin",
    yaml: lines(...TH, "  files:", "    - path: etc/motd", "      content: hi"),
    issues: ["9:13 layer.files[0].path: must be an absolute path inside the image, e.g. /etc/motd (bootsmith recipe: files[0].dest)"],
  },
  {
    name: "image-thrillhouse: a native check on an s3 target's prefix points at that prefix",
    yaml: lines(...TH, "publish:", "  - type: s3", "    bucket: boot-images", "    prefix: /compute//base/"),
    issues: [
      '11:13 publish[0].prefix: "/compute//base/" has an empty path segment (a leading / or //), which makes keys an S3 console cannot show and that are not the folder meant: write "compute/base/"',
    ],
  },
];

let n = 0;
function issuesOf(c: Case): string[] {
  const dir = path.join(root, `c${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(c.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  const file = path.join(dir, "config.yaml");
  writeFileSync(file, c.yaml);
  try {
    loadRecipe(file, { env: {} });
  } catch (error) {
    if (!(error instanceof RecipeError)) throw error;
    return error.issues.map((i) => {
      expect(i.file).toBe(file);
      return `${i.line}:${i.column} ${i.path}: ${i.message}`.split(dir).join("<dir>");
    });
  }
  return [];
}

describe("OpenCHAMI configs: problems with positions", () => {
  it.each(cases)("$name", (c) => {
    expect(issuesOf(c)).toEqual(c.issues);
  });
});

describe("OpenCHAMI configs: warnings name the original key and its fix", () => {
  it("an image-builder layer on an image without pkg_manager is told to add options.pkg_manager, not a bootsmith packages: mapping its format refuses", () => {
    const dir = path.join(root, "warning");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, lines("options:", "  layer_type: ansible", "  parent: registry.local/base:9", "  playbooks: site.yml"));
    writeFileSync(path.join(dir, "site.yml"), "- hosts: all\n  tasks: []\n");
    const warnings = loadRecipe(file, { env: {} }).warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${w.message}`);
    expect(warnings).toEqual([
      "3:11 options.parent: no packages: names the image's package manager, so its packages are not listed (the SBOMs and manifest.json hold none): add options.pkg_manager: dnf|zypper (nothing else: nothing is installed, the packages are listed) (bootsmith recipe: from.image)",
    ]);
  });
});
