// The zypper plug-in's plan: which commands, in which order, with which flags, for the recipe's
// choices (from scratch or on a parent, signature options, weak dependencies, patterns). The
// commands themselves are exercised against real zypper in test/builder/build-zypper.test.ts.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { fixedPlanOptions, plannedCommands, RECIPES_DIR } from "../plan/support.js";

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-zypper-plan-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rendered commands of the package steps of a recipe whose packages: section is `packages`. */
function packageCommands(packages: string[], from = "scratch"): string[] {
  const file = path.join(dir, "r.yaml");
  writeFileSync(file, ["name: t", `from: ${from}`, "packages:", ...packages.map((l) => `  ${l}`), "boot: false", ""].join("\n"));
  const text = renderPlan(plan(loadRecipe(file, { env: {} }), fixedPlanOptions()));
  return text.split("\n").filter((l) => /\b(zypper|rpm|ln|mkdir -p \S*\/usr\/lib\/sysimage)\b/.test(l) && !l.startsWith("#"));
}

const REPO = ["repos:", "  - name: base", "    baseurl: https://mirror.local/oss/", "    gpgkey: https://mirror.local/oss/repodata/repomd.xml.key"];

describe("zypper plan", () => {
  it("from scratch: host zypper --root with a private repos dir, SUSE's database layout, key import, refresh, then install", () => {
    const cmds = packageCommands(["manager: zypper", ...REPO, "patterns: [minimal_base]", "install: [kernel-default]", "remove: [vim]"]);
    const order = [
      "ln -s ../../usr/lib/sysimage/rpm",
      "--import https://mirror.local/oss/repodata/repomd.xml.key",
      "refresh",
      "install --auto-agree-with-licenses --no-recommends 'pattern() = minimal_base' kernel-default",
      "remove vim",
    ];
    const at = order.map((needle) => cmds.findIndex((c) => c.includes(needle)));
    expect(
      at.every((i) => i >= 0),
      cmds.join("\n"),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const install = cmds.find((c) => c.includes(" install "))!;
    expect(install).toContain('zypper --root "$MNT" --reposd-dir /var/tmp/bootsmith/work-test/zypp.repos.d --cache-dir /var/cache/bootsmith/zypp');
    expect(install).toContain("--no-refresh");
    expect(install).toContain("ZYPP_CONF=/var/tmp/bootsmith/work-test/zypp.conf");
    expect(install).not.toContain("--gpg-auto-import-keys");
    expect(install).not.toContain("--no-gpg-checks");
  });

  it("signature and weak-dependency options map to zypper's flags", () => {
    const cmds = packageCommands([
      "manager: zypper",
      ...REPO,
      "install: [vim]",
      "options:",
      "  gpgAutoImportKeys: true",
      "  nogpgcheck: true",
      "  weakDeps: true",
    ]);
    const install = cmds.find((c) => c.includes(" install "))!;
    expect(install).toContain("--non-interactive --no-gpg-checks --gpg-auto-import-keys");
    expect(install).toContain("--recommends vim");
  });

  it("the SUSE example plans into zypper inside its parent image, and the image's rpm lists the packages", () => {
    const text = renderPlan(plan(loadRecipe(path.join(RECIPES_DIR, "leap-15-live.yaml"), { env: {} }), fixedPlanOptions()));
    const lines = text.split("\n");
    const inImage = (argv: string) => lines.findIndex((l) => l.includes(`buildah run --isolation chroot bootsmith-leap-15-live-test -- ${argv}`));
    const steps = [
      "rpm --import https://download.opensuse.org/distribution/leap/15.6/repo/oss/repodata/repomd.xml.key",
      "zypper --non-interactive refresh",
      "zypper --non-interactive --no-refresh install --auto-agree-with-licenses --no-recommends 'pattern() = minimal_base' kernel-default",
      "rpm -qa --qf",
    ].map(inImage);
    expect(
      steps.every((i) => i >= 0),
      text,
    ).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(text).toContain(
      "buildah copy --chmod 0644 bootsmith-leap-15-live-test /var/tmp/bootsmith/work-test/image-repos/repo-oss.repo /etc/zypp/repos.d/repo-oss.repo",
    );
    expect(text).not.toContain("zypper --root");
  });

  it("remove runs with install:'s package names locked and unlocked after (capabilities are not locks), so zypper refuses to take them along", () => {
    const cmds = packageCommands(["manager: zypper", ...REPO, "install: [kernel-default, 'curl>=8', /usr/bin/vim, libfoo1]", "remove: [libcurl4]"]);
    const tail = cmds.slice(cmds.findIndex((c) => c.includes("addlock")));
    expect(tail.slice(0, 3).map((c) => c.replace(/^.*--non-interactive /, ""))).toEqual([
      "addlock kernel-default libfoo1",
      // 107: a scriptlet failed and zypper went on (reported as a warning)
      "--no-refresh remove libcurl4 || case $? in 107) ;; *) false ;; esac",
      "removelock kernel-default libfoo1",
    ]);
    // nothing to keep: the remove alone
    expect(packageCommands(["manager: zypper", ...REPO, "remove: [vim]"]).filter((c) => /addlock|removelock/.test(c))).toEqual([]);
  });
});

describe("zypper transactions and failed scriptlets", () => {
  // zypper exits 107 when a package's scriptlet failed and rpm went on: the build stopped with
  // "zypper exited with code 107" alone. Install and remove (on the host or inside the image)
  // accept it and report the scriptlet, as dnf's commands do.
  it.each(["scratch", "{image: registry.local/leap:15}"])("from %s, zypper install and remove accept 107 and warn of failed scriptlets", (from) => {
    const file = path.join(dir, "scriptlets.yaml");
    writeFileSync(
      file,
      [
        "name: t",
        `from: ${from}`,
        "packages:",
        "  manager: zypper",
        ...REPO.map((l) => `  ${l}`),
        "  install: [munge]",
        "  remove: [vim]",
        "boot: false",
        "",
      ].join("\n"),
    );
    const commands = plannedCommands(file).filter((c) => c.args.some((w) => w === "install" || w === "remove"));
    expect(commands).toHaveLength(2);
    for (const c of commands)
      expect({ accept: c.acceptExitCodes, warnOn: c.warnOn }, JSON.stringify(c.args)).toEqual({ accept: [107], warnOn: "rpm-scriptlets" });
  });
});
