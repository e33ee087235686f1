// OpenCHAMI image-thrillhouse (Go) configs: a strict schema of the format and a pure converter
// to a native recipe.
//
// Followed: OpenCHAMI/image-thrillhouse internal/config/config.go (commit 6677083e: Meta, Layer,
// Manager, Repo, File, Directory, Install, Module, Command, EnvConfig, Publish, OpenSCAP),
// internal/config/validate.go (13612eb4: required keys, module actions), docs/configuration.md
// (04553575: backend options, publish types, promote-only, S3 layout), internal/buildah/container.go
// (0239ea13: `script:` runs as `/bin/sh FILE`), the builder's runCommands (`run:` split by
// go-shellwords, no shell), internal/publisher/{registry,squashfs}/*.go (11e52971) and the
// example configs under tests/ (e.g. tests/rocky/static/rocky-base-x86_64.yaml, 3136d355).
import { z } from "zod";
import type { RecipeInput } from "../schema.js";
import { baseName, Conversion, convertOpenscap, openchamiLabels, parseDracutCall, shellWords, UPSTREAM_SQUASHFS_COMPRESSION, type DataPath } from "./common.js";

// --- the format ---------------------------------------------------------------------------------

const stringList = z.array(z.string().min(1));
/** image-thrillhouse reads backend options as strings ("true"/"false"); YAML booleans are accepted too. */
const optionValue = z.union([z.string(), z.boolean(), z.number()]).transform(String);
const env = z.strictObject({
  pass: stringList.optional().describe("Host environment variables passed through"),
  set: z.record(z.string(), z.string()).optional().describe("Variables set to these values"),
});

