// bootsmith validate / plan / schema as a user runs them: `node dist/cli/main.js …` (the README's
// test command builds first; a missing dist/ is built here).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(ROOT, "dist/cli/main.js");
const FIXTURES = path.join(ROOT, "test/fixtures/recipes");
const examples = readdirSync(path.join(ROOT, "recipes"))
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => `recipes/${f}`);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Lines a stack trace would print. */
const STACK = /^\s+at .+[:(]/m;

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
}, 120_000);

describe("bootsmith validate", () => {
  it("exits 0 on every example recipe", () => {
    const r = cli("validate", ...examples);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const f of examples) expect(r.stdout).toContain(`${f}: ok (`);
    expect(r.stdout).toContain("recipes/rocky-9-compute.yaml: ok (rocky-9-compute:9.5, on rocky-9-base)");
  });

  it("warns of a --var no recipe given uses (a misspelling would change nothing), once over all the files, exit 0", () => {
    const r = cli("validate", "recipes/debian-12-live.yaml", "recipes/rocky-9-compute.yaml", "--var", "TGA=x", "--var", "TAG=y");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "warning: --var TGA is used by no variable of any of the recipes given (or their parents), so it changes nothing: did you mean TAG?\n",
    );
    const plan = cli("plan", "recipes/debian-12-live.yaml", "--var", "TGA=x");
    expect(plan.code).toBe(0);
    expect(plan.stderr).toContain("warning: --var TGA is used by no variable of the recipe (or its parents), so it changes nothing: did you mean TAG?\n");
  });

  it("exits 0 on the minimal fixture", () => {
    expect(cli("validate", "test/fixtures/recipes/valid-minimal.yaml")).toEqual({
      code: 0,
      stdout: "test/fixtures/recipes/valid-minimal.yaml: ok (minimal:latest)\n",
      stderr: "",
    });
  });

  it("explains initramfs modules on the image's family: warnings exit 0, a certain failure exits 2 (validate and plan)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-cli-modules-"));
    try {
      writeFileSync(
        path.join(dir, "base.yaml"),
        "name: base\nfrom: scratch\npackages:\n  manager: apt\n  release: bookworm\n  install: [linux-image-amd64, systemd-sysv, dracut, dracut-live]\nboot: false\n",
      );
      writeFileSync(path.join(dir, "child.yaml"), "name: child\nfrom:\n  recipe: base.yaml\n");
      writeFileSync(path.join(dir, "bad.yaml"), "name: bad\nfrom:\n  recipe: base.yaml\nboot:\n  initramfs:\n    modules: [dmsquash-live, livenet, network]\n");
      const child = cli("validate", path.join(dir, "child.yaml"));
      expect(child.code).toBe(0);
      expect(child.stderr).toMatch(/^warning: .*child\.yaml:1:1: boot\.initramfs\.modules: livenet needs dracut-network, curl; network-legacy needs /);
      for (const command of ["validate", "plan"]) {
        const bad = cli(command, path.join(dir, "bad.yaml"));
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/bad\.yaml:6:14: boot\.initramfs\.modules: dracut's network \(systemd-networkd on Debian\) needs dbus/);
        expect(bad.stdout).toBe("");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 with every problem as file:line:col: path: message, and no stack trace", () => {
    const file = path.join(FIXTURES, "invalid-several.yaml");
    const r = cli("validate", "test/fixtures/recipes/invalid-several.yaml");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `${file}:4:1: tagz: unknown key "tagz"; did you mean "tags"?`,
        `${file}:7:12: packages.manager: must be one of "dnf", "apt", "zypper"; did you mean "dnf"?`,
        `${file}:12:12: register[0].macs[0]: must be a MAC address like 52:54:00:12:34:56 or 52-54-00-12-34-56`,
        "3 problems found; nothing was built.",
        "",
      ].join("\n"),
    );
    expect(r.stderr).not.toMatch(STACK);
  });

  it("reports YAML syntax errors with a position", () => {
    const r = cli("validate", "test/fixtures/recipes/invalid-syntax.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(FIXTURES, "invalid-syntax.yaml")}:3:1: YAML syntax: `);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("checks every file and fails if any is invalid", () => {
    const r = cli("validate", "recipes/debian-12-live.yaml", "test/fixtures/recipes/invalid-several.yaml", "test/fixtures/recipes/valid-minimal.yaml");
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("recipes/debian-12-live.yaml: ok");
    expect(r.stdout).toContain("valid-minimal.yaml: ok");
    expect(r.stderr).toContain("3 problems found");
  });

  it("a directory or list of recipes, as build takes it, checked as one tree: two recipes of one name fail as build would fail", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-cli-tree-"));
    try {
      mkdirSync(path.join(dir, "site"));
      writeFileSync(path.join(dir, "base.yaml"), "name: base\nfrom:\n  image: docker.io/library/rockylinux:9\npackages:\n  manager: dnf\nboot: false\n");
      writeFileSync(path.join(dir, "compute.yaml"), "name: compute\nfrom:\n  recipe: base.yaml\nboot: false\n");
      writeFileSync(path.join(dir, "site/compute.yaml"), "name: compute\nfrom:\n  recipe: ../base.yaml\nboot: false\n");
      writeFileSync(path.join(dir, "notes.yaml"), "not: a recipe\n");
      writeFileSync(path.join(dir, "tree.list"), "base.yaml\ncompute.yaml\n");
      const tree = cli("validate", dir);
      expect(tree.code).toBe(2);
      expect(tree.stdout).toBe(
        [
          `${dir}/base.yaml: ok (base:latest)`,
          `${dir}/compute.yaml: ok (compute:latest, on base)`,
          `${dir}/site/compute.yaml: ok (compute:latest, on base)`,
          "",
        ].join("\n"),
      );
      expect(tree.stderr).toBe(
        `two recipes are named compute: ${dir}/compute.yaml:1:1 and ${dir}/site/compute.yaml:1:1; names identify images and output directories, so they must be unique: change the name: of one of them\n`,
      );
      const list = cli("validate", path.join(dir, "tree.list"));
      expect(list).toEqual({ code: 0, stdout: `${dir}/base.yaml: ok (base:latest)\n${dir}/compute.yaml: ok (compute:latest, on base)\n`, stderr: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a missing file", () => {
    const r = cli("validate", "recipes/nope.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(ROOT, "recipes/nope.yaml")}: no such file`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("--var overrides a recipe variable", () => {
    const bad = cli("validate", "recipes/debian-12-live.yaml", "--var", "TAG=-bad");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("debian-12-live.yaml:7:8: tags[0]: must be an OCI tag");
    expect(cli("validate", "recipes/debian-12-live.yaml", "--var", "TAG=trixie").stdout).toContain("ok (debian-12-live:trixie)");
  });

  it("needs at least one file", () => {
    const r = cli("validate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bootsmith validate: name at least one recipe file");
  });
});

describe("bootsmith plan", () => {
  it.each(examples)("--json prints a Plan for %s", (f) => {
    const r = cli("plan", f, "--build-id", "test", "--json");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { recipe: { file: string }; container: string; steps: { id: string }[] };
    expect(plan.recipe.file).toBe(path.join(ROOT, f));
    expect(plan.container).toMatch(/-test$/);
    expect(plan.steps.map((s) => s.id)).toContain("commit");
  });

  it.each(examples)("prints a bash script that parses for %s", (f) => {
    const r = cli("plan", f, "--build-id", "test");
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(() => execFileSync("bash", ["-n"], { input: r.stdout })).not.toThrow();
  });

  it("--no-publish leaves out publish and register steps", () => {
    const r = cli("plan", "recipes/rocky-9-live.yaml", "--build-id", "test", "--no-publish", "--json");
    const ids = (JSON.parse(r.stdout) as { steps: { id: string }[] }).steps.map((s) => s.id);
    expect(ids.some((id) => /^(publish|register)-/.test(id))).toBe(false);
  });

  it("exits 2 on an invalid recipe, without a stack trace", () => {
    const r = cli("plan", "test/fixtures/recipes/invalid-several.yaml");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("3 problems found; nothing was built.");
    expect(r.stderr).not.toMatch(STACK);
  });

  it("needs exactly one recipe", () => {
    const r = cli("plan", "recipes/debian-12-live.yaml", "recipes/rocky-9-live.yaml");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bootsmith plan: name exactly one recipe file");
  });
});

describe("bootsmith schema", () => {
  it("prints the committed schema", () => {
    const r = cli("schema");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(ROOT, "schema/recipe.schema.json"), "utf8"));
  });
});

