// OpenCHAMI image-builder (Python, v0.1.x) configs: a strict schema of the format and a pure
// converter to a native recipe.
//
// Followed: OpenCHAMI/image-builder src/arguments.py (commit 111b7da9: options and their
// defaults), src/image_config.py (1c0aec30: top-level keys), src/installer.py (0b296e2a: repos,
// modules, packages, remove_packages = `rpm -e --nodeps`, cmds = `buildah run -- bash -c`,
// copyfiles = `buildah copy OPTS`), src/publish.py (2a8b4f59: registry `<publish_registry>/<name>:<tag>`,
// S3 keys, first-kernel-in-directory-order), README.md (02253243) and examples/mini-bootcamp/*.yaml
// (cbca328e: repos with `config:` + `gpg_key:`, dracut in cmds).
//
// pkg_manager: zypper (installer.py 0b296e2a): repositories are `zypper addrepo -f -p PRIO URL
// ALIAS` (priority 99 by default, zypper's own), keys `rpm --import`, packages `zypper install`
// with zypper's defaults (recommends and documentation installed); package_groups and modules
// are skipped with a warning ("zypper does not support package groups").
import { z } from "zod";
import type { RecipeInput } from "../schema.js";
import {
  ADD_PACKAGE_MANAGER,
  Conversion,
  convertOpenscap,
  openchamiLabels,
  parseDracutCall,
  releaseFromUrls,
  UPSTREAM_SQUASHFS_COMPRESSION,
  type DataPath,
} from "./common.js";

// --- the format ---------------------------------------------------------------------------------

const stringList = z.array(z.string().min(1));
const oneOrMany = z.union([z.string().min(1), stringList], { error: "must be a string or a list of strings" });

const repo = z
  .strictObject({
    alias: z.string().min(1).describe("Repository id"),
    url: z.string().min(1).optional().describe("baseurl (dnf config-manager --add-repo URL)"),
    config: z.string().optional().describe("Body of the .repo section (baseurl=…, enabled=…, gpgcheck=…)"),
    gpg: z.string().min(1).optional().describe("Signing key URL (rpm --import)"),
    gpg_key: z.string().min(1).optional().describe("Signing key URL (with config:)"),
    priority: z.union([z.number().int(), z.string().regex(/^\d+$/)], { error: "must be a whole number" }).optional(),
  })
  .refine((r) => (r.url === undefined) !== (r.config === undefined), {
    error: "give url (the repository's baseurl) or config (the .repo section's lines), one of them",
  })
  .refine((r) => r.gpg === undefined || r.gpg_key === undefined, { error: "give gpg or gpg_key, not both" });

const options = z.strictObject({
  layer_type: z.enum(["base", "ansible"]).describe("base (packages, files, commands) or ansible"),
  name: z.string().min(1).optional().describe("Image name (default: base)"),
  publish_tags: z
    .union([z.string().min(1), stringList], { error: "must be a tag or a list of tags, as strings (quote numbers: '9.5', or 9.5 is read as a number)" })
    .optional()
    .describe("Tag or tags (default: latest)"),
  pkg_manager: z.enum(["dnf", "zypper"]).optional(),
  parent: z.string().min(1).optional().describe("scratch (default) or an OCI image reference"),
  gpgcheck: z.boolean().optional(),
  proxy: z.string().optional(),
  force_installroot: z.boolean().optional(),
  dnf_options: stringList.optional(),
  publish_local: z.boolean().optional(),
  publish_registry: z.string().min(1).optional(),
  registry_opts_push: stringList.optional(),
  registry_opts_pull: stringList.optional(),
  publish_s3: z.string().min(1).optional(),
  s3_bucket: z.string().min(1).optional(),
  s3_prefix: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  // Ansible layers and OpenSCAP: accepted by the schema so that the converter can say why
  // bootsmith does not run them (rather than "unknown key").
  groups: stringList.optional(),
  playbooks: oneOrMany.optional(),
  inventory: oneOrMany.optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  ansible_verbosity: z.union([z.number().int(), z.string()], { error: "must be 0-4" }).optional(),
  install_scap: z.boolean().optional(),
  scap_benchmark: z.boolean().optional(),
  oval_eval: z.boolean().optional(),
});