const ThrillhouseMeta = z.strictObject({
  name: z.string().min(1),
  tags: stringList.min(1),
  from: z.string().min(1).optional().describe("scratch (default) or an image reference"),
  "from-tls-verify": z.boolean().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

const ThrillhouseLayer = z.strictObject({
  manager: z.strictObject({
    name: z.enum(["dnf", "zypper", "apt", "mmdebstrap"]),
    config: z.string().optional().describe("Package manager configuration file content"),
    options: z.record(z.string(), optionValue).optional(),
  }),
  env: env.optional(),
  repos: z
    .array(
      z.strictObject({
        path: z.string().min(1),
        content: z.string().optional(),
        url: z.string().optional(),
        src: z.string().optional(),
        gpg: z.string().optional(),
      }),
    )
    .default([]),
  files: z
    .array(
      z
        .strictObject({
          path: z.string().min(1),
          content: z.string().optional(),
          src: z.string().optional(),
          url: z.string().optional(),
          mode: z.string().optional(),
        })
        .refine((f) => [f.content, f.src, f.url].filter((v) => v !== undefined && v !== "").length === 1, { error: "give exactly one of content, src or url" }),
    )
    .default([]),
  directories: z
    .array(
      z.strictObject({
        path: z.string().min(1),
        src: z.string().min(1),
        mode: z.string().optional(),
        owner: z.string().optional(),
        preserve_ownership: z.boolean().optional(),
        excludes: stringList.optional(),
        contents_only: z.boolean().optional(),
      }),
    )
    .default([]),
  actions: z
    .strictObject({
      install: z
        .strictObject({
          packages: stringList.default([]),
          groups: stringList.default([]),
          modules: z
            .array(z.strictObject({ name: z.string().min(1), stream: z.string().optional(), action: z.enum(["enable", "disable", "install", "reset"]) }))
            .default([]),
          remove_packages: stringList.default([]),
        })
        .prefault({}),
      commands: z
        .array(
          z
            .strictObject({
              run: z.string().min(1).optional(),
              script: z.string().min(1).optional(),
              ansible: z
                .strictObject({
                  playbook: z.string().min(1),
                  inventory: z.string().optional(),
                  roles: z.string().optional(),
                  groups: stringList.optional(),
                  extra_vars: z.record(z.string(), z.string()).optional(),
                  tags: z.string().optional(),
                  skip_tags: z.string().optional(),
                  verbose: z.number().int().min(0).max(4).optional(),
                  check_mode: z.boolean().optional(),
                })
                .optional(),
              env: env.optional(),
            })
            .refine((c) => [c.run, c.script, c.ansible].filter((v) => v !== undefined).length === 1, { error: "give exactly one of run, script or ansible" }),
        )
        .default([]),
    })
    .prefault({}),
  openscap: z
    .strictObject({
      install_scap: z.boolean().optional(),
      scap_benchmark: z.boolean().optional(),
      oval_eval: z.boolean().optional(),
      profile: z.string().optional(),
      benchmark_path: z.string().optional(),
      oval_url: z.string().optional(),
      results_path: z.string().optional(),
      remediate_path: z.string().optional(),
      oval_result_path: z.string().optional(),
    })
    .optional(),
});

const ThrillhousePublish = z.strictObject({
  type: z.enum(["local", "squashfs", "registry", "s3", "tarball"]),
  url: z.string().optional(),
  bucket: z.string().optional(),
  prefix: z.string().optional(),
  path: z.string().optional(),
  "tls-verify": z.boolean().optional(),
  "promote-only": z.boolean().optional(),
});

export const ThrillhouseSchema = z
  .strictObject({
    meta: ThrillhouseMeta,
    layer: ThrillhouseLayer,
    publish: z.array(ThrillhousePublish).default([]),
  })
  .describe("OpenCHAMI image-thrillhouse config");

export type ThrillhouseConfig = z.output<typeof ThrillhouseSchema>;

// --- the conversion -----------------------------------------------------------------------------

type NativeManager = "dnf" | "apt" | "zypper";

export function convertThrillhouse(cfg: ThrillhouseConfig, conv: Conversion): RecipeInput {
  const { meta, layer } = cfg;
  rejectTemplates(cfg, conv);
  conv.from(["name"], ["meta", "name"]);
  conv.from(["tags"], ["meta", "tags"]);
  meta.tags.forEach((_, i) => conv.from(["tags", i], ["meta", "tags", i]));

  const fromRef = meta.from ?? "scratch";
  const tlsVerify = meta["from-tls-verify"];
  const from: RecipeInput["from"] = fromRef === "scratch" ? "scratch" : { image: fromRef, ...(tlsVerify === false ? { tlsVerify: false } : {}) };
  conv.from(["from"], meta.from !== undefined ? ["meta", "from"] : ["meta"]);

  // --- package manager -----------------------------------------------------------------------
  const managerName = layer.manager.name;
  // apt is image-thrillhouse's backend for parent images, mmdebstrap for scratch: bootsmith's
  // apt plug-in does both (mmdebstrap from scratch, apt-get inside a parent).
  const manager: NativeManager = managerName === "mmdebstrap" ? "apt" : managerName;
  conv.from(["packages"], ["layer", "manager"]);
  conv.from(["packages", "manager"], ["layer", "manager", "name"]);
  // image-thrillhouse's defaults: dnf installs weak dependencies (install-weak-deps "true") and
  // zypper recommends (no-recommends "false"), apt leaves recommends out; none leaves
  // documentation out.
  const options: Record<string, unknown> = manager === "apt" ? { docs: true } : { weakDeps: true, docs: true };
  conv.from(["packages", "options"], ["layer", "manager"]);
  let release: string | undefined;
  for (const [key, value] of Object.entries(layer.manager.options ?? {})) {
    const r = managerOption(managerName, key, value, options, ["layer", "manager", "options", key], conv);
    if (r !== undefined) release = r;
  }
  if (release !== undefined) conv.from(["packages", "release"], ["layer", "manager", "options", managerName === "dnf" ? "releasever" : "suite"]);
  if (layer.manager.config !== undefined) managerConfig(managerName, layer.manager.config, options, conv);
  if (from === "scratch" && release === undefined && (managerName === "dnf" || managerName === "mmdebstrap")) {
    const key = managerName === "dnf" ? "releasever" : "suite";
    conv.fail(
      ["layer", "manager"],
      `options.${key} is required for a build from scratch (image-thrillhouse requires it too), e.g. ${key}: "${managerName === "dnf" ? "9" : "bookworm"}"`,
    );
  }

  const install = layer.actions.install;
  const repos = layer.repos.flatMap((r, i) => convertRepo(r, i, manager, conv));
  const modules = { enable: [] as string[], install: [] as string[] };
  install.modules.forEach((m, i) => {
    const at: DataPath = ["layer", "actions", "install", "modules", i];
    const spec = m.stream ? `${m.name}:${m.stream}` : m.name;
    if (m.action === "enable" || m.action === "install") {
      conv.from(["packages", "modules", m.action, modules[m.action].length], at);
      modules[m.action].push(spec);
    } else {
      conv.fail([...at, "action"], `dnf module ${m.action} is not supported; bootsmith runs dnf module enable and install`);
    }
  });
  conv.from(["packages", "groups"], ["layer", "actions", "install", "groups"]);
  install.groups.forEach((_, i) => conv.from(["packages", "groups", i], ["layer", "actions", "install", "groups", i]));
  conv.from(["packages", "install"], ["layer", "actions", "install", "packages"]);
  install.packages.forEach((_, i) => conv.from(["packages", "install", i], ["layer", "actions", "install", "packages", i]));
  const packages: NonNullable<RecipeInput["packages"]> = {
    manager,
    ...(release !== undefined ? { release } : {}),
    repos,
    ...(install.groups.length > 0 ? { groups: install.groups } : {}),
    ...(modules.enable.length + modules.install.length > 0 ? { modules } : {}),
    install: install.packages,
    options,
  };

  // --- files -----------------------------------------------------------------------------------
  const files: NonNullable<RecipeInput["files"]> = [];
  layer.files.forEach((f, i) => {
    const at: DataPath = ["layer", "files", i];
    if (f.url) {
      conv.fail(
        [...at, "url"],
        "files fetched from a URL at build time are not supported: the plan would depend on whatever the URL serves that day. Download the file next to the config and use src:, or fetch it in a command",
      );
      return;
    }
    conv.from(["files", files.length], at);
    conv.from(["files", files.length, "dest"], [...at, "path"]);
    conv.from(["files", files.length, f.content !== undefined ? "content" : "src"], [...at, f.content !== undefined ? "content" : "src"]);
    if (f.mode !== undefined) conv.from(["files", files.length, "mode"], [...at, "mode"]);
    files.push({
      dest: f.path,
      ...(f.content !== undefined && f.content !== "" ? { content: f.content } : { src: f.src ?? "" }),
      ...(f.mode !== undefined ? { mode: f.mode } : {}),
    });
  });
  layer.directories.forEach((d, i) => {
    const at: DataPath = ["layer", "directories", i];
    if (d.preserve_ownership)
      conv.fail(
        [...at, "preserve_ownership"],
        "keeping the host's owners is not supported: bootsmith copies files owned by root (or owner:) so a build does not depend on the host's users",
      );
    if (d.excludes && d.excludes.length > 0)
      conv.fail([...at, "excludes"], "excludes are not supported: copy a directory that holds only what the image needs");
    // contents_only (default true) copies src/. into path, which is what buildah copy of a
    // directory does; false puts src itself under path.
    const dest = d.contents_only === false ? `${d.path.replace(/\/+$/, "")}/${baseName(d.src)}` : d.path;
    conv.from(["files", files.length], at);
    conv.from(["files", files.length, "dest"], [...at, "path"]);
    conv.from(["files", files.length, "src"], [...at, "src"]);
    files.push({ src: d.src, dest, ...(d.mode !== undefined ? { mode: d.mode } : {}), ...(d.owner !== undefined ? { owner: d.owner } : {}) });
  });
  if (layer.files.some((f) => f.src) || layer.directories.length > 0) {
    conv.note(
      ["layer"],
      "src: paths are read relative to the config's directory and must stay inside it (image-thrillhouse reads them relative to where it runs)",
    );
  }

  // --- commands ----------------------------------------------------------------------------------
  const commands: NonNullable<RecipeInput["commands"]> = [];
  if (install.remove_packages.length > 0) {
    // image-thrillhouse: rpm -e --nodeps (dnf, zypper) or dpkg --remove --force-depends (apt),
    // never the package manager's remove, which would take dependent packages along.
    const argv =
      manager === "apt" ? ["dpkg", "--remove", "--force-depends", ...install.remove_packages] : ["rpm", "-e", "--nodeps", ...install.remove_packages];
    conv.from(["commands", commands.length], ["layer", "actions", "install", "remove_packages"]);
    commands.push({ name: argv.join(" "), run: argv });
    conv.note(
      ["layer", "actions", "install", "remove_packages"],
      `removed with ${argv.slice(0, 3).join(" ")} like image-thrillhouse; this runs after the files are copied`,
    );
  }
  const layerEnv = envOf(layer.env, ["layer", "env"], conv);
  let dracutModules: string[] | undefined;
  layer.actions.commands.forEach((c, i) => {
    const at: DataPath = ["layer", "actions", "commands", i];
    if (c.ansible) {
      const command = ansibleCommand(c.ansible, [...at, "ansible"], conv);
      const ansibleEnv = { ...layerEnv, ...envOf(c.env, [...at, "env"], conv) };
      if (command) {
        conv.from(["commands", commands.length], at);
        commands.push({ ...command, ...(Object.keys(ansibleEnv).length > 0 ? { env: ansibleEnv } : {}) });
      }
      return;
    }
    const cmdEnv = { ...layerEnv, ...envOf(c.env, [...at, "env"], conv) };
    const envPart = Object.keys(cmdEnv).length > 0 ? { env: cmdEnv } : {};
    const text = c.run ?? c.script ?? "";
    const dracut = parseDracutCall(text);
    if (dracut) {
      dracutModules ??= dracut.modules;
      conv.note(at, "this dracut command is left out: bootsmith builds the initramfs itself (boot.initramfs) for the newest installed kernel");
      return;
    }
    conv.from(["commands", commands.length], at);
    if (c.run !== undefined) {
      const split = shellWords(c.run);
      if (!split.ok) {
        conv.fail(
          [...at, "run"],
          `run: is split into words without a shell, and "${split.operator}" is a shell operator: image-thrillhouse would run only \`${split.before.join(" ")}\`. Use script: for shell syntax`,
        );
        return;
      }
      conv.from(["commands", commands.length, "run"], [...at, "run"]);
      commands.push({ run: split.words, ...envPart });
    } else {
      // image-thrillhouse writes the script to a file and runs `/bin/sh FILE`: no -e.
      conv.from(["commands", commands.length, "run"], [...at, "script"]);
      commands.push({ name: firstLine(text), run: ["/bin/sh", "-c", text], ...envPart });
    }
  });

  // --- boot artifacts and publish ------------------------------------------------------------
  const bootPublish = cfg.publish.findIndex((p) => (p.type === "s3" || p.type === "squashfs") && !p["promote-only"]);
  const wantsBoot = bootPublish >= 0 || install.packages.includes("dracut-live") || dracutModules !== undefined;
  let boot: RecipeInput["boot"] = false;
  if (wantsBoot) {
    const defaults = manager === "apt" ? ["dmsquash-live", "livenet", "network", "network-legacy"] : ["dmsquash-live", "livenet", "network-manager"];
    const modules = dracutModules && dracutModules.length > 0 ? dracutModules : defaults;
    boot = { kernel: "newest", initramfs: { modules }, rootfs: { compression: UPSTREAM_SQUASHFS_COMPRESSION } };
    conv.from(["boot"], bootPublish >= 0 ? ["publish", bootPublish] : ["layer", "actions"]);
  } else {
    conv.from(["boot"], ["meta"]);
    conv.note(["publish"], "boot: false: nothing is published to S3 or as a squashfs, so no kernel, initramfs or squashfs is made");
  }

  const publish: NonNullable<RecipeInput["publish"]> = [];
  cfg.publish.forEach((p, i) => {
    const at: DataPath = ["publish", i];
    if (p["promote-only"]) {
      conv.note(at, "promote-only: left out of the build; publish it later with `bootsmith publish`");
      return;
    }
    switch (p.type) {
      case "local":
        conv.note(at, "nothing to convert: bootsmith always commits the image to local storage, as localhost/bootsmith/<name>:<tag>");
        return;
      case "tarball":
        conv.fail(
          [...at, "type"],
          "tarball publishing is not supported: export the committed image with `buildah push localhost/bootsmith/<name>:<tag> oci-archive:FILE`",
        );
        return;
      case "registry":
        if (!p.url) return conv.fail(at, "a registry target needs url:");
        conv.from(["publish", publish.length], at);
        publish.push({ type: "registry", repository: `${p.url.replace(/\/+$/, "")}/${meta.name}`, ...(p["tls-verify"] === false ? { tlsVerify: false } : {}) });
        return;
      case "squashfs":
        if (!p.path) return conv.fail(at, "a squashfs target needs path:");
        conv.from(["publish", publish.length], at);
        publish.push({ type: "local", dir: p.path });
        conv.note(
          at,
          "published as a local directory: <path>/<name>/<tag>/rootfs.squashfs with vmlinuz, initramfs.img and manifest.json (image-thrillhouse writes <path>/<name>-<tag>.squashfs alone)",
        );
        return;
      case "s3":
        if (!p.bucket) return conv.fail(at, "an s3 target needs bucket:");
        conv.from(["publish", publish.length], at);
        if (p.url) conv.from(["publish", publish.length, "endpoint"], [...at, "url"]);
        conv.from(["publish", publish.length, "bucket"], [...at, "bucket"]);
        if (p.prefix !== undefined) conv.from(["publish", publish.length, "prefix"], [...at, "prefix"]);
        publish.push({ type: "s3", ...(p.url ? { endpoint: p.url } : {}), bucket: p.bucket, prefix: p.prefix ?? "" });
        conv.note(
          at,
          "bootsmith's S3 layout adds the image name: <prefix><name>/<tag>/{rootfs.squashfs,vmlinuz,initramfs.img} (image-thrillhouse: <prefix><tag>/[<arch>/]…); bootsmith has no image-thrillhouse layout yet. Credentials: S3_ACCESS / S3_SECRET, as before",
        );
        return;
    }
  });

  const labels = {
    ...openchamiLabels({
      name: meta.name,
      parent: fromRef,
      manager: managerName,
      tags: meta.tags,
      repos: layer.repos.map((r) => baseName(r.path)),
      packages: install.packages,
      groups: install.groups,
    }),
    ...(meta.labels ?? {}),
  };
  conv.from(["labels"], meta.labels !== undefined ? ["meta", "labels"] : ["meta"]);

  const scan = layer.openscap ? convertOpenscap(layer.openscap, (key) => ["layer", "openscap", key], conv) : undefined;
  if (scan) conv.from(["scan"], ["layer", "openscap"]);
  return { name: meta.name, tags: meta.tags, labels, from, packages, files, commands, ...(scan ? { scan } : {}), boot, publish };
}

function convertRepo(
  r: ThrillhouseConfig["layer"]["repos"][number],
  i: number,
  manager: NativeManager,
  conv: Conversion,
): NonNullable<NonNullable<RecipeInput["packages"]>["repos"]> {
  const at: DataPath = ["layer", "repos", i];
  if (r.url || r.src) {
    conv.fail([...at, r.url ? "url" : "src"], "give the repository file inline with content: (bootsmith writes repository files from the recipe itself)");
    return [];
  }
  if (r.content === undefined) {
    conv.fail(at, "give the repository file with content:");
    return [];
  }
  if (manager === "apt" && r.path.endsWith(".list")) {
    conv.fail([...at, "path"], "one-line .list sources are not supported; write the repository as a deb822 .sources file (Types:/URIs:/Suites:/Components:)");
    return [];
  }
  const name = baseName(r.path);
  const native =
    manager === "apt" ? `/etc/apt/sources.list.d/${name}.sources` : manager === "zypper" ? `/etc/zypp/repos.d/${name}.repo` : `/etc/yum.repos.d/${name}.repo`;
  if (r.path !== native) conv.note([...at, "path"], `written as ${native} (bootsmith places repository files itself)`);
  conv.from(["packages", "repos", i], at);
  conv.from(["packages", "repos", i, "name"], [...at, "path"]);
  conv.from(["packages", "repos", i, "content"], [...at, "content"]);
  if (r.gpg) conv.from(["packages", "repos", i, "gpgkey"], [...at, "gpg"]);
  return [{ name, content: r.content, ...(r.gpg ? { gpgkey: r.gpg } : {}) }];
}

/** Backend options (docs/configuration.md "Backend options"); returns the release when this option names it. */
function managerOption(manager: string, key: string, value: string, options: Record<string, unknown>, at: DataPath, conv: Conversion): string | undefined {
  const on = value === "true";
  const set = (native: string, v: unknown) => {
    options[native] = v;
    conv.from(["packages", "options", native], at);
  };
  switch (`${manager}:${key}`) {
    case "dnf:releasever":
    case "mmdebstrap:suite":
      return value;
    case "dnf:install-weak-deps":
    case "apt:install-recommends":
      set("weakDeps", on);
      break;
    case "dnf:best":
      set("best", on);
      break;
    case "dnf:nobest":
      set("best", !on);
      break;
    case "apt:allow-unauthenticated":
    case "zypper:no-gpg-checks":
      set("nogpgcheck", on);
      break;
    case "zypper:no-recommends":
      set("weakDeps", !on);
      break;
    case "zypper:auto-agree-with-licenses":
      conv.note(
        at,
        "bootsmith always agrees to licences of the packages a recipe names (zypper --auto-agree-with-licenses): a build cannot answer the question",
      );
      break;
    case "zypper:repopath":
      conv.note(at, "repopath is ignored: bootsmith writes repositories to /etc/zypp/repos.d in the image and uses a private directory from scratch");
      break;
    case "mmdebstrap:mirror":
      set("mirror", value);
      break;
    case "mmdebstrap:variant":
      set("variant", value);
      break;
    case "dnf:skip-broken":
    case "dnf:allowerasing":
    case "zypper:force-resolution":
    case "zypper:allow-vendor-change":
    case "apt:install-suggests":
      if (on) conv.fail(at, `${key} is not supported: bootsmith installs exactly the packages named, or fails`);
      break;
    case "mmdebstrap:mode":
      conv.note(at, "mode is ignored: bootsmith runs mmdebstrap as root in its own mode");
      break;
    default:
      conv.fail(at, `${manager} option "${key}" is not supported by bootsmith`);
  }
  return undefined;
}

/** manager.config: dnf.conf content. bootsmith sets dnf's options itself; the ones it has a setting for are carried over. */
function managerConfig(manager: string, text: string, options: Record<string, unknown>, conv: Conversion): void {
  const at: DataPath = ["layer", "manager", "config"];
  if (manager !== "dnf") {
    conv.fail(at, `a ${manager} configuration file is not supported; bootsmith configures ${manager} itself`);
    return;
  }
  const ignored: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line === "[main]") continue;
    const m = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    const on = m ? ["1", "true", "yes"].includes(m[2]!.toLowerCase()) : false;
    switch (m?.[1]) {
      case "gpgcheck":
        if (!on) options.nogpgcheck = true;
        break;
      case "best":
        options.best = on;
        break;
      case "install_weak_deps":
        options.weakDeps = on;
        break;
      case "reposdir":
      case "installonly_limit":
      case "clean_requirements_on_remove":
      case "skip_if_unavailable":
      case "keepcache":
        ignored.push(m[1]);
        break;
      default:
        conv.fail(
          at,
          `dnf.conf line "${line}" is not supported; bootsmith maps gpgcheck, best and install_weak_deps (and ignores reposdir, installonly_limit, clean_requirements_on_remove, skip_if_unavailable, keepcache)`,
        );
    }
  }
  conv.from(["packages", "options"], at);
  if (ignored.length > 0) conv.note(at, `ignored: ${ignored.join(", ")} (bootsmith manages dnf's repository directory and cache itself)`);
}

