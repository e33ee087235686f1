// Credentials never reach what a failing run leaves behind. Distinctive values for S3_SECRET,
// AWS_SECRET_ACCESS_KEY and BSS_TOKEN are in the environment of real runs that fail:
//   1. a build whose command prints an imported token and fails (the token is in its argv too);
//   2. a build that publishes to an S3 endpoint that refuses connections (a closed port);
//   3. `bootsmith publish` to that endpoint; 4. `bootsmith register` to the contract BSS, which
//      refuses the token (401).
// Then everything each run wrote is searched for the values: stdout (the --json events), stderr,
// and every file under the output, state, work and cache directories (build.log, manifest.json,
// registration records…). Nothing is mocked: buildah, dnf, the AWS SDK and the BSS are real.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { snapshotHost } from "../support/leaks.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { REDACTED } from "../../src/exec/reporters/index.js";

const SECRETS = {
  S3_ACCESS: "BSACCESSKEYFIXTURE",
  S3_SECRET: "s3-secret-Zq81xLwPn4",
  AWS_ACCESS_KEY_ID: "AKIABOOTSMITHFIXTURE",
  AWS_SECRET_ACCESS_KEY: "aws-secret-Hf72kQmVb9",
  BSS_TOKEN: "bss-token-Pt55vRrYc3",
} as const;
/** Values that must not appear anywhere (access key ids are not secret). */
const MUST_NOT_APPEAR = [SECRETS.S3_SECRET, SECRETS.AWS_SECRET_ACCESS_KEY, SECRETS.BSS_TOKEN];

let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;
let closedPort: number;
let bss: BssServer;

/** A port nothing listens on: bound on 127.0.0.1, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-secrets-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    BOOTSMITH_WORK_DIR: path.join(work, "written", "work"),
    BOOTSMITH_CACHE_DIR: path.join(work, "written", "cache"),
    AWS_MAX_ATTEMPTS: "2",
    ...SECRETS,
  };
  closedPort = await freePort();
  bss = await startBssServer({ token: "the-token-bss-expects" });
}, 300_000);

afterAll(async () => {
  await bss?.stop();
  for (const image of ["secrets-command:1", "secrets-publish:1", "secrets-declared:1"])
    await execa("buildah", ["rmi", "-f", `localhost/bootsmith/${image}`], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

/** Every regular file under `dir`, recursively (symlinks not followed). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const p = path.join(dir, entry);
    const st = lstatSync(p);
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
  });
}

/** Fails naming each place a secret value was found. */
function expectNoSecrets(outputs: Record<string, string>, dirs: readonly string[]): void {
  const found: string[] = [];
  for (const [where, text] of Object.entries(outputs)) for (const s of MUST_NOT_APPEAR) if (text.includes(s)) found.push(`${where} contains ${s}`);
  for (const file of dirs.flatMap(filesUnder)) {
    const bytes = readFileSync(file);
    for (const s of MUST_NOT_APPEAR) if (bytes.includes(s)) found.push(`${file} contains ${s}`);
  }
  expect(found).toEqual([]);
}

function writeRecipe(name: string, lines: readonly string[]): string {
  const dir = path.join(work, "recipes");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      "apiVersion: bootsmith/v1",
      `name: ${name}`,
      'tags: ["1"]',
      "from: scratch",
      "packages:",
      "  manager: dnf",
      '  release: "1"',
      "  repos:",
      "    - name: fixture",
      `      baseurl: ${repo.baseurl}`,
      "  groups: [fixture-minimal]",
      ...lines,
    ].join("\n") + "\n",
  );
  return file;
}

