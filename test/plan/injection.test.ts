// No recipe value reaches a shell unquoted. A recipe full of shell metacharacters is planned and
// rendered; bash parses the script (bash -n) and then runs it with the external programs
// replaced by functions that log their argv NUL-separated. Every value must arrive as exactly
// the argument the plan holds, files written by the script must hold the recipe's bytes, and
// a canary that any interpreted value would create must never appear.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadRecipe, type LoadedRecipe } from "../../src/recipe/load.js";
import { plan } from "../../src/plan/planner.js";
import { renderPlan } from "../../src/plan/render.js";
import { resolveArg } from "../../src/steps/args.js";
import type { Plan } from "../../src/steps/types.js";
import { actionCommand, planUndos } from "../../src/plan/commands.js";
import { RECIPES_DIR, fixedPlanOptions } from "./support.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-inject-")));
const CANARY = path.join(root, "CANARY");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Values that any shell evaluation would change, split or act on. */
const NASTY = [
  `it's "quoted"`,
  "two  spaces\tand a tab",
  `$HOME \${HOME} $(touch ${CANARY}) \`touch ${CANARY}\``,
  `x; touch ${CANARY}; #`,
  `a && touch ${CANARY} || touch ${CANARY} | cat > ${CANARY}`,
  "first line\nsecond line\n",
  "back\\slash \\n \\' *.conf ~root !! %s %q",
  `'; touch ${CANARY}; echo '`,
  `"; touch ${CANARY}; echo "`,
  "",
];
const JOINED = NASTY.join(" | ");
/** Package names: no spaces or commas (one argv word each), but every other metacharacter. */
const PACKAGES = [
  "gcc-c++",
  "libstdc++-devel",
  `x;touch\${IFS}${CANARY}`,
  `$(touch\${IFS}${CANARY})`,
  `\`touch\${IFS}${CANARY}\``,
  "it's",
  'say"what"',
  "glob*?[a]",
  "~root",
  "a|b&c>d<e",
];

function recipeYaml(kind: "dnf" | "apt"): string {
  const spec = {
    name: `inject-${kind}`,
    tags: ["1.0_build.5", "latest"],
    labels: { "org.example.note": JOINED, "key with spaces $(x)": NASTY[2]! },
    from: "scratch",
    packages: {
      manager: kind,
      release: kind === "dnf" ? "9" : "bookworm",
      ...(kind === "dnf"
        ? {
            repos: [{ name: "local", content: `[local]\nname=${NASTY[0]}\nbaseurl=file:///srv/repo\n# ${NASTY[2]}\n` }],
            groups: ["Minimal Install", `core; touch ${CANARY}`],
            modules: { enable: ["nodejs:18"] },
          }
        : {}),
      install: PACKAGES,
      remove: ["foo+bar", `$(touch\${IFS}${CANARY})`],
      options: { proxy: "http://proxy.local:3128/?a=1&b=$(x)" },
    },
    files: [
      { dest: `/etc/it's a "file" $HOME;\`x\`\nnext`, content: JOINED, mode: "0600", owner: "root:root" },
      { dest: "/etc/plain.conf", content: NASTY[5]! },
    ],
    commands: [
      { name: `argv\ntouch ${CANARY}\r\n$(touch ${CANARY})`, run: ["/usr/bin/printf", "%s\\n", ...NASTY], env: { NASTY_ENV: JOINED, EMPTY: "" } },
      { name: "script", script: `set -u\necho "$1" '${"$"}{x}' \`id\` $(id)\nprintf '%s\\n' ${NASTY[3]}\n` },
    ],
    boot: {
      kernel: "6.1.0-test+1",
      initramfs: {
        modules: ["dmsquash-live", "livenet", kind === "apt" ? "network-legacy" : "network"],
        drivers: ["virtio_net", "e1000; reboot"],
        args: ["--install", `/usr/bin/x $(touch ${CANARY})`, NASTY[5]!],
      },
      rootfs: { exclude: ["boot", `var/log/*; touch ${CANARY}`, "tmp/it's"] },
      params: `console=ttyS0 root=live:{{ rootfs.url }} x="$(touch ${CANARY})"`,
    },
    publish: [{ type: "local", dir: `/srv/images\ntouch ${CANARY}` }],
  };
  // $$ escapes: these recipes write "${…}" literally.
  return stringify(spec, { lineWidth: 0 }).replaceAll("${", () => "$${");
}

const KVER = "6.1.0-test+1";
const IMAGE_ID = "sha256:0123";
const SBOM_SHA = { cdx: "c".repeat(64), spdx: "d".repeat(64) };

interface Harness {
  readonly recipe: LoadedRecipe;
  readonly plan: Plan;
  readonly script: string;
  readonly mnt: string;
  readonly calls: string[][];
}