function envOf(e: z.output<typeof env> | undefined, at: DataPath, conv: Conversion): Record<string, string> {
  if (!e) return {};
  if (e.pass && e.pass.length > 0)
    conv.fail(
      [...at, "pass"],
      "passing host environment variables is not supported: a build must not depend on the caller's environment. Give the values with set:",
    );
  return { ...(e.set ?? {}) };
}

/**
 * image-thrillhouse renders configs as Go text/template before reading them; bootsmith reads the
 * rendered form only (`image-thrillhouse render`, or the values written in).
 */
function rejectTemplates(cfg: ThrillhouseConfig, conv: Conversion): void {
  const visit = (value: unknown, at: DataPath): void => {
    if (typeof value === "string") {
      if (/\{\{.*\}\}/s.test(value))
        conv.fail(
          at,
          "Go template directives ({{ … }}) are not supported: render the config first (image-thrillhouse renders with its var files) and point bootsmith at the result",
        );
    } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...at, i]));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, [...at, k]);
  };
  visit(cfg, []);
}

function firstLine(script: string): string {
  return (
    script
      .split("\n")
      .find((l) => l.trim() !== "" && !l.startsWith("#!"))
      ?.trim() ?? "script"
  );
}

/**
 * An image-thrillhouse ansible command (config.AnsibleCommand): it copies the playbook, inventory
 * and roles into the container and runs ansible-playbook there against localhost in `groups`.
 * bootsmith runs the same playbook from the host through the chroot connection.
 */
