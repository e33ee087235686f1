// The apt plug-in's plan: Debian's kernel postinst hook is diverted around every package install
// (mmdebstrap from scratch, with or without boot artifacts; apt-get on a parent) and restored
// after it. test/e2e/debian-layers.test.ts runs these plans for real.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import type { Action, PlannedCommand } from "../../src/steps/types.js";
import { fixedPlanOptions, REPO_ROOT } from "../plan/support.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/debian-layers");
const installActions = (file: string, cacheDir = "/var/cache/bootsmith"): readonly Action[] =>
  plan(loadRecipe(path.join(FIXTURES, file), { env: {} }), fixedPlanOptions({ cacheDir })).steps.find((s) => s.id === "install-packages")!.actions;
const mmdebstrapArgs = (actions: readonly Action[]) => actions.flatMap((a) => (a.kind === "exec" && a.command.file === "mmdebstrap" ? words(a.command) : []));
const words = (c: PlannedCommand) => c.args.map((a) => (typeof a === "string" ? a : "<var>"));
/** Each exec as its words after `buildah run … --`, or its program and words. */
const summary = (actions: readonly Action[]) =>
  actions.map((a) => {
    if (a.kind !== "exec") return a.kind;
    const w = words(a.command);
    return w.includes("--")
      ? w.slice(w.indexOf("--") + 1).join(" ")
      : `${a.command.file} ${w
          .filter((x) => !x.startsWith("--"))
          .slice(0, 1)
          .join(" ")}`;
  });