export const ImageBuilderSchema = z
  .strictObject({
    options,
    repos: z.array(repo).default([]),
    modules: z.record(z.string(), stringList).default({}).describe("dnf module subcommand → modules, e.g. enable: [nodejs:18]"),
    package_groups: stringList.default([]),
    packages: stringList.default([]),
    remove_packages: stringList.default([]),
    copyfiles: z
      .array(
        z.strictObject({
          src: z.string().min(1),
          dest: z.string().min(1),
          opts: stringList.optional().describe("buildah copy flags, e.g. --chmod=0755"),
        }),
      )
      .default([]),
    cmds: z
      .array(
        z.strictObject({
          cmd: z.string().min(1),
          loglevel: z.string().optional(),
          buildah_extra_args: stringList.optional(),
        }),
      )
      .default([]),
    openscap: z
      .array(
        z.strictObject({
          profile: z.string().min(1).optional(),
          benchmark_path: z.string().min(1).optional(),
          oval_url: z.string().min(1).optional(),
          results_path: z.string().min(1).optional(),
          remediate_path: z.string().min(1).optional(),
          oval_result_path: z.string().min(1).optional(),
        }),
      )
      .optional()
      .describe("OpenSCAP settings, a list of one-key mappings (profile, benchmark_path, oval_url)"),
    oscap_template: z.unknown().optional(),
  })
  .describe("OpenCHAMI image-builder config");

export type ImageBuilderConfig = z.output<typeof ImageBuilderSchema>;

// --- the conversion -----------------------------------------------------------------------------

/** dracut modules image-builder's examples add (examples/mini-bootcamp/rocky-9-base.yaml). */
const DEFAULT_LIVE_MODULES = ["dmsquash-live", "livenet", "network-manager"];

