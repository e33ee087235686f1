// plan(recipe) → Plan: a pure function. It reads nothing and runs nothing; everything it
// needs from the host (detected buildah options, apt sources, core count) comes in options.
import path from "node:path";
import type { LoadedRecipe } from "../recipe/load.js";
import { buildingTag, workingContainerName } from "../core/build-names.js";
import { imagePackageManager, localImageRef, packageLayer, registrationSource } from "../recipe/load.js";
import type { AnsibleSpec, BootSpec, CommandSpec, RecipeSpec } from "../recipe/schema.js";
import { packageManagers } from "../pkg/index.js";
import type { PackageContext } from "../pkg/types.js";
import { ARTIFACT_FILES, INPUT_DIGEST_LABEL, MANIFEST_FILE, RECIPE_LABEL, SBOM_FILES, SBOM_LABELS, SCAN_FILES } from "../core/manifest.js";
import { SIGNATURE_FILE, SUMS_FILE } from "../core/sums.js";
import { buildah, copyIntoImage, runInImage, type BuildahTarget } from "../steps/buildah.js";
import { concat } from "../steps/args.js";
import { kernelModulesStep } from "./kernel-modules.js";
import type { Action, Arg, Plan, PlannedCommand, Step } from "../steps/types.js";
import { UserError } from "../core/errors.js";
import { ARCHES, type Arch } from "../core/arch.js";
import { registryTag } from "../core/image-ref.js";

export interface PlanOptions {
  /** Unique per build: names the working container. */
  readonly buildId: string;
  /** Absolute output directory for the artifacts. */
  readonly outDir: string;
  /** Absolute scratch directory for generated files. */
  readonly workDir: string;
  /** Absolute directory for package caches shared between builds. */
  readonly cacheDir: string;
  readonly buildah: { readonly globalArgs: readonly string[]; readonly isolation: string };
  readonly hostAptSources: readonly string[];
  readonly cores: number;
  readonly sourceDateEpoch?: number;
  /** Include the recipe's publish and register steps. */
  readonly publish: boolean;
  /** Sign the artifact set after the manifest (signing: in the recipe or --sign-key): the key as `bootsmith artifacts sign` takes it. */
  readonly sign?: { readonly key: string; readonly passphraseEnv?: string };
  /**
   * Commit the container as the recipe's image (the default). false when nothing needs the image:
   * a graph build's leaf (no child recipe, no registry target) or `--no-commit`. The boot
   * artifacts and the manifest are the same either way; the commit (tens of seconds for a real
   * image) is skipped and the manifest records `image.committed: false`.
   */
  readonly commit?: boolean;
  /**
   * When a `from: {image: …}` base is pulled: "missing" (the default) uses the copy in local
   * storage, so a rebuild works offline; "always" asks the registry for the tag's newest image
   * (--refresh: the nightly takes the newest of everything, a site's base:latest included).
   */
  readonly pullBase?: "missing" | "always";
}

const MNT = { var: "MNT" } as const;
const KVER = { var: "KVER" } as const;
const KERNEL_IMAGE = { var: "KERNEL_IMAGE" } as const;
const IMAGE_ID = { var: "IMAGE_ID" } as const;
const BASE_IMAGE_ID = { var: "BASE_IMAGE_ID" } as const;
const SBOM_CDX_SHA256 = { var: "SBOM_CDX_SHA256" } as const;
const SBOM_SPDX_SHA256 = { var: "SBOM_SPDX_SHA256" } as const;
/** PATH for programs run in the image root with chroot (not the host's). */
const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Files in the work directory through which a step hands facts to a later one. The executor
 * writes and reads them like the hand-run script does, so both take the same path.
 */
export const WORK_FILES = {
  kernel: "kernel.json",
  packages: "packages.tsv",
  scan: "openscap.json",
  published: (i: number) => `published-${i}.json`,
} as const;

/** Step timeouts: generous, but a hung mirror or dracut should not hold a CI runner forever. */
const TIMEOUT = { packages: 3600, dracut: 1800, squashfs: 3600, command: 1800, mount: 60 } as const;

