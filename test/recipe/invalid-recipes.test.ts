// Table-driven: every invalid recipe is rejected with the exact file, line:column, path and
// message, all problems of a file together. Recipes are written to a fresh temporary directory;
// "<dir>" in an expected message stands for that case's directory (real path).
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe, type LoadOptions } from "../../src/recipe/load.js";
import { RecipeError, type RecipeIssue } from "../../src/recipe/errors.js";
import { MAX_RECIPE_BYTES } from "../../src/recipe/source.js";

/** Lines 1-6 of most cases: a valid dnf recipe from scratch. Extra lines start at line 7. */
const BASE = ["name: t", "from: scratch", "packages:", "  manager: dnf", '  release: "9"', "  install: [kernel]"];
const withBase = (...lines: string[]) => [...BASE, ...lines].join("\n") + "\n";
const lines = (...l: string[]) => l.join("\n") + "\n";
/** apt on a Debian parent image with the one repository `repos` (a flow mapping on the line). */
const aptRepoOnParent = (repos: string) =>
  lines("name: t", "from:", "  image: registry.local/debian:12", "packages:", "  manager: apt", `  repos: ${repos}`, "  install: [slurmd]");

interface Case {
  readonly name: string;
  /** recipe.yaml's content. */
  readonly yaml: string | Buffer;
  /** Other files in the case directory (relative path → content). */
  readonly files?: Readonly<Record<string, string | Buffer>>;
  /** Symlinks in the case directory (relative path → target; "<root>" is the temp root). */
  readonly symlinks?: Readonly<Record<string, string>>;
  readonly options?: LoadOptions;
  /** Expected issues: "LINE:COL PATH: MESSAGE" ("-" for no position, PATH omitted when empty), optionally "FILE> " first. */
  readonly issues: readonly string[];
}

const VALID_KEYS =
  "apiVersion, name, tags, arch, arches, description, labels, vars, importEnv, secrets, from, packages, groups, users, files, commands, kernelModules, scan, boot, publish, register, signing";
const NOT_DEFINED = (v: string) => `\${${v}} is not defined: add it to vars:, pass --var ${v}=VALUE, or list it in importEnv: (write $\${${v}} for a literal)`;

const BIG = withBase(`description: "${"x".repeat(MAX_RECIPE_BYTES)}"`);