export function convertImageBuilder(cfg: ImageBuilderConfig, conv: Conversion, releaseOverride?: string): RecipeInput {
  const o = cfg.options;
  const opt = (key: string): DataPath => ["options", key];

  // --- Ansible layer and OpenSCAP ---------------------------------------------------------------
  const ansible = o.layer_type === "ansible" ? ansibleLayer(cfg, conv) : [];
  if (o.layer_type !== "ansible")
    for (const key of ["groups", "playbooks", "inventory", "vars", "ansible_verbosity"] as const)
      if (o[key] !== undefined)
        conv.fail(opt(key), `${key} configures an Ansible layer, but layer_type is ${o.layer_type}: set layer_type: ansible or remove ${key}`);
  // openscap: is a list of one-key mappings that image-builder merges (src/oscap.py).
  const oscapSettings = Object.assign({}, ...(cfg.openscap ?? [])) as Record<string, unknown>;
  const oscapAt = (key: string): DataPath => {
    if (key === "install_scap" || key === "scap_benchmark" || key === "oval_eval") return opt(key);
    const i = (cfg.openscap ?? []).findIndex((e) => key in e);
    return i >= 0 ? ["openscap", i, key] : ["openscap"];
  };
  // image-builder runs OpenSCAP in base layers only (src/layer.py _build_base).
  const scan =
    o.layer_type === "ansible"
      ? ignoredInAnsibleLayer(o, conv)
      : convertOpenscap({ ...oscapSettings, install_scap: o.install_scap, scap_benchmark: o.scap_benchmark, oval_eval: o.oval_eval }, oscapAt, conv);
  if (scan) conv.from(["scan"], opt("scap_benchmark"));
  if (cfg.oscap_template !== undefined)
    conv.fail(
      ["oscap_template"],
      "oscap_template is not read by image-builder's OpenSCAP code (src/oscap.py); remove it, and give the scan's settings under openscap:",
    );

  const name = o.name ?? "base";
  conv.from(["name"], o.name !== undefined ? opt("name") : ["options"]);
  // A string is one tag in image-builder (Python); the Go port splits it at commas. Tags cannot
  // contain commas, so splitting reads both the same.
  const tags =
    typeof o.publish_tags === "string"
      ? o.publish_tags
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean)
      : (o.publish_tags ?? ["latest"]);
  conv.from(["tags"], o.publish_tags !== undefined ? opt("publish_tags") : ["options"]);
  if (Array.isArray(o.publish_tags)) o.publish_tags.forEach((_, i) => conv.from(["tags", i], [...opt("publish_tags"), i]));

  // --- base image --------------------------------------------------------------------------
  const parent = o.parent ?? "scratch";
  const pull = registryFlags(o.registry_opts_pull ?? [], opt("registry_opts_pull"), conv, false);
  let from: RecipeInput["from"] = "scratch";
  if (parent !== "scratch") from = { image: parent, ...(pull.tlsVerify === false ? { tlsVerify: false } : {}) };
  conv.from(["from"], o.parent !== undefined ? opt("parent") : ["options"]);

  // --- packages ----------------------------------------------------------------------------
  const manager = o.pkg_manager;
  // image-builder's packages: is a list: its package manager is named in options.
  conv.spell(ADD_PACKAGE_MANAGER, "options.pkg_manager: dnf|zypper");
  if (manager === undefined && o.layer_type === "base") conv.fail(["options"], "pkg_manager is required for a base layer (dnf or zypper)");
  const repos = cfg.repos.map((r, i) => convertRepo(r, i, manager, conv));
  // image-builder runs dnf with its defaults: weak dependencies and documentation installed.
  const managerOptions: Record<string, unknown> = { weakDeps: true, docs: true };
  conv.from(["packages", "options"], ["options"]);
  if (o.gpgcheck === false) {
    managerOptions.nogpgcheck = true;
    conv.from(["packages", "options", "nogpgcheck"], opt("gpgcheck"));
  }
  if (o.proxy) {
    managerOptions.proxy = o.proxy;
    conv.from(["packages", "options", "proxy"], opt("proxy"));
  }
  if (o.force_installroot) {
    managerOptions.installer = "host";
    conv.from(["packages", "options", "installer"], opt("force_installroot"));
  }
  if (manager === "zypper") {
    if (o.dnf_options) conv.note(opt("dnf_options"), "ignored: dnf_options apply to dnf, and image-builder does not pass them to zypper");
  } else {
    dnfOptions(o.dnf_options ?? [], managerOptions, conv);
  }
  // image-builder skips package groups and modules for zypper (it logs "zypper does not support
  // package groups"), so the converted recipe leaves them out too rather than install more.
  const zypperSkips = manager === "zypper";
  if (zypperSkips && cfg.package_groups.length > 0) {
    conv.note(
      ["package_groups"],
      'left out: image-builder does not install package groups with zypper (it logs "zypper does not support package groups"); SUSE\'s equivalent is patterns, which bootsmith installs from packages.patterns',
    );
  }
  if (zypperSkips && Object.keys(cfg.modules).length > 0) conv.note(["modules"], "left out: image-builder skips dnf modules with zypper");
  const groups = zypperSkips ? [] : cfg.package_groups;

  const modules = { enable: [] as string[], install: [] as string[] };
  for (const [verb, list] of zypperSkips ? [] : Object.entries(cfg.modules)) {
    if (verb === "enable" || verb === "install") {
      modules[verb].push(...list);
      conv.from(["packages", "modules", verb], ["modules", verb]);
    } else {
      conv.fail(["modules", verb], `dnf module ${verb} is not supported; bootsmith runs dnf module enable and install (modules: enable: / install:)`);
    }
  }

  let release: string | undefined;
  if (from === "scratch" && manager === "dnf") {
    const urls = repos.flatMap((r) => (r.baseurl ? [r.baseurl] : (/^baseurl\s*=\s*(\S+)/m.exec(r.content ?? "")?.slice(1) ?? [])));
    release = releaseOverride ?? releaseFromUrls(urls);
    if (releaseOverride !== undefined) {
      conv.note(["repos"], `release ${releaseOverride} (dnf --releasever) given with bootsmith convert --release; image-builder used the build host's`);
    } else if (release === undefined) {
      conv.fail(
        ["repos"],
        "bootsmith runs dnf --installroot with --releasever from scratch (image-builder leaves it to the build host), and no repository URL names the release (such as …/9/BaseOS/…): give it with `bootsmith convert --release 9 CONFIG -o RECIPE` and build the recipe that writes",
      );
    } else {
      conv.note(["repos"], `release ${release} (dnf --releasever) is taken from the repository URLs; image-builder used the build host's`);
    }
  }

  const packages: RecipeInput["packages"] =
    manager === undefined
      ? undefined
      : {
          manager,
          ...(release !== undefined ? { release } : {}),
          repos,
          ...(groups.length > 0 ? { groups } : {}),
          ...(modules.enable.length + modules.install.length > 0 ? { modules } : {}),
          install: cfg.packages,
          options: managerOptions,
        };
  conv.from(["packages"], o.pkg_manager !== undefined ? opt("pkg_manager") : ["options"]);
  conv.from(["packages", "manager"], o.pkg_manager !== undefined ? opt("pkg_manager") : ["options"]);
  conv.from(["packages", "release"], ["repos"]);
  conv.from(["packages", "repos"], ["repos"]);
  conv.from(["packages", "groups"], ["package_groups"]);
  groups.forEach((_, i) => conv.from(["packages", "groups", i], ["package_groups", i]));
  conv.from(["packages", "install"], ["packages"]);
  cfg.packages.forEach((_, i) => conv.from(["packages", "install", i], ["packages", i]));

  // --- files ---------------------------------------------------------------------------------
  const files = cfg.copyfiles.map((f, i) => {
    const at: DataPath = ["copyfiles", i];
    conv.from(["files", i], at);
    conv.from(["files", i, "src"], [...at, "src"]);
    conv.from(["files", i, "dest"], [...at, "dest"]);
    return { src: f.src, dest: f.dest, ...copyOpts(f.opts ?? [], at, i, conv) };
  });
  if (cfg.copyfiles.some((f) => f.src.startsWith("/"))) {
    conv.note(
      ["copyfiles"],
      "bootsmith copies only files inside the config's directory (src relative to it); image-builder read them relative to where it ran",
    );
  }

  // --- commands and boot artifacts -------------------------------------------------------------
  const commands: NonNullable<RecipeInput["commands"]> = [];
  // remove_packages: image-builder runs `rpm -e --nodeps PKG` in the image, one package at a
  // time. dnf remove would also remove everything that needs the package (removing
  // linux-firmware takes the kernel with it), so the conversion keeps rpm's meaning. It runs
  // after files (bootsmith's order) instead of before: both come after every install.
  if (cfg.remove_packages.length > 0) {
    conv.from(["commands", commands.length], ["remove_packages"]);
    commands.push({ name: `rpm -e --nodeps ${cfg.remove_packages.join(" ")}`, run: ["rpm", "-e", "--nodeps", ...cfg.remove_packages] });
    conv.note(
      ["remove_packages"],
      `removed with rpm -e --nodeps in the image like image-builder (not ${manager ?? "dnf"} remove, which would also remove what depends on them); this runs after the files are copied`,
    );
  }

  let dracutModules: string[] | undefined;
  const droppedLogs: string[] = [];
  cfg.cmds.forEach((c, i) => {
    const at: DataPath = ["cmds", i];
    if (c.buildah_extra_args)
      conv.fail(
        [...at, "buildah_extra_args"],
        "extra buildah run arguments (bind mounts, devices) are not supported: bootsmith runs every command the same way so a plan shows everything a build depends on",
      );
    if (c.loglevel !== undefined) conv.note([...at, "loglevel"], "loglevel is ignored: bootsmith shows every command's output");
    const dracut = parseDracutCall(c.cmd);
    if (dracut) {
      dracutModules ??= dracut.modules;
      if (dracut.logfile) droppedLogs.push(dracut.logfile);
      conv.note(
        at,
        "this dracut command is left out: bootsmith builds the initramfs itself (boot.initramfs) for the kernel it picks (boot.kernel: newest); image-builder's `--kver $(basename /lib/modules/*)` breaks with two kernels installed",
      );
      return;
    }
    if (droppedLogs.some((log) => c.cmd.includes(log))) {
      conv.note(at, "left out with the dracut command whose log it reads");
      return;
    }
    conv.from(["commands", commands.length], at);
    conv.from(["commands", commands.length, "run"], [...at, "cmd"]);
    // bash -c exactly as image-builder runs it: no -e, so a failing first half of `a; b` goes
    // on as it did. Unlike image-builder, a command that exits non-zero fails the build.
    commands.push({ run: ["bash", "-c", c.cmd] });
  });
  if (cfg.cmds.length > 0)
    conv.note(["cmds"], "each cmd runs as bash -c like image-builder, but a command that fails now fails the build (image-builder ignored the exit code)");

  const boot = bootSpec(cfg, dracutModules, conv);

  // --- publish ---------------------------------------------------------------------------------
  const publish: NonNullable<RecipeInput["publish"]> = [];
  if (o.publish_registry) {
    const push = registryFlags(o.registry_opts_push ?? [], opt("registry_opts_push"), conv, true);
    conv.from(["publish", publish.length], opt("publish_registry"));
    publish.push({
      type: "registry",
      repository: `${o.publish_registry.replace(/\/+$/, "")}/${name}`,
      ...(push.tlsVerify === false ? { tlsVerify: false } : {}),
      ...(push.authFile ? { authFile: push.authFile } : {}),
    });
  } else if (o.registry_opts_push) {
    conv.note(opt("registry_opts_push"), "ignored: there is no publish_registry");
  }
  if (o.publish_s3) {
    conv.from(["publish", publish.length], opt("publish_s3"));
    conv.from(["publish", publish.length, "endpoint"], opt("publish_s3"));
    conv.from(["publish", publish.length, "bucket"], o.s3_bucket !== undefined ? opt("s3_bucket") : opt("publish_s3"));
    if (o.s3_prefix !== undefined) conv.from(["publish", publish.length, "prefix"], opt("s3_prefix"));
    publish.push({ type: "s3", endpoint: o.publish_s3, bucket: o.s3_bucket ?? "boot-images", prefix: o.s3_prefix ?? "" });
    conv.note(
      opt("publish_s3"),
      "published with bootsmith's S3 layout, <prefix><name>/<tag>/{vmlinuz,initramfs.img,rootfs.squashfs} plus manifest.json: every tag keeps its own kernel and initramfs. image-builder's keys (efi-images/<prefix>vmlinuz-KVER, shared by every image and tag with that kernel, so a later build overwrites an earlier one's initramfs) are available with layout: image-builder. Credentials: S3_ACCESS / S3_SECRET, as before",
    );
  }
  if (o.publish_local) {
    conv.note(opt("publish_local"), "nothing to convert: bootsmith always commits the image to local storage, as localhost/bootsmith/<name>:<tag>");
  }

  const labels = {
    ...openchamiLabels({
      name,
      type: o.layer_type,
      parent,
      manager,
      tags,
      repos: cfg.repos.map((r) => r.alias),
      packages: cfg.packages,
      groups: cfg.package_groups,
    }),
    ...(o.labels ?? {}),
  };
  conv.from(["labels"], o.labels !== undefined ? opt("labels") : ["options"]);

  ansible.forEach((a, i) => conv.from(["commands", commands.length + i], a.from));
  commands.push(...ansible.map((a) => a.command));
  return { name, tags, labels, from, ...(packages ? { packages } : {}), files, commands, ...(scan ? { scan } : {}), boot, publish };
}