export function plan(recipe: LoadedRecipe, options: PlanOptions): Plan {
  const spec = recipe.spec;
  const container = workingContainerName(spec.name, options.buildId);
  const target: BuildahTarget = { globalArgs: options.buildah.globalArgs, isolation: options.buildah.isolation, container };
  const image = localImageRef(spec);
  const steps: Step[] = [];

  steps.push(
    step("create-container", "Create the working container", [
      {
        kind: "exec",
        command: buildah(target, "from", ["--name", container, ...baseArgs(recipe, options.pullBase ?? "missing")]),
        undo: { id: "container", command: buildah(target, "rm", [container]) },
      },
      // Which image the name pointed at, for the manifest: a parent rebuilt later under the same
      // name then makes this image out of date (pipeline/cache.ts).
      ...(spec.from === "scratch"
        ? []
        : [
            {
              kind: "exec" as const,
              command: buildah(target, "inspect", ["--type", "container", "--format", "{{.FromImageID}}", container]),
              capture: "BASE_IMAGE_ID" as const,
            },
          ]),
    ]),
  );
  steps.push(
    step("mount", "Mount the container's root", [
      {
        kind: "exec",
        command: buildah(target, "mount", [container]),
        capture: "MNT",
        undo: { id: "mount", command: buildah(target, "umount", [container]), stopProcessesIn: [MNT] },
      },
    ]),
  );

  const accounts = accountsStep(recipe);
  const pkgCtx = spec.packages ? packageContext(recipe, target, options, spec.from === "scratch" ? accounts : undefined) : undefined;
  // On a base the account files exist already: fixed ids go in before any package can pick one.
  if (accounts && !pkgCtx?.accounts) steps.push(accounts);
  // On a parent, packages: may only name the manager (nothing to install): no install step, its packages are listed.
  if (pkgCtx && (spec.from === "scratch" || changesPackages(pkgCtx.packages)))
    steps.push(...packageManagers[managerOf(spec)].planInstall(pkgCtx).map((s) => ({ ...withTimeout(s, TIMEOUT.packages), recipePath: ["packages"] })));
  steps.push(...fileSteps(recipe, target, options));
  steps.push(...commandSteps(recipe, target, options));
  const modules = spec.kernelModules ? [{ ...kernelModulesStep(recipe, spec.kernelModules, target, TIMEOUT), recipePath: ["kernelModules"] }] : [];
  if (spec.boot) steps.push(...bootSteps(spec.boot, target, options, modules));
  // The root is final here (the initramfs is built); what remediation changes is still listed,
  // cleaned and squashed below.
  steps.push(...scanSteps(recipe, target, image, options));
  // A layer without packages: still lists its parent's (the image's database), for its SBOM.
  const listCtx = pkgCtx ?? inheritedListContext(recipe, target, options);
  if (listCtx) {
    const plugin = packageManagers[managerOf(listCtx.spec)];
    steps.push(
      step("list-packages", "Record the installed packages", [
        { kind: "exec", command: plugin.listPackages(listCtx), capture: "PACKAGES", saveTo: path.join(options.workDir, WORK_FILES.packages) },
      ]),
    );
    steps.push(stopProcessesStep());
    // Kept without an install: a kernelModules step installs headers and DKMS packages with the manager.
    if (pkgCtx) steps.push(step("clean-leftovers", "Remove build leftovers", [{ kind: "clean-leftovers", root: [MNT], ...plugin.leftovers(pkgCtx) }]));
  }
  if (!listCtx) steps.push(stopProcessesStep());
  const work = (file: string) => path.join(options.workDir, file);
  const facts = {
    recipe: recipe.file,
    vars: recipe.vars,
    ...(spec.boot ? { kernelRecord: work(WORK_FILES.kernel) } : {}),
    ...(listCtx ? { packages: work(WORK_FILES.packages) } : {}),
    ...(spec.scan?.openscap ? { scanRecord: work(WORK_FILES.scan) } : {}),
  };
  steps.push(
    step(
      "identity",
      "Write the SBOMs and the image's identity",
      [{ kind: "image-identity", root: [MNT], dir: options.outDir, id: spec.name, version: spec.tags[0]!, ...facts }],
      Object.values(SBOM_FILES),
    ),
  );
  const commit = options.commit ?? true;
  if (!commit) requireNoRegistryTarget(recipe);
  // With a commit, the squashfs runs beside it: both only read the finished root, and on two
  // cores the two together take about four fifths of one after the other (docs/benchmarks.md).
  // The commit gives its image a name of its own; name-image waits for the squashfs and only
  // then gives it the recipe's names (nameImageStep), so a failed squashfs leaves no image under
  // them. name-image comes before the teardown: while the working container is there, no other
  // build's remove-superseded pass takes the building- name (builder/superseded-images.ts); after
  // the teardown it could, and with it the image of a build that is still running.
  const beside = commit && spec.boot !== false;
  if (spec.boot)
    steps.push(beside ? { ...squashfsStep(spec.boot, spec.arch, options), besideUntil: "name-image" } : squashfsStep(spec.boot, spec.arch, options));
  const building = `${image.slice(0, image.lastIndexOf(":"))}:${buildingTag(options.buildId)}`;
  steps.push(commit ? commitStep(recipe, target, beside ? { building, image } : { image }, options) : forgetImageStep(recipe, target, image));
  if (beside) steps.push(nameImageStep(recipe, target, building, image));
  steps.push(teardownStep(recipe, target, commit));
  steps.push(
    step(
      "manifest",
      "Write manifest.json",
      [
        {
          kind: "write-manifest",
          dir: options.outDir,
          ...(commit ? { imageId: [IMAGE_ID] } : {}),
          ...(spec.from === "scratch" ? {} : { baseImageId: [BASE_IMAGE_ID] }),
          ...facts,
        },
      ],
      [MANIFEST_FILE],
    ),
  );
  if (options.sign) steps.push(step("sign", "Sign SHA256SUMS", [{ kind: "sign", dir: options.outDir, ...options.sign }], [SUMS_FILE, SIGNATURE_FILE]));
  // One architecture of a recipe built for several publishes with the others, once all are built
  // (pipeline/multi-arch-join.ts: one manifest list, one combined manifest.json), not on its own.
  if (options.publish && !spec.arches) {
    spec.publish.forEach((t, i) =>
      steps.push(
        step(`publish-${i + 1}-${t.type}`, `Publish to ${t.type}`, [
          {
            kind: "publish",
            target: t,
            entry: i,
            dir: options.outDir,
            record: work(WORK_FILES.published(i + 1)),
            storage: options.buildah.globalArgs,
            ...(options.sign && t.type === "registry" ? { sign: options.sign } : {}),
          },
        ]),
      ),
    );
    spec.register.forEach((r, i) => {
      const source = registrationSource(spec.publish, r);
      if (source === undefined)
        throw new UserError(
          `${recipe.file}: register[${i}]: registration needs the image published to S3 or a local directory first${r.from ? ` (from: ${r.from})` : ""}: add such a publish target`,
        );
      steps.push(
        step(`register-${i + 1}-${r.type}`, `Register with ${r.type}`, [
          { kind: "register", registration: r, source: work(WORK_FILES.published(source + 1)), paramsTemplate: spec.boot ? spec.boot.params : "" },
        ]),
      );
    });
  }

  return {
    recipe: { name: spec.name, tags: spec.tags, file: recipe.file, inputDigest: recipe.inputDigest },
    container,
    image,
    outDir: options.outDir,
    workDir: options.workDir,
    packageManager: imagePackageManager(recipe),
    steps,
  };
}

