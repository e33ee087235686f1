// The command line of every action that bootsmith performs itself (add fixed-id accounts, check file owners, copy
// out of the image root, stop processes left in it, remove leftovers, pick the kernel, check kernel modules, check the initramfs, write the manifest, publish,
// register): `bootsmith <subcommand> …`, a real command that does what the executor does.
// One derivation from the Action data serves all three users: `bootsmith plan` prints it, the
// JSON plan carries it, and the executor logs it in build.log as `+ bootsmith …` before doing
// the same work in-process through the same module the subcommand calls.
import type { GroupSpec, PublishTarget, Registration, UserSpec } from "../recipe/schema.js";
import type { Action, Arg, Plan, PlannedCommand } from "../steps/types.js";

/** The program name in rendered commands: the CLI's bin entry (package.json). */
export const BOOTSMITH = "bootsmith";

/** Actions that bootsmith performs in-process (no external program). */
export type InternalAction = Extract<
  Action,
  {
    readonly kind:
      | "create-accounts"
      | "check-owners"
      | "select-kernel"
      | "copy-out"
      | "check-kernel-modules"
      | "verify-initramfs"
      | "stop-processes"
      | "clean-leftovers"
      | "image-identity"
      | "scan-verdict"
      | "write-manifest"
      | "remove-superseded"
      | "sign"
      | "publish"
      | "register";
  }
>;

export function isInternalAction(action: Action): action is InternalAction {
  switch (action.kind) {
    case "exec":
    case "release":
    case "write-file":
      return false;
    case "create-accounts":
    case "check-owners":
    case "select-kernel":
    case "copy-out":
    case "check-kernel-modules":
    case "verify-initramfs":
    case "stop-processes":
    case "clean-leftovers":
    case "image-identity":
    case "scan-verdict":
    case "write-manifest":
    case "remove-superseded":
    case "sign":
    case "publish":
    case "register":
      return true;
  }
}

export function internalCommand(action: InternalAction): PlannedCommand {
  return { file: BOOTSMITH, args: internalArgs(action) };
}

function internalArgs(action: InternalAction): Arg[] {
  switch (action.kind) {
    case "create-accounts":
      return ["rootfs", "accounts", action.root, ...buildFactArgs(action)];
    case "check-owners":
      return ["rootfs", "check-owners", action.root, ...buildFactArgs(action)];
    case "select-kernel":
      return ["rootfs", "select-kernel", action.root, action.version, "--record", action.record];
    case "copy-out":
      return ["rootfs", "copy-out", action.root, action.path, action.to];
    case "check-kernel-modules":
      return ["rootfs", "check-modules", action.root, action.kver];
    case "stop-processes":
      return ["rootfs", "stop-processes", action.root];
    case "clean-leftovers":
      // `--` ends the options: a leftover path can never be read as one.
      return ["rootfs", "clean", action.root, ...action.ifEmpty.flatMap((p) => ["--if-empty", p]), "--", ...action.paths];
    case "verify-initramfs":
      return ["artifacts", "verify-initramfs", action.file, action.kver];
    case "image-identity":
      return ["artifacts", "image-identity", action.root, action.dir, ...buildFactArgs(action), "--id", action.id, "--version", action.version];
    case "scan-verdict":
      return [
        "artifacts",
        "scan-verdict",
        action.results,
        ...(action.before ? ["--before", action.before] : []),
        "--profile",
        action.profile,
        "--datastream",
        action.datastream,
        "--fail-on",
        action.failOn.severity,
        "--max",
        String(action.failOn.max),
        "--dir",
        action.dir,
        ...action.files.flatMap((f) => ["--file", f]),
        "--record",
        action.record,
      ];
    case "write-manifest":
      return [
        "artifacts",
        "write-manifest",
        action.dir,
        ...buildFactArgs(action),
        ...(action.imageId ? ["--image-id", action.imageId] : ["--not-committed"]),
        ...(action.baseImageId ? ["--base-image-id", action.baseImageId] : []),
      ];
    case "remove-superseded":
      return ["artifacts", "remove-superseded", action.recipe, ...action.storage];
    case "sign":
      return ["artifacts", "sign", action.dir, ...signArgs(action)];
    case "publish":
      return [
        "publish",
        action.dir,
        ...publishTargetArgs(action.target, action.storage),
        ...(action.sign ? signArgs(action.sign) : []),
        "--record",
        action.record,
      ];
    case "register":
      return ["register", action.source, ...registrationArgs(action.registration), "--params-template", action.paramsTemplate];
  }
}

/** The entries `bootsmith rootfs accounts` adds, in one line (the plan's comment, the build's and the command's message). */
export function accountsSummary(groups: readonly GroupSpec[], users: readonly UserSpec[]): string {
  return [...groups.map((g) => `group ${g.name}=${g.gid}`), ...users.map((u) => `user ${u.name}=${u.uid}`)].join(", ");
}