/**
 * layer_type: ansible: image-builder runs each playbook with Ansible's buildah connection against
 * a container of the parent, the image in `groups`, `vars` as its host variables, `inventory` as
 * extra inventory sources (src/layer.py _build_ansible, src/utils.py run_playbook). bootsmith runs
 * the same playbooks through the chroot connection; playbooks are paths relative to the config.
 */
function ignoredInAnsibleLayer(o: ImageBuilderConfig["options"], conv: Conversion): undefined {
  for (const key of ["install_scap", "scap_benchmark", "oval_eval"] as const)
    if (o[key]) conv.note(["options", key], "ignored, as image-builder ignores it in an Ansible layer (it scans base layers only)");
  return undefined;
}

function ansibleLayer(cfg: ImageBuilderConfig, conv: Conversion): { command: NonNullable<RecipeInput["commands"]>[number]; from: DataPath }[] {
  const o = cfg.options;
  const opt = (key: string): DataPath => ["options", key];
  if (o.playbooks === undefined) {
    conv.fail(opt("layer_type"), "an Ansible layer needs playbooks: (the playbook file, relative to this config)");
    return [];
  }
  if (o.parent === undefined || o.parent === "scratch")
    conv.fail(opt("parent"), "an Ansible layer configures an existing image: give parent: (the image the playbooks run against)");
  if (o.inventory !== undefined)
    conv.fail(
      opt("inventory"),
      "inventory sources are not read: bootsmith generates the inventory (one host in groups:). Move the variables from the inventory's group_vars/ and host_vars/ into group_vars/ beside the playbook (bootsmith reads and hashes that directory) or into vars:, then remove inventory:",
    );
  if (o.ansible_verbosity !== undefined)
    conv.note(opt("ansible_verbosity"), "ignored: the play's whole output is in build.log, and a failed task is named in the error");
  for (const key of ["packages", "package_groups", "repos", "cmds", "copyfiles", "remove_packages"] as const)
    if ((cfg[key] as unknown[]).length > 0) conv.note([key], "ignored, as image-builder ignores it in an Ansible layer");
  const playbooks = typeof o.playbooks === "string" ? [o.playbooks] : o.playbooks;
  const out: { command: NonNullable<RecipeInput["commands"]>[number]; from: DataPath }[] = [];
  playbooks.forEach((playbook, i) => {
    const at: DataPath = typeof o.playbooks === "string" ? opt("playbooks") : [...opt("playbooks"), i];
    if (playbook.startsWith("/")) {
      conv.fail(
        at,
        `${playbook} is a path inside image-builder's container; give the playbook relative to this config (bootsmith reads it, its roles and group_vars/ from the config's directory)`,
      );
      return;
    }
    out.push({
      command: {
        name: `ansible-playbook ${playbook}`,
        ansible: { playbook, ...(o.groups && o.groups.length > 0 ? { groups: o.groups } : {}), ...(o.vars ? { inventoryVars: o.vars } : {}) },
      },
      from: at,
    });
  });
  conv.note(
    opt("layer_type"),
    "the playbooks run from the build host through Ansible's chroot connection (community.general), not the buildah connection: the image needs python3",
  );
  return out;
}