const cases: readonly Case[] = [
  // --- unknown keys, with did-you-mean ---------------------------------------------------------
  { name: "unknown top-level key", yaml: withBase("tagz: [a]"), issues: ['7:1 tagz: unknown key "tagz"; did you mean "tags"?'] },
  { name: "unknown top-level key, nothing close", yaml: withBase("colour: red"), issues: [`7:1 colour: unknown key "colour"; valid keys: ${VALID_KEYS}`] },
  {
    name: "unknown nested key",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dnf", '  relase: "9"', "  install: [kernel]"),
    issues: ['5:3 packages.relase: unknown key "relase"; did you mean "release"?'],
  },
  {
    name: "unknown key three levels down",
    yaml: withBase("boot:", "  rootfs:", "    compresion: xz"),
    issues: ['9:5 boot.rootfs.compresion: unknown key "compresion"; did you mean "compression"?'],
  },
  {
    name: "unknown key in a publish s3 entry",
    yaml: withBase("publish:", "  - type: s3", "    bucket: boot-images", "    publicbase: http://s3.local/boot-images"),
    issues: ['10:5 publish[0].publicbase: unknown key "publicbase"; did you mean "publicBase"?'],
  },
  {
    name: "an S3 prefix with empty path segments: keys no S3 console shows",
    yaml: withBase("publish:", "  - type: s3", "    bucket: boot-images", "    prefix: /site//compute/"),
    issues: [
      '10:13 publish[0].prefix: "/site//compute/" has an empty path segment (a leading / or //), which makes keys an S3 console cannot show and that are not the folder meant: write "site/compute/"',
    ],
  },
  {
    name: "key of another publish type: keys listed for the entry's type",
    yaml: withBase("publish:", "  - type: local", "    dir: /srv/images", "    bucket: boot-images"),
    issues: ['10:5 publish[0].bucket: unknown key "bucket"; valid keys: type, dir, publicBase'],
  },
  {
    name: "unknown key in a bss registration",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    mac: ['52:54:00:12:34:56']", "    nids: [1]"),
    issues: ['10:5 register[0].mac: unknown key "mac"; did you mean "macs"?'],
  },
  {
    name: "unknown key in a boot-service registration",
    yaml: withBase("register:", "  - type: boot-service", "    url: http://boot.local", "    name: compute", "    group: [compute]"),
    // Without a recognized groups: the entry also names no node: both are reported.
    issues: [
      "8:5 register[0]: name at least one node: macs, hosts, nids (or groups for boot-service)",
      '11:5 register[0].group: unknown key "group"; did you mean "groups"?',
    ],
  },
  {
    name: "boot-service key in a bss registration",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    nids: [1]", "    priority: 5"),
    issues: ['11:5 register[0].priority: unknown key "priority"; valid keys: type, arch, url, macs, hosts, nids, params, tokenEnv, caFile, from, verify'],
  },
  {
    // Real .repo files carry exclude=, module_hotfixes=, sslverify=…: bootsmith has keys for a few,
    // the repository's content: takes the whole file.
    name: "a .repo setting bootsmith has no key for",
    yaml: withBase("  repos:", "    - name: epel", "      baseurl: https://mirror.local/epel/9/", "      exclude: [slurm*]"),
    issues: [
      '10:7 packages.repos[0].exclude: unknown key "exclude"; valid keys: name, baseurl, content, gpgkey, gpgcheck, priority, enabled, suite, components; for other settings of the repository file (exclude=, module_hotfixes=, sslverify= …) write the whole file in content:',
    ],
  },
  // --- wrong types ------------------------------------------------------------------------------
  { name: "string where a list belongs", yaml: withBase("tags: a"), issues: ['7:7 tags: must be a list, not string "a"'] },
  {
    name: "list item of the wrong type",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    nids: ['1']"),
    issues: ['10:12 register[0].nids[0]: must be a number, not string "1"; the quotes make it a string: write 1'],
  },
  {
    name: "quoted number in a number field",
    yaml: withBase("users:", "  - name: slurm", '    uid: "992"'),
    issues: ['9:10 users[0].uid: must be a number, not string "992"; the quotes make it a string: write 992'],
  },
  { name: "boot: true", yaml: withBase("boot: true"), issues: ["7:7 boot: must be false (no boot artifacts) or a mapping of boot settings"] },
  { name: "empty packages: section", yaml: lines("name: t", "packages:"), issues: ["2:10 packages: must be a mapping, not null (an empty value)"] },
  // --- enums --------------------------------------------------------------------------------------
  {
    name: "manager: dfn",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dfn", '  release: "9"'),
    issues: ['4:12 packages.manager: must be one of "dnf", "apt", "zypper"; did you mean "dnf"?'],
  },
  { name: "arch: x86-64", yaml: withBase("arch: x86-64"), issues: ['7:7 arch: must be one of "x86_64", "aarch64"; did you mean "x86_64"?'] },
  {
    name: "compression: xzz",
    yaml: withBase("boot:", "  rootfs:", "    compression: xzz"),
    issues: ['9:18 boot.rootfs.compression: must be one of "zstd", "xz", "gzip", "lz4", "lzo"; did you mean "xz"?'],
  },
  {
    name: "unknown publish type",
    yaml: withBase("publish:", "  - type: ftp", "    dir: /srv"),
    issues: ['8:11 publish[0].type: must be one of "registry", "s3", "local"'],
  },
  { name: "apiVersion v2", yaml: withBase("apiVersion: bootsmith/v2"), issues: ['7:13 apiVersion: must be "bootsmith/v1"'] },
  { name: "from: a bare string", yaml: lines("name: t", "from: rocky:9"), issues: ['2:7 from: must be "scratch", {image: REF} or {recipe: PATH}'] },
  {
    name: "from: an image reference with a space: refused at its line, not by buildah from",
    yaml: lines("name: t", "from:", '  image: "registry.local/base/rocky 9:9.5"'),
    issues: [
      '3:10 from.image: "registry.local/base/rocky 9:9.5" is not an image reference (it holds white space): write [HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST] with a lowercase PATH, e.g. registry.local/base/rocky:9.5',
    ],
  },
  {
    name: "from: an image reference with capitals in its path",
    yaml: lines("name: t", "from:", "  image: registry.local/Site/Rocky:9"),
    issues: [
      '3:10 from.image: "registry.local/Site/Rocky:9" is not an image reference (its repository path has capital letters; registries take lowercase paths only): write [HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST] with a lowercase PATH, e.g. registry.local/base/rocky:9.5',
    ],
  },
  {
    name: "from: an image in an archive (another buildah transport)",
    yaml: lines("name: t", "from:", "  image: oci-archive:/srv/base.tar"),
    issues: [
      `3:10 from.image: "oci-archive:/srv/base.tar" is read through buildah's oci-archive: transport, but from.image is pulled from a registry or found in buildah's storage by its name: load it first (buildah pull oci-archive:/srv/base.tar) and name the image it gets, e.g. localhost/base:1`,
    ],
  },
  // --- value formats ------------------------------------------------------------------------------
  {
    name: "publish: a registry repository a push would refuse (capitals, a space, a tag): refused at its line, before the build",
    yaml: withBase(
      "publish:",
      "  - type: registry",
      "    repository: registry.local:5000/Site/rocky 9",
      "  - type: registry",
      "    repository: registry.local:5000/site/rocky:9",
    ),
    issues: [
      '9:17 publish[0].repository: "registry.local:5000/Site/rocky 9" is not a registry repository: write HOST[:PORT]/PATH with a lowercase PATH and no tag (the recipe\'s tags are pushed), e.g. registry.local:5000/images/rocky-9',
      '11:17 publish[1].repository: "registry.local:5000/site/rocky:9" is not a registry repository: write HOST[:PORT]/PATH with a lowercase PATH and no tag (the recipe\'s tags are pushed), e.g. registry.local:5000/images/rocky-9',
    ],
  },
  {
    name: "bad MAC",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    macs: ['52:54:00:12:34:56', '52:54:00:12:34']"),
    issues: ["10:33 register[0].macs[1]: must be a MAC address like 52:54:00:12:34:56 or 52-54-00-12-34-56"],
  },
  {
    name: "MAC mixing colons and dashes (dashes alone, upper case: valid)",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    macs: [52-54-00-AB-34-56, 52:54-00:12:34:56]"),
    issues: ["10:31 register[0].macs[1]: must be a MAC address like 52:54:00:12:34:56 or 52-54-00-12-34-56"],
  },
  {
    name: "bad xname",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    hosts: [x1000c0s0b0n0, x1000c0s0n0b0]"),
    issues: ["10:28 register[0].hosts[1]: is not an xname: write cabinet, chassis, slot, board and node in that order, as in x1000c0s0b0n0"],
  },
  {
    name: "a MAC among hosts (host names and tags are valid: what BSS's hosts take)",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local:27778", "    hosts: [nid001, Compute, x1000c0s0b0n0, '52:54:00:12:34:56']"),
    issues: ["10:45 register[0].hosts[3]: is a MAC address: give it in macs, not as a host name"],
  },
  {
    name: "bad tag",
    yaml: withBase("tags: [ok, -bad]"),
    issues: ["7:12 tags[1]: must be an OCI tag: letters, digits, _ . -, at most 128 characters, not starting with . or -"],
  },
  {
    name: "tag too long",
    yaml: withBase(`tags: [${"a".repeat(129)}]`),
    issues: ["7:8 tags[0]: must be an OCI tag: letters, digits, _ . -, at most 128 characters, not starting with . or -"],
  },
  { name: "duplicate tags", yaml: withBase("tags: [a, b, a]"), issues: ['7:14 tags[2]: tag "a" is listed twice'] },
  { name: "no tags", yaml: withBase("tags: []"), issues: ["7:7 tags: give at least one tag; the first is the primary"] },
  {
    name: "image name with capitals",
    yaml: withBase("description: x").replace("name: t", "name: Rocky9"),
    issues: ["1:7 name: must be lowercase letters, digits and . _ - separators (an OCI image name), e.g. rocky-9-compute"],
  },
  {
    name: "registration URL without scheme",
    yaml: withBase("register:", "  - type: bss", "    url: bss.local:27778", "    nids: [1]"),
    issues: ["9:10 register[0].url: must be an http:// or https:// URL"],
  },
  {
    name: "repository URL without scheme",
    yaml: lines(
      "name: t",
      "from: scratch",
      "packages:",
      "  manager: dnf",
      '  release: "9"',
      "  repos:",
      "    - name: baseos",
      "      baseurl: dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/",
    ),
    issues: ["8:16 packages.repos[0].baseurl: must be an http(s)://, ftp:// or file:// URL"],
  },
  {
    name: "S3 bucket name",
    yaml: withBase("publish:", "  - type: s3", "    bucket: Boot_Images"),
    issues: ["9:13 publish[0].bucket: must be an S3 bucket name (3-63 lowercase letters, digits, . -)"],
  },
  {
    name: "package names that are options, lists or several words",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dnf", '  release: "9"', "  install: [gcc-c++, --setopt=reposdir=/tmp, 'a b', 'a,b', '']"),
    issues: [
      "6:22 packages.install[1]: must be one package name (no spaces or commas, not starting with -)",
      "6:46 packages.install[2]: must be one package name (no spaces or commas, not starting with -)",
      "6:53 packages.install[3]: must be one package name (no spaces or commas, not starting with -)",
      "6:60 packages.install[4]: must be one package name (no spaces or commas, not starting with -)",
    ],
  },
  {
    name: "relative dest",
    yaml: withBase("files:", "  - dest: etc/motd", "    content: hi"),
    issues: ["8:11 files[0].dest: must be an absolute path inside the image, e.g. /etc/motd"],
  },
  {
    name: "mode as YAML 1.2 octal (0o755): the hint quotes the mode's digits",
    yaml: withBase("files:", "  - dest: /usr/local/bin/x", "    content: hi", "    mode: 0o755"),
    issues: ['10:11 files[0].mode: must be a string, not number 493; YAML reads 0o755 unquoted as a number: write "0755"'],
  },
  {
    name: "mode not octal",
    yaml: withBase("files:", "  - dest: /etc/motd", "    content: hi", "    mode: '0999'"),
    issues: ["10:11 files[0].mode: must be an octal mode such as 0644"],
  },
  {
    name: "env name",
    yaml: withBase("commands:", '  - run: ["true"]', "    env: {1A: x}"),
    issues: ['9:11 commands[0].env.1A: key "1A" must be an environment variable name'],
  },
  { name: "empty argv", yaml: withBase("commands:", "  - run: []"), issues: ["8:10 commands[0].run: must not be empty"] },
  {
    // One YAML item: buildah run would look for a program named "systemctl enable munge".
    name: "argv written as one word, or an empty program",
    yaml: withBase("commands:", "  - run: [systemctl enable munge]", '  - run: ["", x]', "  - run: systemctl enable munge"),
    issues: [
      "8:11 commands[0].run[0]: the program must be one word: run is an argv list, one item per word, e.g. [systemctl, enable, munge]; for a shell line use script:",
      "9:11 commands[1].run[0]: the program must be one word: run is an argv list, one item per word, e.g. [systemctl, enable, munge]; for a shell line use script:",
      '10:10 commands[2].run: must be a list, not string "systemctl enable munge"; run is an argv list, one item per word, e.g. [systemctl, enable, munge]; for a shell line use script:',
    ],
  },
  {
    // buildah config --label splits at the first "=": "a=b" would label the image a with value b=v.
    name: "label names with =, empty, or bootsmith's own",
    yaml: withBase("labels:", '  "a=b": v', '  "": x', "  io.bootsmith.recipe: other", '  org.example.ok: "a = b"'),
    issues: [
      '8:3 labels.a=b: key "a=b" must be a label name: not empty, without =, e.g. org.example.site',
      '9:3 labels.: key "" must be a label name: not empty, without =, e.g. org.example.site',
      '10:3 labels.io.bootsmith.recipe: key "io.bootsmith.recipe" is one of the labels bootsmith sets itself (io.bootsmith.*); name yours under your own domain, e.g. org.example.role',
    ],
  },

  {
    name: "negative nid",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local", "    nids: [-1]"),
    issues: ["10:12 register[0].nids[0]: must be at least 0"],
  },
  {
    name: "boot-service priority outside 0–100 (found before the build, not at register after it)",
    yaml: withBase("register:", "  - type: boot-service", "    url: http://bs.local:8080", "    name: compute", "    priority: 200", "    nids: [1]"),
    issues: ["11:15 register[0].priority: must be at most 100"],
  },
  {
    name: "a nid above BSS's int32",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local", "    nids: [3000000000]"),
    issues: ["10:12 register[0].nids[0]: must be at most 2147483647 (BSS stores node numbers as 32-bit integers)"],
  },
  {
    name: "params over several lines (a literal block)",
    yaml: withBase("boot:", "  params: |", "    console=ttyS0", "    root=live:{{ rootfs.url }}"),
    issues: ["8:11 boot.params: params must be one line (the kernel command line has no newlines): write it on one line, or as a folded block (params: >)"],
  },
  // --- variables ------------------------------------------------------------------------------------
  { name: "undefined ${VAR}", yaml: withBase("description: built from ${MIRROR}"), issues: [`7:14 description: ${NOT_DEFINED("MIRROR")}`] },
  {
    // Keys are taken as written (as in the JSON Schema and docker compose): a reference in one is
    // said, not substituted (an env name) nor kept as a label literally named ${ROLE_LABEL}.
    name: "${VAR} in mapping keys: refused at the key, values only are substituted",
    yaml: withBase(
      "vars:",
      "  ROLE_LABEL: org.example.role",
      "  ENV_NAME: SITE_ROLE",
      "labels:",
      "  ${ROLE_LABEL}: compute",
      "commands:",
      "  - run: [/bin/true]",
      "    env:",
      "      ${ENV_NAME}: compute",
      "      $${LITERAL}: x",
    ),
    issues: [
      '11:3 labels.${ROLE_LABEL}: key "${ROLE_LABEL}": ${…} is substituted in values only, never in keys: write the key itself',
      '15:7 commands[0].env.${ENV_NAME}: key "${ENV_NAME}": ${…} is substituted in values only, never in keys: write the key itself',
      '16:7 commands[0].env.$${LITERAL}: key "$${LITERAL}": ${…} is substituted in values only, never in keys: write the key itself',
    ],
  },
  {
    name: "undefined ${VAR} deep in a list",
    yaml: lines(
      "name: t",
      "from: scratch",
      "packages:",
      "  manager: dnf",
      '  release: "9"',
      "  repos:",
      "    - name: baseos",
      "      baseurl: ${MIRROR}/9/BaseOS/",
    ),
    issues: [`8:16 packages.repos[0].baseurl: ${NOT_DEFINED("MIRROR")}`],
  },
  {
    name: "invalid variable reference",
    yaml: withBase("description: ${1x}"),
    issues: ['7:14 description: "${1x}" is not a valid variable reference (names are letters, digits and _); if the shell is to expand it, write $${1x}'],
  },
  {
    // A script's own parameter expansion: the message says how to pass it to the shell.
    name: "shell parameter expansion in a script",
    yaml: withBase("commands:", '  - script: echo "${SLURM_CONF:-/etc/slurm/slurm.conf}"'),
    issues: [
      '8:13 commands[0].script: "${SLURM_CONF:-/etc/slurm/slurm.conf}" is not a valid variable reference (names are letters, digits and _); if the shell is to expand it, write $${SLURM_CONF:-/etc/slurm/slurm.conf}',
    ],
  },
  {
    name: "environment variable not named in importEnv",
    yaml: withBase("description: ${BUILD_HOST}"),
    options: { env: { BUILD_HOST: "h1" } },
    issues: [`7:14 description: ${NOT_DEFINED("BUILD_HOST")}`],
  },
  {
    name: "importEnv names a variable that is not set",
    yaml: withBase("importEnv: [BUILD_HOST]", "description: ${BUILD_HOST}"),
    options: { env: {} },
    issues: [
      "8:14 description: ${BUILD_HOST} is not defined: importEnv: lists BUILD_HOST, but the environment does not set it: export BUILD_HOST=VALUE, or pass --var BUILD_HOST=VALUE (write $${BUILD_HOST} for a literal)",
    ],
  },
  {
    name: "a variable that substitutes into an invalid value",
    yaml: withBase("vars: {TAG: -x}", 'tags: ["${TAG}"]'),
    issues: ["8:8 tags[0]: must be an OCI tag: letters, digits, _ . -, at most 128 characters, not starting with . or -"],
  },
  // --- semantics the schema cannot express -----------------------------------------------------
  {
    name: "release missing from scratch",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: apt", "  install: [systemd-sysv]"),
    issues: ['4:3 packages: release is required when building from scratch (dnf --releasever or the apt suite), e.g. release: "bookworm"'],
  },
  {
    name: "scratch without packages",
    yaml: lines("name: t", "from: scratch"),
    issues: ["2:7 from: an image from scratch needs a packages: section (or build on a parent with from: {image: …} / {recipe: …})"],
  },
  {
    name: "zypper with dnf groups",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: zypper", "  groups: [base]"),
    issues: ["5:11 packages.groups: groups are a dnf feature; zypper installs patterns: list them under patterns:"],
  },
  {
    name: "dnf with zypper patterns",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dnf", '  release: "9"', "  patterns: [base]"),
    issues: ["6:13 packages.patterns: patterns are a zypper feature; dnf installs comps groups: list them under groups:"],
  },
  {
    name: "gpgAutoImportKeys with dnf",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dnf", '  release: "9"', "  options:", "    gpgAutoImportKeys: true"),
    issues: ["7:24 packages.options.gpgAutoImportKeys: gpgAutoImportKeys is a zypper option; dnf imports the keys named by gpgkey itself"],
  },
  {
    name: "zypper with dnf's best",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: zypper", "  options:", "    best: false"),
    issues: ["6:11 packages.options.best: best is a dnf option; zypper always picks the best candidate: remove it"],
  },
  {
    name: "apt with dnf groups",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: apt", "  release: bookworm", "  groups: [minimal-install]"),
    issues: ["6:11 packages.groups: groups are a dnf feature; list apt packages under install:"],
  },
  {
    name: "files with both src and content",
    yaml: withBase("files:", "  - dest: /etc/motd", "    src: motd", "    content: hi"),
    files: { motd: "hi\n" },
    issues: ["8:5 files[0]: give src or content, not both"],
  },
  {
    name: "files with neither src nor content",
    yaml: withBase("files:", "  - dest: /etc/motd"),
    issues: ["8:5 files[0]: give src (a file next to the recipe) or content (inline text)"],
  },
  {
    name: "files: the same dest twice (the later replaces the earlier): both lines named",
    yaml: withBase("files:", "  - dest: /etc/motd", "    content: a", "  - dest: /etc//motd", "    src: motd"),
    files: { motd: "b\n" },
    issues: ["10:11 files[1].dest: /etc/motd is written by files[0] (line 8) too, and this copy replaces it: remove one of them, or merge them into one file"],
  },
  {
    name: "files: a file copied into a directory dest lands on another entry's dest",
    yaml: withBase("files:", "  - dest: /etc/chrony.conf", "    content: a", "  - dest: /etc/", "    src: conf/chrony.conf"),
    files: { "conf/chrony.conf": "b\n" },
    issues: [
      "10:11 files[1].dest: /etc/chrony.conf is written by files[0] (line 8) too, and this copy replaces it: remove one of them, or merge them into one file",
    ],
  },
  {
    name: "files: a directory copied after a file it holds replaces that file",
    yaml: withBase("files:", "  - dest: /etc/site/role.conf", "    content: a", "  - dest: /etc/site", "    src: site"),
    files: { "site/role.conf": "b\n", "site/other.conf": "c\n" },
    issues: [
      "11:10 files[1].src: site holds role.conf, which replaces /etc/site/role.conf written by files[0] (line 8): list files[0] after this directory (to override its copy), or remove it",
    ],
  },
  {
    name: "commands with both run and script",
    yaml: withBase("commands:", '  - run: ["true"]', "    script: 'true'"),
    issues: ["8:5 commands[0]: give one of run, script or ansible"],
  },
  {
    name: "repo with both baseurl and content",
    yaml: lines(
      "name: t",
      "from: scratch",
      "packages:",
      "  manager: dnf",
      '  release: "9"',
      "  repos:",
      "    - name: x",
      "      baseurl: http://r/",
      "      content: '[x]'",
    ),
    issues: ["7:7 packages.repos[0]: give baseurl or content, not both"],
  },
  {
    name: "src outside the recipe directory (../)",
    yaml: withBase("files:", "  - dest: /etc/motd", "    src: ../outside.txt"),
    files: { "../outside.txt": "secret\n" },
    issues: ["9:10 files[0].src: ../outside.txt resolves to <root>/outside.txt, outside the recipe's directory <dir>; copy the file next to the recipe"],
  },
  {
    name: "src as an absolute path outside",
    yaml: withBase("files:", "  - dest: /etc/motd", "    src: <root>/outside.txt"),
    files: { "../outside.txt": "secret\n" },
    issues: ["9:10 files[0].src: <root>/outside.txt resolves to <root>/outside.txt, outside the recipe's directory <dir>; copy the file next to the recipe"],
  },
  {
    name: "src symlink pointing out of the recipe directory",
    yaml: withBase("files:", "  - dest: /etc/motd", "    src: motd"),
    files: { "../outside.txt": "secret\n" },
    symlinks: { motd: "<root>/outside.txt" },
    issues: ["9:10 files[0].src: motd resolves to <root>/outside.txt, outside the recipe's directory <dir>; copy the file next to the recipe"],
  },
  {
    name: "dest with a .. segment",
    yaml: withBase("files:", "  - dest: /etc/../../root/.ssh/authorized_keys", "    content: key"),
    issues: ["8:11 files[0].dest: must not contain .. segments (they climb out of the directory they name); write the path meant, e.g. /etc/motd"],
  },
  {
    name: "dest ending in ..",
    yaml: withBase("files:", "  - dest: /etc/..", "    content: x"),
    issues: ["8:11 files[0].dest: must not contain .. segments (they climb out of the directory they name); write the path meant, e.g. /etc/motd"],
  },
  {
    name: "rootfs exclude with a .. segment",
    yaml: withBase("boot:", "  rootfs:", "    exclude: [boot, ../etc]"),
    issues: ["9:21 boot.rootfs.exclude[1]: must not contain .. segments (exclude paths are relative to the image root); write the path meant, e.g. var/cache"],
  },
  {
    name: "secrets names an undefined variable",
    yaml: withBase("secrets: [REPO_PASS]"),
    issues: ["7:11 secrets[0]: REPO_PASS is not a variable of this recipe: add it to vars:, pass --var REPO_PASS=VALUE, or list it in importEnv:"],
  },
  {
    name: "secrets names an imported variable the environment does not set",
    yaml: withBase("importEnv: [REPO_PASS]", "secrets: [REPO_PASS]"),
    options: { env: {} },
    issues: [
      "8:11 secrets[0]: REPO_PASS is not a variable of this recipe: importEnv: lists REPO_PASS, but the environment does not set it: export REPO_PASS=VALUE, or pass --var REPO_PASS=VALUE",
    ],
  },
  {
    name: "a secret too short to hide",
    yaml: withBase("vars: {PIN: '12'}", "secrets: [PIN]"),
    issues: ["8:11 secrets[0]: the value of PIN is shorter than 4 characters, too short to be told apart from other text and hidden; use a longer secret"],
  },
  {
    name: "missing src",
    yaml: withBase("files:", "  - dest: /etc/motd", "    src: files/motd"),
    issues: ["9:10 files[0].src: <dir>/files/motd does not exist; src is relative to the recipe's directory <dir>"],
  },
  {
    name: "unknown params placeholder",
    yaml: withBase("boot:", "  params: 'root=live:{{ rootfs.uri }}'"),
    issues: [
      "8:11 boot.params: unknown placeholder {{ rootfs.uri }} in params; valid placeholders: {{ rootfs.url }}, {{ kernel.url }}, {{ initrd.url }}, {{ name }}, {{ tag }}",
    ],
  },
  {
    name: "unknown placeholder in registration params",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local", "    nids: [1]", "    params: 'site={{ site }}'"),
    issues: [
      "11:13 register[0].params: unknown placeholder {{ site }} in params; valid placeholders: {{ rootfs.url }}, {{ kernel.url }}, {{ initrd.url }}, {{ name }}, {{ tag }}",
    ],
  },
  {
    name: "unbalanced template braces",
    yaml: withBase("boot:", "  params: 'root=live:{{ rootfs.url }'"),
    issues: ['8:11 boot.params: unbalanced "{{" or "}}" in params: "root=live:{{ rootfs.url }"'],
  },
  {
    name: "root=live: without livenet",
    yaml: withBase("boot:", "  initramfs:", "    modules: [dmsquash-live, network]"),
    issues: ["9:14 boot.initramfs.modules: params boot root=live: over the network, which needs dracut's livenet module: add livenet (and dmsquash-live)"],
  },
  {
    name: "apt installer: host on a parent",
    yaml: lines("name: t", "from:", "  image: registry.local/debian:12", "packages:", "  manager: apt", "  options:", "    installer: host"),
    issues: [
      "7:16 packages.options.installer: apt on the host is mmdebstrap, which makes a new root from scratch; on a parent apt-get runs inside the image: remove installer: host",
    ],
  },
  {
    // The host's dnf reads only the recipe's repositories; the build failed in dnf with
    // 'There are no enabled repositories in "/var/tmp/bootsmith/…/yum.repos.d"'.
    name: "dnf installer: host on a parent without repositories",
    yaml: lines(
      "name: t",
      "from:",
      "  image: registry.local/rocky:9",
      "packages:",
      "  manager: dnf",
      "  install: [slurm]",
      "  options:",
      "    installer: host",
    ),
    issues: [
      "8:16 packages.options.installer: installer: host runs the host's dnf with only this recipe's repositories, not the parent image's /etc/yum.repos.d, and the recipe enables none: add packages.repos, or remove installer: host to run the image's own dnf",
    ],
  },
  {
    name: "zypper installer: host on a parent whose only repository is disabled",
    yaml: lines(
      "name: t",
      "from:",
      "  image: registry.local/leap:15",
      "packages:",
      "  manager: zypper",
      "  repos: [{name: oss, baseurl: 'http://mirror.local/oss/', enabled: false}]",
      "  install: [munge]",
      "  options:",
      "    installer: host",
    ),
    issues: [
      "9:16 packages.options.installer: installer: host runs the host's zypper with only this recipe's repositories, not the parent image's /etc/zypp/repos.d, and the recipe enables none: add packages.repos, or remove installer: host to run the image's own zypper",
    ],
  },
  {
    // apt was handed `Signed-By: https://…`, which it does not accept: the build failed in
    // apt-get update (on a parent) or named the URL as a key file (mmdebstrap).
    name: "apt repository key given as a URL",
    yaml: aptRepoOnParent("[{name: site, baseurl: 'http://deb.site.local/debian', suite: bookworm, gpgkey: 'https://deb.site.local/site.asc'}]"),
    issues: [
      "6:90 packages.repos[0].gpgkey: apt reads a repository's key from a file (Signed-By), not from a URL: download https://deb.site.local/site.asc once, check its fingerprint, put it beside the recipe and name it, e.g. gpgkey: site.asc (bootsmith copies it into the image's /etc/apt/keyrings)",
    ],
  },
  {
    // A content: source's gpgkey was dropped without a word; it is now added to each stanza as
    // Signed-By, which takes a file, so a URL is refused as for a repository given by baseurl.
    name: "apt content: repository key given as a URL",
    yaml: aptRepoOnParent(
      "[{name: site, gpgkey: 'https://deb.site.local/site.asc', content: \"Types: deb\\nURIs: http://deb.site.local/debian\\nSuites: bookworm\\nComponents: main\\n\"}]",
    ),
    issues: [
      "6:32 packages.repos[0].gpgkey: apt reads a repository's key from a file (Signed-By), not from a URL: download https://deb.site.local/site.asc once, check its fingerprint, put it beside the recipe and name it, e.g. gpgkey: site.asc (bootsmith copies it into the image's /etc/apt/keyrings)",
    ],
  },
  {
    // Two keys for one source: with the gpgkey's Signed-By added to the stanza, apt 2.6 takes
    // the last Signed-By and ignores the content's own without a word.
    name: "apt content: with its own Signed-By and a gpgkey",
    yaml: lines(
      "name: t",
      "from:",
      "  image: registry.local/debian:12",
      "packages:",
      "  manager: apt",
      '  repos: [{name: site, gpgkey: site.asc, content: "Types: deb\\nURIs: http://deb.site.local/debian\\nSuites: bookworm\\nComponents: main\\nsigned-by: /usr/share/keyrings/site.gpg\\n"}]',
      "  install: [slurmd]",
    ),
    issues: [
      "6:32 packages.repos[0].gpgkey: the content: names its own key (Signed-By) and gpgkey names another: remove gpgkey to keep the content's Signed-By, or remove Signed-By from the content and bootsmith adds one naming gpgkey's copy in /etc/apt/keyrings",
    ],
  },
  {
    name: "apt installer: image from scratch",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: apt", "  release: bookworm", "  options:", "    installer: image"),
    issues: ["7:16 packages.options.installer: an image from scratch has no apt-get to run inside it; remove installer: image (mmdebstrap builds the root)"],
  },
  {
    name: "kernel version with a line break",
    yaml: withBase("boot:", '  kernel: "6.1.0\\nreboot"'),
    issues: ["8:11 boot.kernel: must be newest or an installed kernel version such as 5.14.0-503.el9.x86_64 or 6.1.0-27-amd64"],
  },
  {
    name: "gzip level out of range",
    yaml: withBase("boot:", "  rootfs:", "    compression: gzip", "    level: 12"),
    issues: ["10:12 boot.rootfs.level: gzip levels are 1-9"],
  },
  { name: "zstd level above 22", yaml: withBase("boot:", "  rootfs:", "    level: 30"), issues: ["9:12 boot.rootfs.level: must be at most 22"] },
  {
    name: "xz takes no level",
    yaml: withBase("boot:", "  rootfs:", "    profile: release", "    level: 6"),
    issues: ["10:12 boot.rootfs.level: xz takes no level in mksquashfs; remove level or use zstd (1-22) or gzip (1-9)"],
  },
  {
    name: "register with boot: false",
    yaml: withBase("boot: false", "register:", "  - type: bss", "    url: http://bss.local", "    nids: [1]"),
    issues: ["9:5 register[0]: registering boot parameters needs boot artifacts, but boot: false"],
  },
  {
    name: "registration naming no node",
    yaml: withBase("register:", "  - type: bss", "    url: http://bss.local"),
    issues: ["8:5 register[0]: name at least one node: macs, hosts, nids (or groups for boot-service)"],
  },
  // --- parents -------------------------------------------------------------------------------------
  {
    name: "parent recipe missing",
    yaml: lines("name: t", "from:", "  recipe: base.yaml"),
    issues: ["3:11 from.recipe: parent recipe <dir>/base.yaml does not exist; the path is relative to this recipe's directory"],
  },
  {
    name: "recipe cycle a → b → a",
    yaml: lines("name: a", "from:", "  recipe: b.yaml"),
    files: { "b.yaml": lines("name: b", "from:", "  recipe: recipe.yaml") },
    issues: ["b.yaml> 3:11 from.recipe: recipe cycle: recipe.yaml → b.yaml → recipe.yaml; a recipe cannot build on itself"],
  },
  {
    name: "recipe is its own parent",
    yaml: lines("name: a", "from:", "  recipe: ./recipe.yaml"),
    issues: ["3:11 from.recipe: recipe cycle: recipe.yaml → recipe.yaml; a recipe cannot build on itself"],
  },
  {
    name: "a layer named like its parent (it would overwrite the parent's image and artifacts)",
    yaml: lines("name: base", "from:", "  recipe: site.yaml"),
    files: {
      "site.yaml": lines("name: site", "from:", "  recipe: base.yaml"),
      "base.yaml": lines("name: base", "tags: ['1']", "from:", "  image: docker.io/library/rockylinux:9", "boot: false"),
    },
    issues: [
      "1:7 name: base is also the name of the recipe <dir>/base.yaml this one builds on (through site): each layer is an image and an output directory of its own, named by name:; give this one another name",
    ],
  },
  {
    name: "invalid parent: reported in the parent's file",
    yaml: lines("name: a", "from:", "  recipe: base.yaml"),
    files: { "base.yaml": lines("name: base", "tagz: [x]") },
    issues: ['base.yaml> 2:1 tagz: unknown key "tagz"; did you mean "tags"?'],
  },
  // --- the file itself -------------------------------------------------------------------------------
  {
    name: "YAML syntax error",
    yaml: lines("name: t", "tags: [a, b", "from: scratch"),
    issues: ["3:1 YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]"],
  },
  {
    name: "two YAML documents in one file",
    yaml: lines("name: t", "---", "name: u"),
    issues: ["2:1 a recipe is one YAML document, but a second one starts here (---): put each recipe in its own file"],
  },
  {
    name: "content into a directory dest (a / at the end)",
    yaml: withBase("files:", '  - {dest: /etc/, content: "x"}'),
    issues: ["8:12 files[0].dest: content is written to one file: end dest with the file's name, e.g. /etc/motd (a / at the end names a directory)"],
  },
  {
    name: "unquoted numbers where strings are expected: mode 0755, release 9.10",
    yaml: lines(
      "name: t",
      "tags: [9.10]",
      "packages:",
      "  manager: dnf",
      "  release: 9.10",
      "  install: [kernel]",
      "files:",
      '  - {dest: /etc/x, content: "x", mode: 0755}',
    ),
    issues: [
      '2:8 tags[0]: must be a string, not number 9.1; YAML reads 9.10 unquoted as a number: write "9.10"',
      '5:12 packages.release: must be a string, not number 9.1; YAML reads 9.10 unquoted as a number: write "9.10"',
      '8:40 files[0].mode: must be a string, not number 755; YAML reads 0755 unquoted as a number: write "0755"',
    ],
  },
  {
    name: "an unquoted ${NAME} in a flow mapping: the first YAML error only, with how to quote",
    yaml: withBase("vars: {U: '990'}", "users:", "  - {name: slurm, uid: ${U}}", "boot:", "  kernel: newest"),
    issues: ['9:25 YAML syntax: Unexpected flow-map-start at node end (inside [ ] or { }, quote values that use ${NAME}: "${NAME}")'],
  },
  {
    name: "one user or group name, or one id, listed twice",
    yaml: withBase(
      "groups: [{name: slurm, gid: 990}, {name: munge, gid: 990}, {name: slurm, gid: 992}]",
      "users: [{name: slurm, uid: 990}, {name: slurm, uid: 991}]",
    ),
    issues: [
      "7:54 groups[1].gid: gid 990 is already groups[0] (slurm): give each its own gid",
      "7:67 groups[2].name: slurm is already groups[0]: list each group once",
      "8:41 users[1].name: slurm is already users[0]: list each user once",
    ],
  },
  { name: "tab indentation", yaml: lines("name: t", "packages:", "\tmanager: dnf"), issues: ["3:1 YAML syntax: Tabs are not allowed as indentation"] },
  { name: "duplicate top-level key", yaml: withBase("name: u"), issues: ['7:1 name: duplicate key "name"; each key may appear once in a mapping'] },
  {
    name: "duplicate nested key",
    yaml: lines("name: t", "from: scratch", "packages:", "  manager: dnf", '  release: "9"', '  release: "8"'),
    issues: ['6:3 packages.release: duplicate key "release"; each key may appear once in a mapping'],
  },
  {
    name: "non-UTF-8 bytes",
    yaml: Buffer.concat([Buffer.from("name: t\ndescription: caf"), Buffer.from([0xe9]), Buffer.from("\n")]),
    issues: ["- the file is not valid UTF-8; save it as UTF-8"],
  },
  {
    name: "alias bomb",
    yaml: lines(
      "name: t",
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    ),
    issues: ["- YAML: Excessive alias count indicates a resource exhaustion attack (aliases are limited to 100 expansions)"],
  },
  {
    name: "file over 1 MiB",
    yaml: BIG,
    issues: [`- the file is ${Buffer.byteLength(BIG)} bytes; recipes are limited to ${MAX_RECIPE_BYTES} bytes (move large content to files: with src:)`],
  },
  { name: "empty file", yaml: "", issues: ["1:1 the file is empty; a recipe needs at least name: and packages: (or from:)"] },
  {
    name: "only comments",
    yaml: lines("# yaml-language-server: $schema=../schema/recipe.schema.json", "# nothing yet"),
    issues: ["1:1 the file is empty; a recipe needs at least name: and packages: (or from:)"],
  },
  { name: "a list at top level", yaml: lines("- name: t", "- from: scratch"), issues: ["1:1 must be a mapping, not a list"] },
  { name: "a scalar at top level", yaml: lines("rocky-9"), issues: ['1:1 must be a mapping, not string "rocky-9"'] },
  // --- everything at once --------------------------------------------------------------------------
  {
    name: "several problems are reported together, in file order",
    yaml: lines(
      "name: Bad_Name",
      "tagz: [a]",
      "arch: arm",
      "from: scratch",
      "packages:",
      "  manager: dfn",
      '  release: "9"',
      "description: ${NOPE}",
      "register:",
      "  - type: bss",
      "    url: http://bss.local",
      "    macs: [nope]",
    ),
    issues: [
      "1:7 name: must be lowercase letters, digits and . _ - separators (an OCI image name), e.g. rocky-9-compute",
      '2:1 tagz: unknown key "tagz"; did you mean "tags"?',
      '3:7 arch: must be one of "x86_64", "aarch64"',
      '6:12 packages.manager: must be one of "dnf", "apt", "zypper"; did you mean "dnf"?',
      `8:14 description: ${NOT_DEFINED("NOPE")}`,
      "12:12 register[0].macs[0]: must be a MAC address like 52:54:00:12:34:56 or 52-54-00-12-34-56",
    ],
  },
  {
    name: "semantic problems are reported together",
    yaml: lines(
      "name: t",
      "tags: [a, a]",
      "from: scratch",
      "packages:",
      "  manager: apt",
      "files:",
      "  - dest: /x",
      "    src: nope",
      "boot:",
      "  params: '{{ url }}'",
    ),
    issues: [
      '2:11 tags[1]: tag "a" is listed twice',
      '5:3 packages: release is required when building from scratch (dnf --releasever or the apt suite), e.g. release: "bookworm"',
      "8:10 files[0].src: <dir>/nope does not exist; src is relative to the recipe's directory <dir>",
      "10:11 boot.params: unknown placeholder {{ url }} in params; valid placeholders: {{ rootfs.url }}, {{ kernel.url }}, {{ initrd.url }}, {{ name }}, {{ tag }}",
    ],
  },
];

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-invalid-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setUp(c: Case, index: number): { dir: string; file: string } {
  const dir = path.join(root, `case-${String(index).padStart(2, "0")}`);
  mkdirSync(dir, { recursive: true });
  const sub = (text: string) => text.replaceAll("<root>", root).replaceAll("<dir>", dir);
  const file = path.join(dir, "recipe.yaml");
  writeFileSync(file, typeof c.yaml === "string" ? sub(c.yaml) : c.yaml);
  for (const [rel, content] of Object.entries(c.files ?? {})) {
    const target = path.join(dir, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  for (const [rel, target] of Object.entries(c.symlinks ?? {})) symlinkSync(sub(target), path.join(dir, rel));
  return { dir, file };
}

function describeIssue(issue: RecipeIssue, dir: string, mainFile: string): string {
  const relFile = issue.file === mainFile ? "" : `${path.relative(dir, issue.file)}> `;
  const where = issue.line === undefined ? "-" : `${issue.line}:${issue.column}`;
  const text = `${where} ${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
  // The temp root's "outside.txt" lives one level above the case directory: replace the longer path first.
  return relFile + text.replaceAll(dir, "<dir>").replaceAll(root, "<root>");
}

describe("invalid recipes", () => {
  it("has at least 30 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  cases.forEach((c, index) => {
    it(c.name, () => {
      const { dir, file } = setUp(c, index);
      let caught: unknown;
      try {
        loadRecipe(file, { env: {}, ...c.options });
      } catch (error) {
        caught = error;
      }
      expect(caught, "the recipe should be rejected").toBeInstanceOf(RecipeError);
      const error = caught as RecipeError;
      expect(error.issues.map((i) => describeIssue(i, dir, file))).toEqual(c.issues);
      // The printed message names file:line:col for every positioned issue, and the count.
      for (const issue of error.issues) {
        const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column}`;
        expect(error.message).toContain(`${where}: ${issue.path ? `${issue.path}: ` : ""}${issue.message}`);
      }
      expect(error.message).toMatch(new RegExp(`\\n${error.issues.length} problems? found; nothing was built\\.$`));
    });
  });
});