describe("apt: the kernel's dracut hook during package installs", () => {
  it("from scratch without boot artifacts (boot: false), mmdebstrap diverts it after the essential packages and restores it at the end", () => {
    const args = mmdebstrapArgs(installActions("kernel-base.yaml"));
    const essential = args.find((a) => a.startsWith("--essential-hook="));
    const customize = args.find((a) => a.startsWith("--customize-hook=rm"));
    expect(essential).toContain(
      "dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut",
    );
    // the no-op in its place: dracut's update-initramfs trigger runs the path directly
    expect(essential).toMatch(/> "\$1\/etc\/kernel\/postinst.d\/dracut"; chmod 755/);
    expect(customize).toBe(
      '--customize-hook=rm -f "$1/etc/kernel/postinst.d/dracut"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut',
    );
  });

  it("from scratch, downloaded packages are copied in from and out to the cache directory, under a lock parallel builds share", () => {
    const actions = installActions("kernel-base.yaml", "/srv/cache");
    expect(mmdebstrapArgs(actions)).toEqual(
      expect.arrayContaining([
        "--skip=essential/unlink",
        '--setup-hook=mkdir -p /srv/cache/apt/archives "$1/var/cache/apt/archives" && flock /srv/cache/apt/archives.lock cp -a /srv/cache/apt/archives/. "$1/var/cache/apt/archives/"',
        '--customize-hook=flock /srv/cache/apt/archives.lock cp -a "$1/var/cache/apt/archives/." /srv/cache/apt/archives/',
      ]),
    );
    // the hooks run with sh: a cache directory with other characters is not used
    const spaced = installActions("kernel-base.yaml", "/srv/my cache");
    expect(mmdebstrapArgs(spaced).some((a) => a.includes("apt/archives.lock"))).toBe(false);
    expect(spaced.filter((a) => a.kind === "exec")).toHaveLength(1);
  });

  it("on a parent, apt-get install runs between the diversion (with the no-op copied in) and the restore", () => {
    const actions = installActions("kernel-child.yaml");
    expect(summary(actions)).toEqual([
      "apt-get --no-install-recommends update",
      "dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut",
      "write-file",
      "buildah copy",
      "apt-get install -y --no-install-recommends linux-image-amd64",
      "rm -f /etc/kernel/postinst.d/dracut",
      "dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut",
    ]);
    const noop = actions[2];
    expect(noop?.kind === "write-file" && noop.content).toMatch(/^#!\/bin\/sh\n(#.*\n)?exit 0\n$/);
    const copy = actions[3];
    expect(copy?.kind === "exec" && words(copy.command).slice(-2)).toEqual([noop?.kind === "write-file" ? noop.path : "", "/etc/kernel/postinst.d/dracut"]);
  });

  it("purge runs with install:'s packages held and unheld after (NAME=VERSION and NAME/RELEASE hold NAME), so apt refuses to take them along", () => {
    const file = path.join(tmpdir(), `bootsmith-apt-plan-${process.pid}.yaml`);
    writeFileSync(
      file,
      [
        "name: t",
        "from:",
        "  image: debian:12",
        "packages:",
        "  manager: apt",
        "  install: [curl=7.88.1-10, vim/bookworm-backports, jq]",
        "  remove: [libcurl4]",
        "boot: false",
        "",
      ].join("\n"),
    );
    try {
      const actions = plan(loadRecipe(file, { env: {} }), fixedPlanOptions()).steps.find((s) => s.id === "install-packages")!.actions;
      const run = summary(actions).filter((c) => /apt-mark|purge/.test(c));
      expect(run).toEqual(["apt-mark hold curl vim jq", "apt-get purge -y libcurl4", "apt-mark unhold curl vim jq"]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe("apt: a repository's signing key given as a file", () => {
  const SITE_BY_URL = ["- {name: site, baseurl: 'http://deb.site.local/debian', suite: bookworm, gpgkey: site.asc}"];
  /** The same repository as a deb822 file given inline: two stanzas (binaries and sources), a comment. */
  const SITE_CONTENT =
    "# the site's packages\nTypes: deb\nURIs: http://deb.site.local/debian\nSuites: bookworm\nComponents: main\n\nTypes: deb-src\nURIs: http://deb.site.local/debian\nSuites: bookworm\nComponents: main\n";
  const SITE_BY_CONTENT = [
    "- name: site",
    "  gpgkey: site.asc",
    "  content: |",
    ...SITE_CONTENT.trimEnd()
      .split("\n")
      .map((l) => `    ${l}`),
  ];
  /** SITE_CONTENT with Signed-By naming `key` in each stanza. */
  const siteContentSignedBy = (key: string) => SITE_CONTENT.replace(/Components: main\n/g, `Components: main\nSigned-By: ${key}\n`);
  /** The install step's actions of a recipe with one keyed repository `site`, and the key's host path. */
  const withKeyedRepo = (from: string, check: (actions: readonly Action[], key: string) => void, repo = SITE_BY_URL) => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-apt-key-"));
    try {
      writeFileSync(path.join(dir, "site.asc"), "key\n");
      const file = path.join(dir, "r.yaml");
      writeFileSync(
        file,
        [
          "name: t",
          `from: ${from}`,
          "packages:",
          "  manager: apt",
          "  release: bookworm",
          "  repos:",
          ...repo.map((line) => `    ${line}`),
          "  install: [slurmd]",
          "boot: false",
          "",
        ].join("\n"),
      );
      const steps = plan(loadRecipe(file, { env: {} }), fixedPlanOptions()).steps;
      check(
        steps.flatMap((s) => (s.id === "install-packages" || s.id === "install-base" ? s.actions : [])),
        path.join(dir, "site.asc"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const written = (actions: readonly Action[], name: string) =>
    actions.flatMap((a) => (a.kind === "write-file" && path.basename(a.path) === name ? [{ path: a.path, content: a.content }] : []));
  const copies = (actions: readonly Action[]) =>
    actions.flatMap((a) => (a.kind === "exec" && words(a.command).includes("copy") ? [words(a.command).slice(-2)] : []));

  // apt-get runs inside the image on a parent: Signed-By named the key's path on the build host,
  // which the image does not have, so apt-get update refused the repository as unsigned.
  it("on a parent, the key is copied into the image and Signed-By names that copy", () => {
    withKeyedRepo("{image: registry.local/debian:12}", (actions, key) => {
      expect(written(actions, "site.sources")[0]?.content).toContain("Signed-By: /etc/apt/keyrings/bootsmith-site.asc\n");
      expect(copies(actions)).toContainEqual([key, "/etc/apt/keyrings/bootsmith-site.asc"]);
    });
  });

  // From scratch mmdebstrap wrote the host path into the image's sources: apt-get update in a
  // child layer or on the booted node could not read it.
  it("from scratch, mmdebstrap reads the host's key; the image keeps the copy and a source naming it, as on a parent", () => {
    withKeyedRepo("scratch", (actions, key) => {
      const [run] = written(actions, "bootsmith-run-site.sources");
      expect(run?.content).toContain(`Signed-By: ${key}\n`);
      const mmdebstrap = actions.findIndex((a) => a.kind === "exec" && a.command.file === "mmdebstrap");
      expect(mmdebstrapArgs(actions).slice(-2)).toEqual(["<var>", run?.path]);
      const after = actions.slice(mmdebstrap + 1);
      expect(written(after, "site.sources")[0]?.content).toBe(
        "Types: deb\nURIs: http://deb.site.local/debian\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/bootsmith-site.asc\n",
      );
      expect(copies(after)).toEqual([
        [key, "/etc/apt/keyrings/bootsmith-site.asc"],
        [written(after, "site.sources")[0]?.path, "/etc/apt/sources.list.d/site.sources"],
      ]);
      // mmdebstrap's copy of the run's source (NNNN + its name) goes.
      expect(after).toContainEqual(expect.objectContaining({ kind: "clean-leftovers", paths: ["etc/apt/sources.list.d/*bootsmith-run-site.sources"] }));
    });
  });

  // A content: source was written as is and its gpgkey dropped: no key in the image and no
  // Signed-By, so apt-get update refused the repository as unsigned (NO_PUBKEY). apt reads
  // Signed-By per stanza of a deb822 file, so the key applies to a content: source as it does
  // to one given by URL: each stanza names the key.
  it("a content: source on a parent: the key is copied into the image and each stanza's Signed-By names the copy", () => {
    withKeyedRepo(
      "{image: registry.local/debian:12}",
      (actions, key) => {
        expect(written(actions, "site.sources")[0]?.content).toBe(siteContentSignedBy("/etc/apt/keyrings/bootsmith-site.asc"));
        expect(copies(actions)).toContainEqual([key, "/etc/apt/keyrings/bootsmith-site.asc"]);
      },
      SITE_BY_CONTENT,
    );
  });

  it("a content: source from scratch: mmdebstrap's copy names the host's key, the image's names the copy", () => {
    withKeyedRepo(
      "scratch",
      (actions, key) => {
        const [run] = written(actions, "bootsmith-run-site.sources");
        expect(run?.content).toBe(siteContentSignedBy(key));
        expect(mmdebstrapArgs(actions).slice(-2)).toEqual(["<var>", run?.path]);
        const after = actions.slice(actions.findIndex((a) => a.kind === "exec" && a.command.file === "mmdebstrap") + 1);
        expect(written(after, "site.sources")[0]?.content).toBe(siteContentSignedBy("/etc/apt/keyrings/bootsmith-site.asc"));
        expect(copies(after)).toContainEqual([key, "/etc/apt/keyrings/bootsmith-site.asc"]);
        expect(after).toContainEqual(expect.objectContaining({ kind: "clean-leftovers", paths: ["etc/apt/sources.list.d/*bootsmith-run-site.sources"] }));
      },
      SITE_BY_CONTENT,
    );
  });
});