describe("help and usage errors", () => {
  it.each([
    ["validate", "Usage: bootsmith validate RECIPE.yaml"],
    ["plan", "Usage: bootsmith plan RECIPE.yaml"],
    ["schema", "Usage: bootsmith schema"],
  ])("%s --help prints its usage", (command, usage) => {
    for (const flag of ["--help", "-h"]) {
      const r = cli(command, flag);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(usage)).toBe(true);
      expect(r.stderr).toBe("");
    }
  });

  it("--help lists the commands", () => {
    const r = cli("--help");
    expect(r.code).toBe(0);
    for (const c of ["validate", "plan", "schema"]) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s+\\S`, "m"));
  });

  it("an unknown command exits 2 and lists the commands", () => {
    const r = cli("frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bootsmith: unknown command "frobnicate"\. Commands: .*validate.*plan.*schema/);
  });

  it.each(["validate", "plan"])("an unknown option of %s exits 2 and points at --help", (command) => {
    const r = cli(command, "recipes/debian-12-live.yaml", "--frobnicate");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`bootsmith ${command}: unknown option --frobnicate\n`);
    expect(r.stderr).toContain(`Run \`bootsmith ${command} --help\` for the options.`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("a mistyped option gets a did-you-mean, not parseArgs' advice about positionals", () => {
    const r = cli("plan", "recipes/debian-12-live.yaml", "--jsn");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("bootsmith plan: unknown option --jsn; did you mean --json?\nRun `bootsmith plan --help` for the options.\n");
  });

  it("a malformed --var exits 2", () => {
    const r = cli("validate", "recipes/debian-12-live.yaml", "--var", "NOEQUALS");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--var "NOEQUALS": expected KEY=VALUE');
  });
});