function convertRepo(
  r: ImageBuilderConfig["repos"][number],
  i: number,
  manager: string | undefined,
  conv: Conversion,
): NonNullable<NonNullable<RecipeInput["packages"]>["repos"]>[number] {
  const at: DataPath = ["repos", i];
  conv.from(["packages", "repos", i], at);
  conv.from(["packages", "repos", i, "name"], [...at, "alias"]);
  const gpg = r.gpg ?? r.gpg_key;
  const priority = r.priority === undefined ? undefined : Number(r.priority);
  if (priority !== undefined) conv.from(["packages", "repos", i, "priority"], [...at, "priority"]);
  if (r.url !== undefined) {
    conv.from(["packages", "repos", i, "baseurl"], [...at, "url"]);
    if (/\.repo$/i.test(r.url)) {
      const tool = manager === "zypper" ? "zypper addrepo" : "dnf config-manager --add-repo";
      conv.fail(
        [...at, "url"],
        `a .repo file URL is not supported (image-builder hands it to ${tool}); give the repository's baseurl, or its lines with config:`,
      );
    }
    if (gpg) conv.from(["packages", "repos", i, "gpgkey"], [...at, r.gpg ? "gpg" : "gpg_key"]);
    // zypper addrepo checks signatures unless told otherwise, also for a repository without a key
    // of its own (the keys imported for the others are trusted for every repository).
    const gpgcheck = manager === "zypper" && !gpg ? { gpgcheck: true } : {};
    if (manager === "zypper" && !gpg) conv.from(["packages", "repos", i, "gpgcheck"], [...at, "url"]);
    return { name: r.alias, baseurl: r.url, ...(gpg ? { gpgkey: gpg } : {}), ...gpgcheck, ...(priority !== undefined ? { priority } : {}) };
  }
  // config: the lines of the repo's section; image-builder writes them under [alias].
  const body = (r.config ?? "").replace(/\s+$/, "");
  const lines = [`[${r.alias}]`];
  if (!/^name\s*=/m.test(body)) lines.push(`name=${r.alias}`);
  lines.push(body);
  if (gpg && !/^gpgkey\s*=/m.test(body)) lines.push(`gpgkey=${gpg}`);
  if (priority !== undefined && !/^priority\s*=/m.test(body)) lines.push(`priority=${priority}`);
  conv.from(["packages", "repos", i, "content"], [...at, "config"]);
  return { name: r.alias, content: `${lines.join("\n")}\n` };
}

