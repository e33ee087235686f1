// files: entries in the plan. A directory src with mode: the mode is its files'; its directories
// get it with search (x) wherever read is allowed (buildah copy --chmod 0644 would have made
// them untraversable). The staging commands are host programs (mkdir, cp, find): run here for
// real on a temporary tree, to see the modes they leave.
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import type { PlannedCommand } from "../../src/steps/types.js";
import { fixedPlanOptions } from "./support.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-files-plan-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** The copy-files step's commands for a recipe with these files: entries, planned with a work directory of its own. */
function copyCommands(files: string): { commands: PlannedCommand[]; dir: string; workDir: string } {
  const dir = path.join(root, `r${n++}`);
  mkdirSync(path.join(dir, "site", "sub"), { recursive: true });
  writeFileSync(path.join(dir, "site", "a.conf"), "a\n");
  writeFileSync(path.join(dir, "site", "run.sh"), "#!/bin/sh\n");
  chmodSync(path.join(dir, "site", "run.sh"), 0o755);
  writeFileSync(path.join(dir, "site", "sub", "b.conf"), "b\n");
  symlinkSync("a.conf", path.join(dir, "site", "link"));
  writeFileSync(path.join(dir, "motd"), "m\n");
  const file = path.join(dir, "recipe.yaml");
  writeFileSync(file, `name: t\nfrom:\n  image: localhost/x:1\nboot: false\nfiles:\n${files}`);
  const workDir = path.join(dir, "work");
  const step = plan(loadRecipe(file, { env: {} }), fixedPlanOptions({ workDir })).steps.find((s) => s.id === "copy-files")!;
  return { commands: step.actions.flatMap((a) => (a.kind === "exec" ? [a.command] : [])), dir, workDir };
}

const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8).padStart(4, "0");
const argv = (c: PlannedCommand) => c.args.map(String);

describe("files: a directory src with mode", () => {
  it.each([
    ["0644", "0755"],
    ["0640", "0750"],
    ["600", "0700"],
  ])("mode %s: files get it, directories %s; the tree is staged and copied without --chmod", (fileMode, dirMode) => {
    const { commands, dir, workDir } = copyCommands(`  - dest: /etc/site/\n    src: site\n    mode: "${fileMode}"\n    owner: "0:0"\n`);
    const copy = commands.find((c) => c.file === "buildah")!;
    const staged = path.join(workDir, "files", "0", "site");
    expect(argv(copy)).toEqual(["copy", "--chown", "0:0", "bootsmith-t-test", staged, "/etc/site/"]);
    // Staging, on the host: run it as the build would.
    mkdirSync(workDir, { mode: 0o700 });
    for (const c of commands.filter((c) => c.file !== "buildah")) execFileSync(c.file, argv(c));
    expect(mode(path.join(staged, "a.conf"))).toBe(fileMode.padStart(4, "0"));
    expect(mode(path.join(staged, "run.sh"))).toBe(fileMode.padStart(4, "0"));
    expect(mode(path.join(staged, "sub"))).toBe(dirMode);
    expect(mode(path.join(staged, "sub", "b.conf"))).toBe(fileMode.padStart(4, "0"));
    // A link stays a link (buildah copies it as one), and the recipe's own tree is untouched.
    expect(lstatSync(path.join(staged, "link")).isSymbolicLink()).toBe(true);
    expect(mode(path.join(dir, "site", "run.sh"))).toBe("0755");
  });

  it("a single src file keeps buildah copy --chmod; a directory without mode is copied as it is", () => {
    const { commands, dir } = copyCommands(`  - dest: /etc/motd\n    src: motd\n    mode: "0600"\n  - dest: /etc/site/\n    src: site\n`);
    expect(commands.map(argv)).toEqual([
      ["copy", "--chmod", "0600", "bootsmith-t-test", path.join(dir, "motd"), "/etc/motd"],
      ["copy", "bootsmith-t-test", path.join(dir, "site"), "/etc/site/"],
    ]);
  });
});

describe("files: owner", () => {
  it("the directories buildah would create on the way to dest are made first, root's (buildah copy --chown gives them to the owner)", () => {
    const { commands, dir, workDir } = copyCommands(
      [
        "  - dest: /etc/munge/munge.key\n    src: motd\n    owner: munge:munge",
        "  - dest: /srv/slurm/\n    src: motd\n    owner: slurm",
        "  - dest: /opt/site/tree/\n    src: site\n    owner: '992'",
        "  - dest: /etc/motd\n    content: hi\n    owner: root:root",
        "  - dest: /top\n    content: hi\n    owner: slurm",
      ].join("\n") + "\n",
    );
    const empty = path.join(workDir, "files", "empty");
    const copies = commands
      .filter((c) => c.file === "buildah")
      .map((c) =>
        argv(c)
          .slice(1)
          .filter((a) => a !== "bootsmith-t-test"),
      );
    expect(commands[0]).toEqual({ file: "mkdir", args: ["-p", empty] });
    expect(copies).toEqual([
      [empty, "/etc/munge/"],
      ["--chown", "munge:munge", path.join(dir, "motd"), "/etc/munge/munge.key"],
      [empty, "/srv/slurm/"],
      ["--chown", "slurm", path.join(dir, "motd"), "/srv/slurm/"],
      // A directory src: its dest is the copied directory, the owner's; its parents are made root's.
      [empty, "/opt/site/"],
      ["--chown", "992", path.join(dir, "site"), "/opt/site/tree/"],
      // root's own (nothing to make) and a file in / (no directory on the way).
      ["--chmod", "0644", "--chown", "root:root", expect.stringMatching(/\/files\/3\/motd$/), "/etc/motd"],
      ["--chmod", "0644", "--chown", "slurm", expect.stringMatching(/\/files\/4\/top$/), "/top"],
    ]);
  });
});