function ansibleCommand(a: NonNullable<ThrillhouseConfig["layer"]["actions"]["commands"][number]["ansible"]>, at: DataPath, conv: Conversion) {
  let ok = true;
  const refuse = (key: string, message: string) => {
    conv.fail([...at, key], message);
    ok = false;
  };
  if (a.playbook.startsWith("/")) refuse("playbook", "give the playbook relative to this config, as image-thrillhouse reads it");
  if (a.inventory)
    refuse(
      "inventory",
      "inventory sources are not read: bootsmith generates the inventory (one host in groups:). Move the variables from the inventory's group_vars/ and host_vars/ into group_vars/ beside the playbook (bootsmith reads and hashes that directory) or into extra_vars:, then remove inventory:",
    );
  if (a.skip_tags)
    refuse("skip_tags", "skip_tags has no bootsmith equivalent: select the tasks to run with tags: instead, or remove the tags from the playbook");
  if (a.check_mode) refuse("check_mode", "a check-mode run changes nothing in the image: remove the command, or remove check_mode to apply the playbook");
  if (a.verbose !== undefined) conv.note([...at, "verbose"], "ignored: the play's whole output is in build.log, and a failed task is named in the error");
  // image-thrillhouse defaults roles to "roles" beside the config when the directory exists; the
  // recipe sits in the same directory, so the same relative path works.
  const tags = (a.tags ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  conv.note(at, "runs from the build host through Ansible's chroot connection (community.general), not inside the container: the image needs python3");
  if (!ok) return undefined;
  return {
    name: `ansible-playbook ${a.playbook}`,
    ansible: {
      playbook: a.playbook,
      ...(a.roles ? { roles: a.roles } : {}),
      ...(a.groups && a.groups.length > 0 ? { groups: a.groups } : {}),
      ...(a.extra_vars ? { extraVars: a.extra_vars } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    },
  };
}