/** `registry_opts_push/pull` entries are buildah flags; bootsmith has settings for two of them. */
function registryFlags(entries: readonly string[], at: DataPath, conv: Conversion, push: boolean): { tlsVerify?: boolean; authFile?: string } {
  const out: { tlsVerify?: boolean; authFile?: string } = {};
  entries.forEach((entry, i) => {
    const words = entry.split(/\s+/).filter(Boolean);
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      const tls = /^--tls-verify(?:=(true|false))?$/.exec(word);
      const auth = /^--authfile(?:=(.+))?$/.exec(word);
      if (tls) out.tlsVerify = tls[1] !== "false";
      else if (auth && push) out.authFile = auth[1] ?? words[++w];
      else
        conv.fail(
          [...at, i],
          `buildah flag ${word} is not supported here; bootsmith maps --tls-verify${push ? " and --authfile" : ""} (${push ? "publish registry tlsVerify/authFile" : "from.tlsVerify; credentials come from buildah's auth file"})`,
        );
    }
  });
  return out;
}

/** README's `dnf_options` (dnf.conf settings); the ones bootsmith has a setting for. */
function dnfOptions(entries: readonly string[], options: Record<string, unknown>, conv: Conversion): void {
  entries.forEach((entry, i) => {
    const at: DataPath = ["options", "dnf_options", i];
    const m = /^\s*([a-z_]+)\s*=\s*(\S*)\s*$/.exec(entry);
    const on = m ? ["1", "true", "yes"].includes(m[2]!.toLowerCase()) : false;
    switch (m?.[1]) {
      case "gpgcheck":
        options.nogpgcheck = !on;
        conv.from(["packages", "options", "nogpgcheck"], at);
        break;
      case "install_weak_deps":
        options.weakDeps = on;
        conv.from(["packages", "options", "weakDeps"], at);
        break;
      case "best":
        options.best = on;
        conv.from(["packages", "options", "best"], at);
        break;
      case "keepcache":
        conv.note(at, "keepcache is ignored: bootsmith keeps dnf's cache in its own cache directory and none in the image");
        break;
      default:
        conv.fail(at, unsupportedDnfOption(entry));
    }
  });
}