/**
 * Which publish target's record a registration uses: the first of the type `from` names, else
 * the first that gives nodes URLs (S3 or a directory; a registry holds no boot files).
 */
function step(id: string, title: string, actions: Action[], produces: string[] = []): Step {
  return { id, title, actions, produces };
}

function withTimeout(s: Step, seconds: number): Step {
  return {
    ...s,
    actions: s.actions.map((a) =>
      a.kind === "exec" && a.command.timeoutSeconds === undefined ? { ...a, command: { ...a.command, timeoutSeconds: seconds } } : a,
    ),
  };
}

function managerOf(spec: RecipeSpec): keyof typeof packageManagers {
  const manager = spec.packages?.manager;
  if (manager === undefined) throw new Error("internal: no packages section");
  return manager;
}

function baseArgs(recipe: LoadedRecipe, pull: NonNullable<PlanOptions["pullBase"]>): string[] {
  const from = recipe.spec.from;
  // Always explicit: the committed image's platform is the recipe's, not the build host's, and a
  // base image is pulled for that platform from a multi-architecture manifest list.
  const arch = ["--arch", ARCHES[recipe.spec.arch].oci];
  if (from === "scratch") return [...arch, "scratch"];
  if ("image" in from) return [...arch, `--tls-verify=${from.tlsVerify}`, `--pull=${followsTag(from.image) ? pull : "missing"}`, from.image];
  if (!recipe.parent) throw new Error("internal: recipe parent not loaded");
  // The parent's committed image: never re-run its steps, never pull it from elsewhere.
  return [...arch, "--pull=never", localImageRef(recipe.parent.spec)];
}