/** The signing key as build, publish and artifacts sign take it. */
export function signArgs(sign: { readonly key: string; readonly passphraseEnv?: string }): string[] {
  return ["--sign-key", sign.key, ...(sign.passphraseEnv ? ["--sign-passphrase-env", sign.passphraseEnv] : [])];
}

/** The recipe (with its --var values) and the facts earlier steps saved in the work directory. */
function buildFactArgs(action: {
  readonly recipe: string;
  readonly vars: Readonly<Record<string, string>>;
  readonly kernelRecord?: string;
  readonly packages?: string;
  readonly scanRecord?: string;
}): string[] {
  return [
    "--recipe",
    action.recipe,
    ...Object.entries(action.vars).flatMap(([k, v]) => ["--var", `${k}=${v}`]),
    ...(action.kernelRecord ? ["--kernel-record", action.kernelRecord] : []),
    ...(action.packages ? ["--packages", action.packages] : []),
    ...(action.scanRecord ? ["--scan-record", action.scanRecord] : []),
  ];
}

/**
 * `bootsmith publish` options that rebuild exactly the recipe's target (parsed back by
 * cli/publish.ts; test/plan/commands.test.ts checks the round trip). Options whose value equals
 * the CLI's default are left out.
 */
export function publishTargetArgs(target: PublishTarget, storage: readonly string[]): string[] {
  switch (target.type) {
    case "s3": {
      const args = ["--to", `s3://${target.bucket}`];
      if (target.prefix) args.push("--prefix", target.prefix);
      if (target.endpoint) args.push("--endpoint", target.endpoint);
      if (target.region) args.push("--region", target.region);
      if (target.publicBase) args.push("--public-base", target.publicBase);
      if (target.layout !== "bootsmith") args.push("--layout", target.layout);
      if (target.caFile) args.push("--ca-file", target.caFile);
      // The CLI's default is path-style with a custom endpoint and virtual-host style on AWS.
      if (target.forcePathStyle !== Boolean(target.endpoint)) args.push(`--force-path-style=${target.forcePathStyle}`);
      return args;
    }
    case "local":
      return ["--to", `dir:${target.dir}`, ...(target.publicBase ? ["--public-base", target.publicBase] : [])];
    case "registry":
      // The push reads the image from the build's storage: the same buildah global options.
      return [
        "--to",
        `registry:${target.repository}`,
        ...(target.tlsVerify ? [] : ["--tls-verify=false"]),
        ...(target.authFile ? ["--authfile", target.authFile] : []),
        ...(target.lookaside ? ["--lookaside", target.lookaside] : []),
        ...storage,
      ];
  }
}

/** `bootsmith register` options for a recipe's registration (target, nodes, credentials, site params). */
export function registrationArgs(r: Registration): string[] {
  const args: string[] = [];
  switch (r.type) {
    case "bss":
      args.push("--bss", r.url);
      break;
    case "boot-service":
      args.push(
        "--boot-service",
        r.url,
        "--name",
        r.name,
        ...r.groups.flatMap((g) => ["--group", g]),
        "--priority",
        String(r.priority),
        ...(r.legacy ? ["--legacy"] : []),
      );
      break;
  }
  args.push(...r.macs.flatMap((m) => ["--mac", m]), ...r.hosts.flatMap((h) => ["--host", h]), ...r.nids.flatMap((n) => ["--nid", String(n)]));
  if (r.tokenEnv) args.push("--token-env", r.tokenEnv);
  if (r.caFile) args.push("--ca-file", r.caFile);
  if (r.params) args.push("--extra-params", r.params);
  return args;
}

/** The command an action runs (a release runs the undo it names), or undefined for a file write. */
export function actionCommand(action: Action, undos: ReadonlyMap<string, PlannedCommand>): PlannedCommand | undefined {
  if (isInternalAction(action)) return internalCommand(action);
  switch (action.kind) {
    case "exec":
      return action.command;
    case "release":
      return undos.get(action.undoId);
    case "write-file":
      return undefined;
  }
}

/** Undo commands by id, as the plan registers them (a release refers to one). */
export function planUndos(plan: Plan): Map<string, PlannedCommand> {
  const undos = new Map<string, PlannedCommand>();
  for (const step of plan.steps) for (const a of step.actions) if (a.kind === "exec" && a.undo) undos.set(a.undo.id, a.undo.command);
  return undos;
}

/** The plan as `plan --json` prints it: every action carries the command it runs. */
export function planWithCommands(plan: Plan): Plan {
  const undos = planUndos(plan);
  return {
    ...plan,
    steps: plan.steps.map((step) => ({
      ...step,
      actions: step.actions.map((a) => {
        const command = a.kind === "exec" ? undefined : actionCommand(a, undos);
        return command ? { ...a, command } : a;
      }),
    })),
  };
}