const MAPPED_DNF_OPTIONS = "bootsmith maps gpgcheck, install_weak_deps, best and keepcache";

/**
 * Why an entry is refused. A dnf flag (`--setopt=install_weak_deps=False`, `--nobest`) is not the
 * key=value line image-builder writes into dnf.conf: say so, and give the line when there is one.
 */
function unsupportedDnfOption(entry: string): string {
  const flag = /^\s*--/.test(entry);
  if (!flag) return `dnf option "${entry}" is not supported; ${MAPPED_DNF_OPTIONS}`;
  const setopt = /^\s*--setopt=([a-z_]+=\S*)\s*$/.exec(entry);
  const what = `"${entry}" is a dnf command-line flag; dnf_options are dnf.conf settings`;
  return setopt
    ? `${what}, as image-builder writes them into dnf.conf: write ${setopt[1]!}`
    : `${what} (key=value) as image-builder writes them into dnf.conf; ${MAPPED_DNF_OPTIONS}`;
}

/** buildah copy flags → native file settings. */
function copyOpts(opts: readonly string[], at: DataPath, i: number, conv: Conversion): { mode?: string; owner?: string } {
  const out: { mode?: string; owner?: string } = {};
  const words = opts.flatMap((o, j) =>
    o
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => ({ w, j })),
  );
  for (let k = 0; k < words.length; k++) {
    const { w, j } = words[k]!;
    const m = /^--(chmod|chown)(?:=(.+))?$/.exec(w);
    const value = m ? (m[2] ?? words[++k]?.w) : undefined;
    if (m && value !== undefined) {
      if (m[1] === "chmod") out.mode = value;
      else out.owner = value;
      conv.from(["files", i, m[1] === "chmod" ? "mode" : "owner"], [...at, "opts", j]);
    } else {
      conv.fail([...at, "opts", j], `buildah copy flag ${w} is not supported; bootsmith maps --chmod=MODE and --chown=USER[:GROUP]`);
    }
  }
  return out;
}

