// bootsmith rootfs: the file operations a build does inside a mounted image root, as commands a
// person can run (`bootsmith plan` prints them; the build logs them). Paths are resolved the way
// the image sees them, so an image's symlink can never point bootsmith, running as root, at a
// host file. Not in the main help: it is the plan's vocabulary, documented in docs/plan.md.
import { EXIT, UserError } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { parseCommandArgs, parseVarOptions } from "./args.js";
import { loadRecipe } from "../recipe/load.js";
import { accountsBase } from "../plan/planner.js";
import { accountsSummary } from "../plan/commands.js";
import { createAccounts } from "../builder/accounts.js";
import { checkFileOwners } from "../builder/file-owners.js";
import { selectAndRecordKernel, selectKernel } from "../builder/kernel.js";
import { copyOutOfRoot } from "../builder/copy-out.js";
import { removeLeftovers } from "../builder/leftovers.js";
import { describeProcess, stopImageProcesses } from "../builder/image-processes.js";
import { checkKernelModules } from "../builder/kernel-modules.js";
import { silentReporter } from "../exec/events.js";

const usage = `Usage: bootsmith rootfs accounts ROOT --recipe RECIPE [--var K=V]...
       bootsmith rootfs check-owners ROOT --recipe RECIPE [--var K=V]...
       bootsmith rootfs select-kernel ROOT VERSION [--record FILE]
       bootsmith rootfs copy-out ROOT PATH DEST
       bootsmith rootfs stop-processes ROOT
       bootsmith rootfs clean ROOT [--if-empty PATH]... [--] PATH...
       bootsmith rootfs check-modules ROOT KVER

The steps of a build that bootsmith performs itself inside the mounted image root ROOT (the
output of \`buildah mount\`), exactly as \`bootsmith build\` does them:

  accounts        add the recipe's groups: and users: (loaded with the same --var values) with
                  their fixed ids to ROOT's /etc/group, passwd (and gshadow, shadow when
                  present, locked); an entry with the same name and id is kept, a name or id
                  already used differently fails (exit 1) naming both
  check-owners    check that the users and groups the recipe's files: owner: names exist in
                  ROOT's /etc/passwd and /etc/group; exit 2 naming the file, line and field
  select-kernel   pick the kernel: VERSION is "newest" (rpm/dpkg version order) or an exact
                  version; prints "VERSION<TAB>IMAGE" (IMAGE inside the root, e.g.
                  /boot/vmlinuz-VERSION); --record FILE keeps it, with the squashfs compressors
                  the kernel's config enables, for \`bootsmith artifacts write-manifest\`
  copy-out        copy PATH (inside the image) to DEST on the host, mode 0644, atomically
  stop-processes  stop every process whose root directory is ROOT or inside it (a step started
                  it in the image and left it running: gpg-agent, a daemon): SIGTERM, 5 s to
                  end, then SIGKILL; prints each as "stopped pid PID (COMMAND) by SIGNAL"; exit 1
                  when one outlives SIGKILL. Processes of the host and of other roots are
                  never touched
  clean           remove build leftovers: each PATH (a * in its last component is a glob),
                  and each --if-empty PATH, in order, when it is an empty file or an empty
                  directory (a link is never followed)
  check-modules   check the out-of-tree kernel modules of kernel KVER (under
                  /lib/modules/KVER/updates and /extra): at least one, each built for KVER
                  (its vermagic) and listed in modules.dep; exit 1 naming any that is not

Symlinks in the image resolve inside ROOT; a leftover that is a symlink is removed as a link.`;

export const rootfsCommand: CliCommand = {
  name: "rootfs",
  summary: "Steps a build does inside the image root: accounts, check-owners, select-kernel, copy-out, stop-processes, clean, check-modules",
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs("rootfs", args, {
      record: { type: "string" },
      recipe: { type: "string" },
      var: { type: "string", multiple: true },
      "if-empty": { type: "string", multiple: true },
    });
    const [sub, root, ...rest] = positionals;
    const need = (n: number, form: string) => {
      if (root === undefined || rest.length !== n) throw new UserError(`bootsmith rootfs ${sub}: expected ${form}`);
    };
    switch (sub) {
      case "accounts": {
        need(0, "ROOT --recipe RECIPE [--var K=V]...");
        if (!values.recipe) throw new UserError("bootsmith rootfs accounts: expected ROOT --recipe RECIPE [--var K=V]...");
        const recipe = loadRecipe(values.recipe, { vars: parseVarOptions(values.var) });
        const { groups, users } = recipe.spec;
        if (groups.length + users.length === 0) throw new UserError(`bootsmith rootfs accounts: ${recipe.file} has no groups: or users:`);
        createAccounts(root!, groups, users, accountsBase(recipe));
        process.stdout.write(`accounts: ${accountsSummary(groups, users)}\n`);
        return EXIT.ok;
      }
      case "check-owners": {
        need(0, "ROOT --recipe RECIPE [--var K=V]...");
        if (!values.recipe) throw new UserError("bootsmith rootfs check-owners: expected ROOT --recipe RECIPE [--var K=V]...");
        const recipe = loadRecipe(values.recipe, { vars: parseVarOptions(values.var) });
        const owners = recipe.spec.files.flatMap((f, index) => (f.owner !== undefined ? [{ index, owner: f.owner }] : []));
        checkFileOwners(root!, recipe.file, owners);
        process.stdout.write(`owners: ${owners.length === 0 ? "none" : owners.map((o) => o.owner).join(", ")}\n`);
        return EXIT.ok;
      }
      case "select-kernel": {
        need(1, "ROOT VERSION");
        const kernel = values.record ? selectAndRecordKernel(root!, rest[0]!, values.record) : selectKernel(root!, rest[0]!);
        process.stdout.write(`${kernel.version}\t${kernel.image}\n`);
        return EXIT.ok;
      }
      case "copy-out":
        need(2, "ROOT PATH DEST");
        copyOutOfRoot(root!, rest[0]!, rest[1]!);
        return EXIT.ok;
      case "check-modules": {
        need(1, "ROOT KVER");
        const ctx = { step: "check-modules", reporter: silentReporter };
        for (const m of await checkKernelModules(root!, rest[0]!, ctx)) process.stdout.write(`${m.file}\t${m.vermagic.trim()}\n`);
        return EXIT.ok;
      }
      case "stop-processes":
        need(0, "ROOT");
        for (const p of await stopImageProcesses(root!)) process.stdout.write(`stopped ${describeProcess(p)} by ${p.by}\n`);
        return EXIT.ok;
      case "clean": {
        if (root === undefined) throw new UserError("bootsmith rootfs clean: expected ROOT [--if-empty PATH]... PATH...");
        for (const p of removeLeftovers(root, rest, values["if-empty"] ?? [])) process.stdout.write(`removed ${p}\n`);
        return EXIT.ok;
      }
      default:
        throw new UserError(
          `bootsmith rootfs: ${sub === undefined ? "name a subcommand" : `unknown subcommand "${sub}"`}: accounts, check-owners, select-kernel, copy-out, stop-processes, clean or check-modules\n${usage}`,
        );
    }
  },
};