function loadInjection(kind: "dnf" | "apt"): LoadedRecipe {
  const dir = path.join(root, kind);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "recipe.yaml"), recipeYaml(kind));
  return loadRecipe(path.join(dir, "recipe.yaml"), { env: {} });
}

/** Stubs for every program the plan runs; each logs "argc name args…" NUL-separated. */
const STUBS = ["buildah", "dnf", "mmdebstrap", "rpm", "dpkg-query", "mksquashfs", "bootsmith"];
/** What a stub prints: the mount point, the image id, the selected kernel. */
const STUB_OUTPUT: Record<string, (mnt: string) => string> = {
  buildah: (mnt) => `case "$1" in mount) printf '%s' ${JSON.stringify(mnt)};; commit) echo ${IMAGE_ID};; esac; `,
  bootsmith: () =>
    `case "$1 $2" in "rootfs select-kernel") printf '%s\\t%s\\n' ${KVER} /boot/vmlinuz-${KVER};; "artifacts image-identity") echo ${SBOM_SHA.cdx} ${SBOM_SHA.spdx};; esac; `,
};
function prelude(log: string, mnt: string): string {
  const lines = [
    `__log() { printf '%s\\0' "$#" "$@" >> ${JSON.stringify(log)}; }`,
    // timeout N CMD…: run CMD (a stub) directly.
    `timeout() { shift; "$@"; }`,
    ...STUBS.map((name) => `${name}() { __log ${name} "$@"; ${STUB_OUTPUT[name]?.(mnt) ?? ""}return 0; }`),
  ];
  return lines.join("\n") + "\n";
}