/**
 * Boot artifacts. image-builder makes none itself: the config installs kernel and dracut-live
 * and runs dracut in cmds, and publish_s3 uploads what it finds in /boot (the first kernel in
 * directory order). bootsmith makes them when the config means to boot: it publishes to S3,
 * installs dracut-live or runs dracut. Then the newest kernel is used, the initramfs is built
 * for it with the modules the dracut command added (or image-builder's examples' live set), and
 * the squashfs uses mksquashfs's default compressor like image-builder. Otherwise (a base layer
 * only pushed to a registry) boot: false.
 */
function bootSpec(cfg: ImageBuilderConfig, dracutModules: string[] | undefined, conv: Conversion): RecipeInput["boot"] {
  const wantsBoot = cfg.options.publish_s3 !== undefined || cfg.packages.includes("dracut-live") || dracutModules !== undefined;
  const why: DataPath = cfg.options.publish_s3 !== undefined ? ["options", "publish_s3"] : dracutModules !== undefined ? ["cmds"] : ["packages"];
  conv.from(["boot"], wantsBoot ? why : ["options"]);
  if (!wantsBoot) {
    conv.note(
      ["options"],
      "boot: false: the config neither publishes to S3, installs dracut-live nor runs dracut, so no kernel, initramfs or squashfs is made",
    );
    return false;
  }
  const modules = dracutModules && dracutModules.length > 0 ? dracutModules : DEFAULT_LIVE_MODULES;
  conv.from(["boot", "initramfs", "modules"], why);
  return { kernel: "newest", initramfs: { modules }, rootfs: { compression: UPSTREAM_SQUASHFS_COMPRESSION } };
}