describe("secrets in the environment of failing runs", () => {
  it("a failing command that prints an imported token: redacted from events, stderr, build.log", { timeout: 300_000 }, async () => {
    const recipe = writeRecipe("secrets-command", [
      "importEnv: [BSS_TOKEN]",
      "commands:",
      "  - name: print the token and fail",
      "    env:",
      "      T: ${BSS_TOKEN}",
      "    script: |",
      '      echo "token=$T"',
      '      echo "token=$T" >&2',
      "      exit 4",
      "boot: false",
    ]);
    const out = path.join(work, "written", "out-command");
    const state = path.join(work, "written", "state");
    const before = await snapshotHost("bootsmith-secrets-");
    const result = await bootsmith(["build", recipe, "--out", out, "--json", "--state-dir", state], { env });
    expect(result.exitCode, result.stderr).toBe(1);
    // The run did print the token's line (so redaction, not silence, kept it out).
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    expect(log).toContain(`1> token=${REDACTED}`);
    expect(log).toContain(`2> token=${REDACTED}`);
    expect(result.stdout).toContain('"type":"output"');
    expectNoSecrets({ stdout: result.stdout, stderr: result.stderr }, [path.join(work, "written")]);
    expect(await snapshotHost("bootsmith-secrets-")).toEqual(before);
  });

  it("recipe-declared secrets (--var, importEnv) and proxy credentials: not in plan output, events, stderr or any file", { timeout: 300_000 }, async () => {
    const declared = { REPO_PASS: "repo-pass-Kx93mWq2", SITE_KEY: "site-key-Lp07dNz8" };
    const proxyPassword = "proxy-pass-Vb46tYe1";
    const recipe = writeRecipe("secrets-declared", [
      "  options:",
      `    proxy: http://builder:${proxyPassword}@127.0.0.1:9/`,
      "importEnv: [SITE_KEY]",
      "secrets: [REPO_PASS, SITE_KEY]",
      "commands:",
      "  - name: use the secrets and fail",
      "    env:",
      "      P: ${REPO_PASS}",
      "    run: [/bin/sh, -c, 'echo \"pass=$P key=$0\"; echo \"pass=$P\" >&2; exit 4', '${SITE_KEY}']",
      "boot: false",
    ]);
    const values = [...Object.values(declared), proxyPassword];
    const runEnv = { ...env, SITE_KEY: declared.SITE_KEY };
    const vars = ["--var", `REPO_PASS=${declared.REPO_PASS}`];

    const plain = await bootsmith(["plan", recipe, ...vars], { env: runEnv });
    const json = await bootsmith(["plan", recipe, ...vars, "--json"], { env: runEnv });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(plain.stdout).toContain(`--setopt=proxy=http://${REDACTED}@127.0.0.1:9/`);
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain(`P=${REDACTED}`);

    const out = path.join(work, "written", "out-declared");
    const result = await bootsmith(["build", recipe, ...vars, "--out", out, "--json"], { env: runEnv });
    expect(result.exitCode, result.stderr).toBe(1);
    const log = readFileSync(path.join(out, "build.log"), "utf8");
    expect(log).toContain(`1> pass=${REDACTED} key=${REDACTED}`); // the command did print them
    expect(log).toContain(`2> pass=${REDACTED}`);
    const outputs = {
      "plan stdout": plain.stdout,
      "plan --json": json.stdout,
      "plan stderr": plain.stderr + json.stderr,
      "build stdout": result.stdout,
      "build stderr": result.stderr,
    };
    const found = Object.entries(outputs).flatMap(([where, text]) => values.filter((v) => text.includes(v)).map((v) => `${where} contains ${v}`));
    for (const file of filesUnder(path.join(work, "written"))) {
      const bytes = readFileSync(file);
      for (const v of values) if (bytes.includes(v)) found.push(`${file} contains ${v}`);
    }
    expect(found).toEqual([]);
  });

  it("a build whose S3 publish is refused, then publish and register by hand: no secret anywhere", { timeout: 400_000 }, async () => {
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const recipe = writeRecipe("secrets-publish", [
      "  install: [fixture-kernel-5.14.0-10.fx, fixture-dracut]",
      "boot:",
      '  params: "console=ttyS0 root=live:{{ rootfs.url }}"',
      "publish:",
      "  - type: s3",
      `    endpoint: ${endpoint}`,
      "    bucket: boot-images",
      "register:",
      "  - type: bss",
      `    url: ${bss.url}`,
      '    macs: ["52:54:00:00:5e:01"]',
      "    tokenEnv: BSS_TOKEN",
    ]);
    const out = path.join(work, "written", "out-publish");
    const state = path.join(work, "written", "state");
    const build = await bootsmith(["build", recipe, "--out", out, "--json", "--state-dir", state], { env });
    expect(build.exitCode, build.stderr).toBe(1);
    expect(build.stdout, "the --json events say where publishing failed").toContain(`127.0.0.1:${closedPort}`);
    expect(existsSync(path.join(out, "manifest.json")), "a build whose publish failed leaves no manifest").toBe(false);

    // The same recipe built without publishing gives the hand-run publish and register their input.
    const built = path.join(work, "written", "out-built");
    const buildOnly = await bootsmith(["build", recipe, "--out", built, "--no-publish", "--json"], { env });
    expect(buildOnly.exitCode, buildOnly.stdout.slice(-2000)).toBe(0);

    const publish = await bootsmith(["publish", built, "--to", "s3://boot-images/", "--endpoint", endpoint, "--json"], { env });
    expect(publish.exitCode, publish.stderr).toBe(1);
    expect(publish.stderr).toContain(`127.0.0.1:${closedPort}`);

    // A local publish gives register something to point at; the BSS refuses the token.
    const site = path.join(work, "written", "site");
    const local = await bootsmith(["publish", built, "--to", `dir:${site}`, "--public-base", "http://127.0.0.1:9/site", "--json"], { env });
    expect(local.exitCode, local.stderr).toBe(0);
    const register = await bootsmith(
      [
        "register",
        built,
        "--base-url",
        "http://127.0.0.1:9/site",
        "--bss",
        bss.url,
        "--mac",
        "52:54:00:00:5e:01",
        "--params-template",
        "root=live:{{ rootfs.url }}",
        "--state-dir",
        state,
        "--timeout",
        "5",
        "--json",
      ],
      { env },
    );
    expect(register.exitCode, register.stderr).toBe(1);
    expect(register.stderr).toContain("401");
    expect(register.stderr, "the token from the environment was sent").toContain("$BSS_TOKEN");
    expect(
      bss.requests.some((r) => !r.authorized),
      "the token was sent and refused",
    ).toBe(true);
    expect(bss.entries.size).toBe(0);

    expectNoSecrets(
      {
        "build stdout": build.stdout,
        "build stderr": build.stderr,
        "build-only stdout": buildOnly.stdout,
        "publish stdout": publish.stdout,
        "publish stderr": publish.stderr,
        "local stdout": local.stdout,
        "register stdout": register.stdout,
        "register stderr": register.stderr,
      },
      [path.join(work, "written")],
    );
  });
});