function parseLog(bytes: string): string[][] {
  const fields = bytes.split("\0");
  fields.pop();
  const calls: string[][] = [];
  for (let i = 0; i < fields.length;) {
    const n = Number(fields[i]);
    calls.push(fields.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  return calls;
}

function runHarness(kind: "dnf" | "apt"): Harness {
  const recipe = loadInjection(kind);
  const base = path.join(root, `run-${kind}`);
  const mnt = path.join(base, "mnt");
  mkdirSync(path.join(mnt, "lib/modules", KVER), { recursive: true });
  mkdirSync(path.join(mnt, "boot"), { recursive: true });
  writeFileSync(path.join(mnt, "boot", `vmlinuz-${KVER}`), "");
  const thePlan = plan(recipe, fixedPlanOptions({ outDir: path.join(base, "out"), workDir: path.join(base, "work"), cacheDir: path.join(base, "cache") }));
  const script = renderPlan(thePlan);
  const scriptFile = path.join(base, "plan.sh");
  const log = path.join(base, "calls.log");
  writeFileSync(scriptFile, script);
  writeFileSync(log, "");
  // Run the rendered plan with the stubs defined first (the plan's own `set -euo pipefail` stays).
  const harness = path.join(base, "harness.sh");
  writeFileSync(harness, `${prelude(log, mnt)}source ${JSON.stringify(scriptFile)}\n`);
  execFileSync("bash", ["--norc", "--noprofile", harness], {
    cwd: base,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return {
    recipe,
    plan: thePlan,
    script,
    mnt,
    calls: parseLog(readFileSync(log, "latin1")).map((c) => c.map((a) => Buffer.from(a, "latin1").toString("utf8"))),
  };
}

/** The argv each action should produce once runtime values are known (a file write runs none). */
/** The calls the script should make, in order; `beside`: those of steps that run beside the next ones (any order after their start). */
function expectedCalls(p: Plan, mnt: string, beside: boolean): string[][] {
  const values = { MNT: mnt, KVER, KERNEL_IMAGE: `/boot/vmlinuz-${KVER}`, IMAGE_ID, SBOM_CDX_SHA256: SBOM_SHA.cdx, SBOM_SPDX_SHA256: SBOM_SHA.spdx };
  const undos = planUndos(p);
  return p.steps
    .filter((step) => (step.besideUntil !== undefined) === beside)
    .flatMap((step) =>
      step.actions.flatMap((action) => {
        const c = actionCommand(action, undos);
        return c ? [[c.file, ...c.args.map((a) => resolveArg(a, values))]] : [];
      }),
    );
}

describe.each(["dnf", "apt"] as const)("recipe values with shell metacharacters (%s)", (kind) => {
  let h: Harness;
  beforeAll(() => {
    h = runHarness(kind);
  });

  it("the rendered plan parses with bash -n", () => {
    expect(() => execFileSync("bash", ["-n"], { input: h.script })).not.toThrow();
  });

  it("every planned command arrives with exactly its argv, each value one intact argument", () => {
    // Every call the script makes is a planned one (programs and bootsmith's own steps), in
    // order; the squashfs runs beside the commit (`&`), so its call may come anywhere after it starts.
    const besideCalls = expectedCalls(h.plan, h.mnt, true);
    expect(besideCalls.map((c) => c[0])).toEqual(["mksquashfs"]);
    expect(h.calls.filter((c) => !besideCalls.some((b) => JSON.stringify(b) === JSON.stringify(c)))).toEqual(expectedCalls(h.plan, h.mnt, false));
    expect(h.calls).toEqual(expect.arrayContaining(besideCalls));
    expect(h.calls.filter((c) => c[0] === "bootsmith").map((c) => `${c[1]} ${c[2]}`)).toEqual(
      expect.arrayContaining([
        "rootfs select-kernel",
        "rootfs copy-out",
        "rootfs clean",
        "artifacts verify-initramfs",
        "artifacts write-manifest",
        "publish " + h.plan.outDir,
      ]),
    );
  });

  it("recipe values are among the arguments verbatim", () => {
    const args = h.calls.flat();
    // command argv, env, labels, packages (apt joins them into --include=a,b), dracut args, excludes
    for (const v of NASTY) expect(args).toContain(v);
    expect(args).toContain(`NASTY_ENV=${JOINED}`);
    expect(args).toContain("EMPTY=");
    expect(args).toContain(`org.example.note=${JOINED}`);
    expect(args).toContain(`key with spaces $(x)=${NASTY[2]}`);
    expect(args).toContain(`/usr/bin/x $(touch ${CANARY})`);
    expect(args).toContain(`var/log/*; touch ${CANARY}`);
    expect(args).toContain("virtio_net e1000; reboot");
    if (kind === "dnf") {
      for (const p of PACKAGES) expect(args).toContain(p);
      expect(args).toContain("@Minimal Install");
      expect(args).toContain(`@core; touch ${CANARY}`);
    } else {
      expect(args).toContain(`--include=${PACKAGES.join(",")}`);
    }
    const script = h.recipe.spec.commands[1]!.script!;
    const run = h.calls.find((c) => c.includes(script))!;
    // The script is one argument of /bin/sh -ec, run inside the image by buildah run.
    expect(run.slice(run.indexOf("--") + 1)).toEqual(["/bin/sh", "-ec", script]);
  });

  it("files written by the script hold the recipe's bytes", () => {
    const writes = h.plan.steps.flatMap((s) => s.actions).filter((a) => a.kind === "write-file");
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      expect(readFileSync(w.path, "utf8")).toBe(w.content);
      expect(statSync(w.path).mode & 0o777).toBe(w.mode);
    }
    expect(writes.map((w) => w.content)).toContain(JOINED);
  });

  it("nothing was interpreted: the canary does not exist", () => {
    expect(existsSync(CANARY)).toBe(false);
  });
});

describe("plan commands are argv arrays, never shell strings", () => {
  const SHELLS = /(^|\/)(sh|bash|dash|zsh|ksh|ash)$/;
  const recipes = [
    ...["debian-12-live.yaml", "rocky-9-base.yaml", "rocky-9-compute.yaml", "rocky-9-live.yaml"].map((f) => loadRecipe(path.join(RECIPES_DIR, f), { env: {} })),
    loadInjection("dnf"),
    loadInjection("apt"),
  ];
  const commands = recipes.flatMap((r) =>
    plan(r, fixedPlanOptions())
      .steps.flatMap((s) => s.actions)
      .flatMap((a) => (a.kind === "exec" ? [a.command, ...(a.undo ? [a.undo.command] : [])] : [])),
  );

  it("no command's program is a shell", () => {
    expect(commands.length).toBeGreaterThan(20);
    for (const c of commands) expect(c.file).not.toMatch(SHELLS);
  });

  it("a shell appears only as `buildah run … -- /bin/sh -ec SCRIPT` for a recipe script", () => {
    const scripts = new Set(recipes.flatMap((r) => r.spec.commands.flatMap((c) => (c.script !== undefined ? [c.script] : []))));
    for (const c of commands) {
      const args = c.args.map((a) => (typeof a === "string" ? a : "<runtime>"));
      const shellAt = args.findIndex((a) => SHELLS.test(a));
      if (shellAt < 0) continue;
      expect(c.file).toBe("buildah");
      expect(args).toContain("run");
      expect(args[shellAt - 1]).toBe("--");
      expect(args.slice(shellAt)).toHaveLength(3);
      expect(args[shellAt]).toBe("/bin/sh");
      expect(args[shellAt + 1]).toBe("-ec");
      expect(scripts.has(args[shellAt + 2]!)).toBe(true);
    }
  });

  it("the process runner never asks execa for a shell", () => {
    const runner = readFileSync(path.join(RECIPES_DIR, "../src/exec/run.ts"), "utf8");
    expect(runner).not.toMatch(/\bshell\s*:/);
    expect(runner).toMatch(/execa\(cmd\.file, \[\.\.\.cmd\.args\]/);
  });
});