function packageContext(recipe: LoadedRecipe, target: BuildahTarget, options: PlanOptions, accounts: Step | undefined): PackageContext {
  const spec = recipe.spec;
  const packages = spec.packages!;
  const dir = path.dirname(recipe.file);
  // gpg keys given as paths are relative to the recipe, like files: src.
  const repos = packages.repos.map((r) => (r.gpgkey && !/^[a-z]+:\/\//.test(r.gpgkey) ? { ...r, gpgkey: path.resolve(dir, r.gpgkey) } : r));
  return {
    spec,
    packages: { ...packages, repos },
    root: [MNT],
    buildah: target,
    workDir: options.workDir,
    cacheDir: options.cacheDir,
    hostAptSources: options.hostAptSources,
    installer: packages.options.installer ?? (spec.from === "scratch" ? "host" : "image"),
    ...(options.sourceDateEpoch !== undefined ? { reproducible: true } : {}),
    ...(accounts ? { accounts } : {}),
  };
}

/** Whether packages: asks for any change to the image (repositories, installs, removals), not only names its manager. */
function changesPackages(p: PackageContext["packages"]): boolean {
  return [p.repos, p.install, p.remove, p.groups, p.patterns, p.modules.enable, p.modules.install].some((list) => list.length > 0);
}

/**
 * For a layer without packages: on top of a parent that has them: how that parent's package
 * manager lists the image's packages (nothing is installed, so no repositories), the way the
 * parent's own build listed them.
 */
function inheritedListContext(recipe: LoadedRecipe, target: BuildahTarget, options: PlanOptions): PackageContext | undefined {
  const layer = packageLayer(recipe);
  if (layer === undefined || layer === recipe) return undefined;
  const packages = layer.spec.packages!;
  return {
    spec: layer.spec,
    packages: { ...packages, repos: [] },
    root: [MNT],
    buildah: target,
    workDir: options.workDir,
    cacheDir: options.cacheDir,
    hostAptSources: options.hostAptSources,
    installer: packages.options.installer ?? (layer.spec.from === "scratch" ? "host" : "image"),
  };
}

/** Users and groups with fixed ids, written into the image's account files (see builder/accounts.ts). */
function accountsStep(recipe: LoadedRecipe): Step | undefined {
  const { users, groups } = recipe.spec;
  if (users.length === 0 && groups.length === 0) return undefined;
  return step("create-accounts", "Create users and groups with fixed ids", [
    { kind: "create-accounts", root: [MNT], groups, users, base: accountsBase(recipe), recipe: recipe.file, vars: recipe.vars },
  ]);
}

/** Where the entries already in the image come from, as clash errors name it (also `bootsmith rootfs accounts`). */
export function accountsBase(recipe: LoadedRecipe): string {
  return recipe.spec.from === "scratch" ? "the image's base packages" : `the parent image ${baseRef(recipe)}`;
}

function fileSteps(recipe: LoadedRecipe, target: BuildahTarget, options: PlanOptions): Step[] {
  const files = recipe.spec.files;
  if (files.length === 0) return [];
  const actions: Action[] = [];
  // Owners by name must exist in the image: checked before the first copy, with the recipe's line.
  const owners = files.flatMap((f, index) => (f.owner !== undefined && !/^\d+(:\d+)?$/.test(f.owner) ? [{ index, owner: f.owner }] : []));
  if (owners.length > 0) actions.push({ kind: "check-owners", root: [MNT], owners, recipe: recipe.file, vars: recipe.vars });
  const emptyDir = path.join(options.workDir, "files", "empty");
  let madeEmpty = false;
  files.forEach((f, i) => {
    let src = recipe.fileSources.get(i);
    if (f.content !== undefined) {
      src = path.join(options.workDir, "files", String(i), path.basename(f.dest));
      // Private on the host (the work directory may sit in a shared /var/tmp); the copy sets the
      // mode the file gets in the image.
      actions.push({ kind: "write-file", path: src, content: f.content, mode: 0o600 });
    }
    if (src === undefined) throw new Error(`internal: files[${i}] has neither content nor a resolved src`);
    let mode = f.mode ?? (f.content !== undefined ? "0644" : undefined);
    if (mode !== undefined && recipe.directorySources.has(i)) {
      // buildah copy --chmod gives directories the mode too (0644 makes them untraversable): the
      // tree is staged in the work directory with the files' and the directories' modes set apart.
      const staged = path.join(options.workDir, "files", String(i), path.basename(src));
      actions.push(...stageTree(src, staged, mode));
      src = staged;
      mode = undefined;
    }
    const on = f.owner !== undefined && !ROOT_OWNER.test(f.owner) ? landingDirectory(f.dest, recipe.directorySources.has(i)) : "/";
    if (on !== "/") {
      // buildah copy --chown gives every directory it creates on the way to dest to the owner
      // too (/opt/site for /opt/site/node.key): copying an empty directory there first makes the
      // missing ones root's, 0755, as mkdir -p would, and leaves existing ones as they are.
      if (!madeEmpty) actions.push({ kind: "exec", command: { file: "mkdir", args: ["-p", emptyDir] } });
      madeEmpty = true;
      actions.push({ kind: "exec", command: copyIntoImage(target, emptyDir, `${on}/`) });
    }
    // buildah copy resolves dest inside the container root, so symlinks in the image cannot
    // redirect the write to the host.
    actions.push({ kind: "exec", command: copyIntoImage(target, src, f.dest, { mode, owner: f.owner }) });
  });
  return [step("copy-files", "Copy files into the image", actions)];
}

/** An owner that is root's user and group: the directories buildah makes for it are root's anyway. */
const ROOT_OWNER = /^(root|0)(:(root|0))?$/;

/**
 * The directory a files: entry lands in, whose missing parts buildah creates: the directory
 * holding a file, or the one a dest ending in / names; for a directory src, the one holding dest
 * (dest itself is the copied directory, the owner's).
 */
function landingDirectory(dest: string, directorySrc: boolean): string {
  const normal = path.posix.normalize(dest);
  const trimmed = normal.length > 1 ? normal.replace(/\/+$/, "") : normal;
  return normal.endsWith("/") && !directorySrc ? trimmed : path.posix.dirname(trimmed);
}

/**
 * Copy the directory `src` to `staged` (links stay links, as buildah copies them) and set its
 * files to `mode`, its directories to the same with search wherever read is allowed (0644 →
 * 0755, 0640 → 0750), as Puppet does for a recursive mode: who may read a file may reach it.
 */
function stageTree(src: string, staged: string, mode: string): Action[] {
  const exec = (file: string, args: string[]): Action => ({ kind: "exec", command: { file, args } });
  return [
    exec("mkdir", ["-p", path.dirname(staged)]),
    exec("cp", ["-R", "-P", "--preserve=timestamps", src, staged]),
    exec("find", [staged, "-type", "f", "-exec", "chmod", mode, "{}", "+"]),
    exec("find", [staged, "-mindepth", "1", "-type", "d", "-exec", "chmod", directoryMode(mode), "{}", "+"]),
  ];
}

/** A file mode's permissions with search (x) added wherever read (r) is set; the special bits are for the files only. */
function directoryMode(mode: string): string {
  const perms = parseInt(mode, 8) & 0o777;
  return (perms | ((perms & 0o444) >> 2)).toString(8).padStart(4, "0");
}

function commandSteps(recipe: LoadedRecipe, target: BuildahTarget, options: PlanOptions): Step[] {
  const spec = recipe.spec;
  return spec.commands.map((c, i): Step => {
    const recipePath = ["commands", i];
    if (c.ansible) return { ...ansibleStep(recipe, i, c.ansible, c, options), recipePath };
    // A recipe's shell runs inside the image as one script argument; the host never parses it.
    const argv = c.script !== undefined ? ["/bin/sh", "-ec", c.script] : c.run!;
    const title = c.name ?? (c.run ? c.run.join(" ") : firstLine(c.script ?? ""));
    return {
      ...step(`command-${i + 1}`, `Run: ${truncate(title, 60)}`, [{ kind: "exec", command: runInImage(target, argv, c.env, c.timeout ?? TIMEOUT.command) }]),
      recipePath,
    };
  });
}

/**
 * ansible-playbook on the host against the mounted image root through community.general's chroot
 * connection (Debian's ansible package ships it). The inventory is generated: one host, "image",
 * whose ansible_host (the chroot directory) is only known at run time and so goes in as an extra
 * variable. A generated, empty ansible.cfg keeps one in the caller's directory or home from
 * changing the run; ANSIBLE_HOME keeps its state in the work directory.
 */
function ansibleStep(recipe: LoadedRecipe, index: number, ansible: AnsibleSpec, c: CommandSpec, options: PlanOptions): Step {
  const sources = recipe.ansibleSources.get(index);
  if (!sources) throw new Error(`internal: commands[${index}].ansible has no resolved playbook`);
  const dir = path.join(options.workDir, `ansible-${index + 1}`);
  const inventory = path.join(dir, "inventory.json");
  const extraVars = path.join(dir, "extra-vars.json");
  const config = path.join(dir, "ansible.cfg");
  const hostVars = { ...ansible.inventoryVars, ansible_connection: "community.general.chroot" };
  const args: Arg[] = [
    "-i",
    inventory,
    "--limit",
    "image",
    "-e",
    `@${extraVars}`,
    "-e",
    concat('{"ansible_host": "', MNT, '"}'),
    ...(ansible.tags.length > 0 ? ["--tags", ansible.tags.join(",")] : []),
    sources.playbook,
  ];
  const env: Record<string, string> = {
    ...c.env,
    ANSIBLE_CONFIG: config,
    ANSIBLE_HOME: path.join(dir, "home"),
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_RETRY_FILES_ENABLED: "0",
    // Module files go to /tmp inside the image and are removed after each task.
    ANSIBLE_REMOTE_TMP: "/tmp",
    ...(sources.roles ? { ANSIBLE_ROLES_PATH: sources.roles } : {}),
  };
  const title = c.name ?? `ansible-playbook ${ansible.playbook}`;
  return step(`command-${index + 1}`, `Run: ${truncate(title, 60)}`, [
    { kind: "write-file", path: config, content: "[defaults]\n", mode: 0o644 },
    { kind: "write-file", path: inventory, content: `${JSON.stringify(inventoryOf(hostVars, ansible.groups), null, 2)}\n`, mode: 0o600 },
    { kind: "write-file", path: extraVars, content: `${JSON.stringify(ansible.extraVars, null, 2)}\n`, mode: 0o600 },
    { kind: "exec", command: { file: "ansible-playbook", args, env, timeoutSeconds: c.timeout ?? TIMEOUT.command, diagnose: "ansible" } },
  ]);
}

/** The generated inventory: one host, "image", in `all` and in the recipe's groups. */
function inventoryOf(hostVars: Record<string, unknown>, groups: readonly string[]): Record<string, unknown> {
  const children = Object.fromEntries(groups.map((g) => [g, { hosts: { image: {} } }]));
  return { all: { hosts: { image: hostVars }, ...(groups.length > 0 ? { children } : {}) } };
}

/**
 * dracut expands a bare `zstd` to `zstd -15 -q -T0`, which took 28 of the 87 s of the Debian live
 * initramfs here for an image 1.3 % smaller than level 9 gives in 5.6 s (bench/dracut.mjs,
 * docs/benchmarks.md). A recipe's bare `zstd` therefore means level 9; a full command line is
 * passed through as written (e.g. 'zstd -15 -q -T0' for dracut's own).
 */
export const DRACUT_ZSTD = "zstd -9 -q -T0";
function dracutCompressor(compress: string): string {
  return compress === "zstd" ? DRACUT_ZSTD : compress;
}

/** `modules`: the kernel-modules step, between selecting the kernel (KVER) and the initramfs. */
function bootSteps(boot: BootSpec, target: BuildahTarget, options: PlanOptions, modules: readonly Step[]): Step[] {
  const initrdInImage = concat("/boot/initramfs-live-", KVER, ".img");
  const dracutArgs: Arg[] = ["dracut", "--no-hostonly", "--force", "--kver", [KVER], "--add", boot.initramfs.modules.join(" ")];
  if (boot.initramfs.drivers.length > 0) dracutArgs.push("--add-drivers", boot.initramfs.drivers.join(" "));
  if (boot.initramfs.omit.length > 0) dracutArgs.push("--omit", boot.initramfs.omit.join(" "));
  if (boot.initramfs.compress) dracutArgs.push("--compress", dracutCompressor(boot.initramfs.compress));
  // dracut --reproducible clamps the archive's times to SOURCE_DATE_EPOCH and drops inode numbers.
  const epoch = options.sourceDateEpoch;
  if (epoch !== undefined) dracutArgs.push("--reproducible");
  dracutArgs.push(...boot.initramfs.args, initrdInImage);
  const out = (file: string) => path.join(options.outDir, file);
  return [
    step("select-kernel", boot.kernel === "newest" ? "Select the newest installed kernel" : `Select kernel ${boot.kernel}`, [
      { kind: "select-kernel", root: [MNT], version: boot.kernel, record: path.join(options.workDir, WORK_FILES.kernel) },
    ]),
    ...modules,
    step(
      "initramfs",
      "Build the initramfs with dracut",
      [
        {
          kind: "exec",
          command: { ...runInImage(target, dracutArgs, epoch !== undefined ? { SOURCE_DATE_EPOCH: String(epoch) } : {}, TIMEOUT.dracut), diagnose: "dracut" },
        },
        { kind: "copy-out", root: [MNT], path: initrdInImage, to: out(ARTIFACT_FILES.initrd) },
        { kind: "verify-initramfs", file: out(ARTIFACT_FILES.initrd), kver: [KVER] },
      ],
      [ARTIFACT_FILES.initrd],
    ),
    step("kernel", "Copy the kernel out", [{ kind: "copy-out", root: [MNT], path: [KERNEL_IMAGE], to: out(ARTIFACT_FILES.kernel) }], [ARTIFACT_FILES.kernel]),
  ];
}

/**
 * OpenSCAP on the host against the image root, offline as oscap-chroot does it (OSCAP_PROBE_ROOT).
 * The probes see the root through a read-only bind mount: Debian 12's oscap reads the dpkg
 * database through libapt, which writes cache files into a writable root and then fails (every
 * package rule would be judged on an empty package list); read-only, it works from memory and
 * the scan provably changes nothing in the image. Remediation is the content's bash fixes for
 * the rules that failed (oscap xccdf generate fix), run inside the image like a recipe script,
 * then a second scan whose results are the ones reported and judged.
 */
function scanSteps(recipe: LoadedRecipe, target: BuildahTarget, image: string, options: PlanOptions): Step[] {
  const scan = recipe.spec.scan?.openscap;
  if (!scan) return [];
  const sources = recipe.scanSources;
  if (!sources) throw new Error("internal: scan.openscap has no resolved data stream");
  const dir = path.join(options.workDir, "openscap");
  const root = path.join(dir, "root");
  const out = (file: string) => path.join(options.outDir, file);
  const env = { OSCAP_PROBE_ROOT: root, OSCAP_EVALUATION_TARGET: `chroot://${image}` };
  const evaluate = (results: string, reports: readonly string[]): PlannedCommand => ({
    file: "oscap",
    args: [
      "xccdf",
      "eval",
      "--profile",
      sources.profile,
      ...(sources.tailoring ? ["--tailoring-file", sources.tailoring] : []),
      ...(sources.cpe ? ["--cpe", sources.cpe] : []),
      "--results",
      results,
      ...reports,
      sources.datastream,
    ],
    env,
    // 2: the evaluation ran and some rule failed; the verdict step applies the recipe's threshold.
    acceptExitCodes: [2],
    timeoutSeconds: scan.timeout,
  });
  const reports = ["--results-arf", out(SCAN_FILES.arf), "--report", out(SCAN_FILES.report)];
  const files = [SCAN_FILES.arf, SCAN_FILES.results, SCAN_FILES.report, ...(scan.remediate ? [SCAN_FILES.remediation] : [])];
  const before = path.join(dir, "results-before-remediation.xml");
  const fixInImage = "/var/tmp/bootsmith-openscap-remediation.sh";
  const actions: Action[] = [
    { kind: "exec", command: { file: "mkdir", args: ["-p", root] } },
    {
      kind: "exec",
      command: { file: "mount", args: ["-o", "bind,ro", [MNT], root], timeoutSeconds: TIMEOUT.mount },
      undo: { id: "openscap-root", command: { file: "umount", args: [root], timeoutSeconds: TIMEOUT.mount } },
    },
  ];
  if (scan.remediate) {
    actions.push(
      { kind: "exec", command: evaluate(before, []) },
      {
        kind: "exec",
        command: {
          file: "oscap",
          args: [
            "xccdf",
            "generate",
            "fix",
            "--fix-type",
            "bash",
            "--result-id",
            `xccdf_org.open-scap_testresult_${sources.profile}`,
            "--output",
            out(SCAN_FILES.remediation),
            before,
          ],
        },
      },
      { kind: "exec", command: copyIntoImage(target, out(SCAN_FILES.remediation), fixInImage, { mode: "0700" }) },
      // chroot rather than buildah run: the content skips its fixes in containers (it tests for
      // /run/.containerenv, which buildah run creates), and this root is a machine's.
      { kind: "exec", command: { file: "chroot", args: [[MNT], "/bin/bash", fixInImage], env: { PATH: IMAGE_PATH }, timeoutSeconds: scan.timeout } },
      { kind: "exec", command: { file: "chroot", args: [[MNT], "rm", "-f", fixInImage], env: { PATH: IMAGE_PATH } } },
    );
  }
  actions.push(
    { kind: "exec", command: evaluate(out(SCAN_FILES.results), reports) },
    { kind: "release", undoId: "openscap-root" },
    {
      kind: "scan-verdict",
      dir: options.outDir,
      results: out(SCAN_FILES.results),
      ...(scan.remediate ? { before } : {}),
      profile: sources.profile,
      datastream: sources.datastream,
      failOn: scan.failOn,
      files,
      record: path.join(options.workDir, WORK_FILES.scan),
    },
  );
  const title = `Scan with OpenSCAP (${sources.profile.replace(/^xccdf_org\.ssgproject\.content_profile_/, "")})${scan.remediate ? ", remediate and scan again" : ""}`;
  return [step("openscap-scan", title, actions, files)];
}

/**
 * After the last program run in the image (listing its packages may be one) and before the
 * leftovers are removed (a daemon could write them again) and the root is squashed: stop what the
 * steps left running in it. The executor does the same on the failure path, before the unmount.
 */
function stopProcessesStep(): Step {
  return step("stop-processes", "Stop processes the steps left running in the image", [{ kind: "stop-processes", root: [MNT] }]);
}

/** mksquashfs arguments for a compressor and level. */
export function compressionArgs(rootfs: BootSpec["rootfs"], arch: Arch = "x86_64"): { compression: string; level?: number; args: string[] } {
  const compression = rootfs.compression ?? (rootfs.profile === "release" ? "xz" : "zstd");
  const level = rootfs.level ?? (compression === "zstd" ? (rootfs.profile === "release" ? 19 : 3) : undefined);
  switch (compression) {
    case "zstd":
      return { compression, level, args: ["-comp", "zstd", "-Xcompression-level", String(level)] };
    case "gzip":
    case "lzo":
      return { compression, level, args: ["-comp", compression, ...(level !== undefined ? ["-Xcompression-level", String(level)] : [])] };
    case "xz": {
      // The architecture's BCJ filter shrinks executables further, at some CPU cost (squashfs-tools
      // 4.5 has none for arm64).
      const bcj = ARCHES[arch].xzBcj;
      return { compression, args: ["-comp", "xz", ...(bcj ? ["-Xbcj", bcj] : [])] };
    }
    case "lz4":
      return { compression, args: ["-comp", "lz4", "-Xhc"] };
  }
}

function squashfsStep(boot: BootSpec, arch: Arch, options: PlanOptions): Step {
  const { args } = compressionArgs(boot.rootfs, arch);
  const command: PlannedCommand = {
    file: "mksquashfs",
    args: [
      [MNT],
      path.join(options.outDir, ARTIFACT_FILES.rootfs),
      "-noappend",
      "-no-progress",
      ...args,
      "-processors",
      String(Math.max(1, options.cores)),
      ...boot.rootfs.exclude.flatMap((e) => ["-e", e.replace(/^\/+/, "")]),
    ],
    // SOURCE_DATE_EPOCH makes mksquashfs clamp file and filesystem times: same inputs, same bytes.
    env: options.sourceDateEpoch !== undefined ? { SOURCE_DATE_EPOCH: String(options.sourceDateEpoch) } : undefined,
    timeoutSeconds: TIMEOUT.squashfs,
  };
  return step("squashfs", "Make rootfs.squashfs", [{ kind: "exec", command }], [ARTIFACT_FILES.rootfs]);
}

/** The OCI annotation for an image's human-readable title. */
const TITLE_LABEL = "org.opencontainers.image.title";

function commitStep(recipe: LoadedRecipe, target: BuildahTarget, names: { readonly image: string; readonly building?: string }, options: PlanOptions): Step {
  const spec = recipe.spec;
  const labels: Record<string, string> = {
    ...spec.labels,
    // The image's title is the recipe's name unless the recipe titles it itself.
    [TITLE_LABEL]: spec.labels[TITLE_LABEL] ?? spec.name,
    [RECIPE_LABEL]: spec.name,
    "io.bootsmith.tags": spec.tags.join(","),
    [INPUT_DIGEST_LABEL]: recipe.inputDigest,
    "io.bootsmith.base": baseRef(recipe),
  };
  // buildah 1.28's commit has no --label: labels go on the container's config first.
  const labelArgs: Arg[] = Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  // The SBOMs' sha256s, known once the identity step has written them.
  labelArgs.push("--label", concat(`${SBOM_LABELS.sbomCycloneDx}=`, SBOM_CDX_SHA256), "--label", concat(`${SBOM_LABELS.sbomSpdx}=`, SBOM_SPDX_SHA256));
  const timestamp = options.sourceDateEpoch !== undefined ? ["--timestamp", String(options.sourceDateEpoch)] : [];
  const actions: Action[] = [{ kind: "exec", command: buildah(target, "config", [...labelArgs, target.container]) }];
  if (names.building) {
    // Under a name of its own until the squashfs has succeeded; removed if the build fails.
    actions.push({
      kind: "exec",
      command: buildah(target, "commit", ["--quiet", "--format", "oci", ...timestamp, target.container, names.building]),
      capture: "IMAGE_ID",
      undo: { id: "image", command: buildah(target, "rmi", [names.building]) },
    });
    return step("commit", `Commit the image (as ${names.building} until the squashfs is made)`, actions);
  }
  actions.push({
    kind: "exec",
    command: buildah(target, "commit", ["--quiet", "--format", "oci", ...timestamp, target.container, names.image]),
    capture: "IMAGE_ID",
  });
  if (spec.tags.length > 1) actions.push({ kind: "exec", command: buildah(target, "tag", [names.image, ...otherTags(names.image, spec.tags)]) });
  return step("commit", `Commit the image as ${names.image}`, actions);
}

/** After the squashfs beside the commit: the image gets the recipe's names, and loses its building name. */
function nameImageStep(recipe: LoadedRecipe, target: BuildahTarget, building: string, image: string): Step {
  return step("name-image", `Name the image ${image}${recipe.spec.tags.length > 1 ? " and its other tags" : ""}`, [
    { kind: "exec", command: buildah(target, "tag", [building, image, ...otherTags(image, recipe.spec.tags)]) },
    // buildah rmi of one of an image's names removes only that name.
    { kind: "release", undoId: "image" },
  ]);
}

/**
 * Unmount and remove the working container. After a commit, the image the recipe's names pointed
 * at before this build is unnamed: removed, not left to fill the disk. That pass comes after the
 * container is gone: a working container keeps the unnamed images that carry its labels (a
 * commit in progress), and a reproducible rebuild's earlier image may carry this build's.
 */
function teardownStep(recipe: LoadedRecipe, target: BuildahTarget, commit: boolean): Step {
  const actions: Action[] = [
    { kind: "release", undoId: "mount" },
    { kind: "release", undoId: "container" },
  ];
  if (!commit) return step("teardown", "Unmount and remove the working container", actions);
  actions.push({ kind: "remove-superseded", recipe: recipe.spec.name, storage: target.globalArgs });
  return step("teardown", "Unmount and remove the working container, then the recipe's earlier images no name points at", actions);
}

/** The image's names for the recipe's tags after the first. */
function otherTags(image: string, tags: readonly string[]): string[] {
  return tags.slice(1).map((tag) => `${image.slice(0, image.lastIndexOf(":"))}:${tag}`);
}

/** A registry target pushes the committed image: a build without commit cannot serve it (now or by a later `bootsmith publish`). */
function requireNoRegistryTarget(recipe: LoadedRecipe): void {
  const index = recipe.spec.publish.findIndex((t) => t.type === "registry");
  if (index >= 0)
    throw new UserError(
      `${recipe.file}: publish[${index}] is a registry target, which pushes the committed image: build it with the commit (leave out --no-commit)`,
    );
}

/**
 * No commit: the image of an earlier build under the same name goes, so that nothing (a child
 * built later by `bootsmith build CHILD.yaml`, a push) takes it for this build's. buildah rmi
 * exits 125 for a name that is not there, the usual case, after removing the names that are;
 * so 125 is accepted (an image that stays because a container uses it is not this build's, and
 * the cache goes by the manifest's image.committed: false, not by it).
 */
function forgetImageStep(recipe: LoadedRecipe, target: BuildahTarget, image: string): Step {
  const repository = image.slice(0, image.lastIndexOf(":"));
  const refs = recipe.spec.tags.map((tag) => `${repository}:${tag}`);
  return step("forget-image", `No commit (nothing needs ${image}): remove an earlier build's image of that name`, [
    { kind: "exec", command: { ...buildah(target, "rmi", refs), acceptExitCodes: [125] } },
    // And the unnamed ones earlier rebuilds left, as a commit does.
    { kind: "remove-superseded", recipe: recipe.spec.name, storage: target.globalArgs },
  ]);
}

/**
 * Whether pulling the reference again can find a newer image: a registry's tag. Not one pinned by
 * digest (it cannot change), nor a `localhost/` name without a port: that is an image in local
 * storage (built or loaded here), which no registry serves.
 */
function followsTag(ref: string): boolean {
  const tag = registryTag(ref);
  return tag !== undefined && !tag.startsWith("localhost/");
}

/** What the image was built on, for labels and the manifest. */
export function baseRef(recipe: LoadedRecipe): string {
  const from = recipe.spec.from;
  if (from === "scratch") return "scratch";
  if ("image" in from) return from.image;
  return recipe.parent ? localImageRef(recipe.parent.spec) : from.recipe;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
