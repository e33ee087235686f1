// GitLab pipelines against GitLab's own CI schema (vendored in test/contracts with its origin):
// the child pipeline `bootsmith ci gitlab` generates, and the repository's .gitlab-ci.yml. Plus
// the generated jobs' shape (needs from the graph, reports) and the dotenv report.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";
import { execa } from "execa";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { collectRecipeFiles, loadGraph, selectNodes } from "../../src/pipeline/graph.js";
import { dotenvFor, gitlabPipeline, repositoryOf } from "../../src/pipeline/gitlab.js";
import type { Manifest } from "../../src/core/manifest.js";

// ajv-formats is CommonJS: under NodeNext its types describe the module object, while at run time
// the default import is the function itself (as test/support/bss-server.ts uses it).
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

let validator: ValidateFunction | undefined;
function validate(doc: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, "test/contracts/gitlab-ci.schema.json"), "utf8")) as object;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    validator = ajv.compile(schema);
  }
  return validator(doc) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
}

const GRAPH_FIXTURES = path.join(REPO_ROOT, "test/fixtures/graph");

describe("bootsmith ci gitlab", () => {
  it("the generated child pipeline validates against GitLab's schema", async () => {
    const result = await bootsmith([
      "ci",
      "gitlab",
      GRAPH_FIXTURES,
      "--var",
      "REPO_URL=file:///srv/repo",
      "--image",
      "registry.example/bootsmith:1",
      "--setup",
      "npm ci",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = parseYaml(result.stdout) as Record<string, unknown>;
    expect(validate(doc)).toEqual([]);
    expect(
      Object.keys(doc)
        .filter((k) => k.startsWith("build:"))
        .sort(),
    ).toEqual(["build:graph-base", "build:graph-child-fails", "build:graph-child-ok"]);
  });

  it("one job per recipe; needs from the graph; reports; a parent without a registry target is not pulled", () => {
    const graph = loadGraph(collectRecipeFiles([GRAPH_FIXTURES]), { vars: { REPO_URL: "file:///srv/repo" } });
    const doc = gitlabPipeline(graph, selectNodes(graph, {}), { image: "img:1", projectDir: REPO_ROOT, vars: { REPO_URL: "file:///srv/repo" } });
    const base = doc["build:graph-base"] as { needs: unknown[]; script: string[]; artifacts: { reports: Record<string, string> } };
    const child = doc["build:graph-child-ok"] as { needs: unknown[]; script: string[] };
    expect(base.needs).toEqual([]);
    expect(child.needs).toEqual([{ job: "build:graph-base", artifacts: true }]);
    // graph-base publishes to no registry: nothing a runner without shared storage could pull.
    expect(child.script[0]).toMatch(/^bootsmith build test\/fixtures\/graph\/child-ok.yaml /);
    expect(base.script[0]).toBe(
      "bootsmith build test/fixtures/graph/base.yaml --out artifacts/graph-base/1 --junit artifacts/graph-base/1/junit.xml --progress plain --if-changed --check-published --var REPO_URL=file:///srv/repo",
    );
    expect(base.script[1]).toBe(
      "bootsmith ci dotenv artifacts/graph-base/1/manifest.json --recipe test/fixtures/graph/base.yaml --var REPO_URL=file:///srv/repo > artifacts/graph-base/1/image.env",
    );
    expect(base.artifacts.reports).toEqual({ dotenv: "artifacts/graph-base/1/image.env", junit: "artifacts/graph-base/1/junit.xml" });
    expect(validate(doc)).toEqual([]);
  });

  it("a child of a parent with a registry target pulls it with ci pull unless the runners share storage", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-gitlab-pull-"));
    try {
      writeFileSync(
        path.join(dir, "p.yaml"),
        'name: p\ntags: ["3"]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: registry, repository: "reg.example:5000/hpc/p", tlsVerify: false}\n',
      );
      writeFileSync(path.join(dir, "c.yaml"), "name: c\nfrom: {recipe: p.yaml}\ncommands:\n  - {script: 'true'}\n");
      const graph = loadGraph([path.join(dir, "p.yaml"), path.join(dir, "c.yaml")], { env: {} });
      const doc = gitlabPipeline(graph, selectNodes(graph, {}), { projectDir: dir, image: "img:1", vars: { K: "v" }, outRoot: "out" });
      const child = doc["build:c"] as { script: string[] };
      expect(child.script[0]).toBe('if [ "$BOOTSMITH_SHARED_STORAGE" != "1" ]; then bootsmith ci pull c.yaml --out out --var K=v; fi');
      expect(child.script[1]).toMatch(/^bootsmith build c.yaml --out out\/c\/latest /);
      expect((doc["build:p"] as { script: string[] }).script[0]).toMatch(/^bootsmith build p.yaml /);
      expect(validate(doc)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--only a child: the child and its parent; nothing selected: a valid pipeline with a no-op job", () => {
    const graph = loadGraph(collectRecipeFiles([GRAPH_FIXTURES]), { vars: { REPO_URL: "file:///srv/repo" } });
    const only = gitlabPipeline(graph, selectNodes(graph, { only: ["graph-child-ok"] }), { projectDir: REPO_ROOT, refresh: true });
    expect(
      Object.keys(only)
        .filter((k) => k.startsWith("build:"))
        .sort(),
    ).toEqual(["build:graph-base", "build:graph-child-ok"]);
    expect((only["build:graph-base"] as { script: string[] }).script[0]).not.toContain("--if-changed");
    expect((only["build:graph-base"] as { script: string[] }).script[0]).toMatch(/ --refresh$/);
    expect(validate(only)).toEqual([]);
    const none = gitlabPipeline(graph, new Set(), { projectDir: REPO_ROOT });
    expect(none["nothing-to-build"]).toBeDefined();
    expect(validate(none)).toEqual([]);
  });

  it("--out: paths inside the project only (GitLab's runner uploads no artifact or cache outside it); an absolute one inside is made relative", () => {
    const graph = loadGraph(collectRecipeFiles([GRAPH_FIXTURES]), { vars: { REPO_URL: "file:///srv/repo" } });
    const selected = selectNodes(graph, { only: ["graph-child-ok"] });
    const job = (outRoot: string) => gitlabPipeline(graph, selected, { projectDir: REPO_ROOT, outRoot })["build:graph-child-ok"] as Record<string, unknown>;
    expect(job(path.join(REPO_ROOT, "out/images"))).toEqual(job("out/images"));
    expect((job("out/images").artifacts as { paths: string[] }).paths[0]).toMatch(/^out\/images\/graph-child-ok\//);
    for (const outside of ["/srv/artifacts", "../artifacts", "out/../../artifacts"])
      expect(() => job(outside), outside).toThrow(
        `--out ${outside}: GitLab keeps artifacts and caches only from inside the project directory (${REPO_ROOT}), and a child job finds its parent's manifest.json there; give a directory inside it, e.g. --out artifacts`,
      );
  });

  it("a recipe with arches: a job per architecture on its runner tags (never publishing the set; pushing its own image without shared storage), a child on the same architecture's job pulling it, one join job that needs them all", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-gitlab-arches-"));
    try {
      writeFileSync(
        path.join(dir, "m.yaml"),
        'name: m\ntags: ["2"]\narches: [x86_64, aarch64]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\npublish:\n  - {type: local, dir: /srv/boot}\n  - {type: registry, repository: "reg.example:5000/hpc/m", tlsVerify: false}\n',
      );
      writeFileSync(path.join(dir, "c.yaml"), "name: c\nfrom: {recipe: m.yaml}\ncommands:\n  - {script: 'true'}\n");
      const graph = loadGraph([path.join(dir, "m.yaml"), path.join(dir, "c.yaml")], { env: {} });
      const doc = gitlabPipeline(graph, selectNodes(graph, {}), {
        projectDir: dir,
        image: "img:1",
        vars: { K: "v" },
        archTags: { aarch64: ["arm64-runner"] },
        buildArgs: ["--verbose"],
      });
      type Job = {
        tags?: string[];
        needs: { job: string; artifacts: boolean }[];
        script: string[];
        artifacts: { paths: string[]; reports?: object };
        cache?: unknown;
      };
      const job = (name: string) => doc[name] as Job;
      expect(
        Object.keys(doc)
          .filter((k) => /^(build|join):/.test(k))
          .sort(),
      ).toEqual(["build:c@aarch64", "build:c@x86_64", "build:m@aarch64", "build:m@x86_64", "join:c", "join:m"]);
      expect(job("build:m@aarch64").tags).toEqual(["arm64-runner"]);
      expect(job("build:m@x86_64").tags).toBeUndefined();
      expect(job("build:m@aarch64").needs).toEqual([]);
      // Without shared storage the architecture pushes its own image (<tag>-arm64) for the join and the child's job.
      expect(job("build:m@aarch64").script).toEqual([
        "bootsmith build m.yaml --only m@aarch64 --out artifacts --junit artifacts/m/2/aarch64 --progress plain --no-publish --var K=v --verbose",
        'if [ "$BOOTSMITH_SHARED_STORAGE" != "1" ]; then bootsmith ci push m.yaml --arch aarch64 --out artifacts --var K=v; fi',
        "bootsmith ci dotenv artifacts/m/2/aarch64/manifest.json > artifacts/m/2/aarch64/image.env",
      ]);
      // The whole architecture directory goes to the join job; no cache (an up-to-date skip would leave it nothing).
      expect(job("build:m@aarch64").artifacts).toMatchObject({
        paths: ["artifacts/m/2/aarch64"],
        reports: { junit: "artifacts/m/2/aarch64/m@aarch64.xml", dotenv: "artifacts/m/2/aarch64/image.env" },
      });
      expect(job("build:m@aarch64").cache).toBeUndefined();
      // The layer takes its parent's arches: each architecture on the parent's job of the same one,
      // whose image it pulls by digest (ci pull: the digest the parent's manifest records) when the runners share no storage.
      expect(job("build:c@aarch64").needs).toEqual([{ job: "build:m@aarch64", artifacts: true }]);
      expect(job("build:c@aarch64").tags).toEqual(["arm64-runner"]);
      expect(job("build:c@aarch64").script[0]).toBe(
        'if [ "$BOOTSMITH_SHARED_STORAGE" != "1" ]; then bootsmith ci pull c.yaml --arch aarch64 --out artifacts --var K=v; fi',
      );
      // c publishes nowhere: nothing to push, a plain join.
      expect(job("build:c@aarch64").script.join("\n")).not.toContain("ci push");
      expect(job("join:c").script).toEqual(["bootsmith ci join c.yaml --out artifacts --var K=v"]);
      expect(job("join:m").needs).toEqual([
        { job: "build:m@aarch64", artifacts: true },
        { job: "build:m@x86_64", artifacts: true },
      ]);
      expect(job("join:m").script).toEqual([
        'if [ "$BOOTSMITH_SHARED_STORAGE" = "1" ]; then bootsmith ci join m.yaml --out artifacts --var K=v; else bootsmith ci join m.yaml --out artifacts --var K=v --pushed; fi',
      ]);
      // The registry publish records the lists in each architecture's manifest.json: the join's artifacts carry those.
      expect(job("join:m").artifacts.paths).toEqual([
        "artifacts/m/2/manifest.json",
        "artifacts/m/2/published.json",
        "artifacts/m/2/x86_64/manifest.json",
        "artifacts/m/2/aarch64/manifest.json",
      ]);
      // c publishes nowhere: its join writes no published.json, so the job does not list it (the runner would warn).
      expect(job("join:c").artifacts.paths).toEqual(["artifacts/c/latest/manifest.json"]);
      expect(job("join:m").tags).toBeUndefined();
      expect(validate(doc)).toEqual([]);
      // --build-arg=--no-publish (a pipeline that only builds): the join writes the combined manifest only.
      const unpublished = gitlabPipeline(graph, selectNodes(graph, { only: ["m"] }), { projectDir: dir, buildArgs: ["--no-publish"] });
      expect((unpublished["build:m@x86_64"] as Job).script[0]).toMatch(/ --no-publish$/);
      expect((unpublished["build:m@x86_64"] as Job).script.join("\n")).not.toContain("ci push");
      expect((unpublished["join:m"] as Job).script).toEqual(["bootsmith ci join m.yaml --out artifacts --no-publish"]);
      expect((unpublished["join:m"] as Job).artifacts.paths).toEqual(["artifacts/m/2/manifest.json"]);
      // A site that signs only at the join: every join job signs, with the key the named variable holds.
      const joinSigned = gitlabPipeline(graph, selectNodes(graph, {}), { projectDir: dir, joinSignKeyEnv: "SITE_SIGN_KEY" });
      expect((joinSigned["join:c"] as Job).script).toEqual(['bootsmith ci join c.yaml --out artifacts --sign-key "$SITE_SIGN_KEY"']);
      expect((joinSigned["join:m"] as Job).script[0]).toContain('bootsmith ci join m.yaml --out artifacts --sign-key "$SITE_SIGN_KEY" --pushed;');
      expect((joinSigned["join:m"] as Job).artifacts.paths).toEqual([
        "artifacts/m/2/manifest.json",
        "artifacts/m/2/published.json",
        ...["x86_64", "aarch64"].flatMap((a) => ["manifest.json", "SHA256SUMS", "SHA256SUMS.sig"].map((f) => `artifacts/m/2/${a}/${f}`)),
      ]);
      // Only the joins sign: the builds are unchanged.
      expect((joinSigned["build:m@aarch64"] as Job).script.join("\n")).not.toContain("--sign-key");
      expect(validate(joinSigned)).toEqual([]);
      // --only NAME@ARCH: that architecture alone, no join (nothing published half).
      const one = gitlabPipeline(graph, selectNodes(graph, { only: ["m@x86_64"] }), { projectDir: dir });
      expect(Object.keys(one).filter((k) => /^(build|join):/.test(k))).toEqual(["build:m@x86_64"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a recipe that signs: its build, ci push and ci join take --sign-key from the file variable BOOTSMITH_SIGN_KEY_FILE when it is set", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-gitlab-signed-"));
    try {
      const recipe = (name: string, more: string) =>
        `name: ${name}\ntags: ["2"]\nfrom: scratch\npackages:\n  manager: dnf\n  release: "9"\n  install: [kernel]\n${more}`;
      writeFileSync(
        path.join(dir, "m.yaml"),
        recipe("m", 'arches: [x86_64, aarch64]\nsigning: {key: env:SITE_KEY}\npublish:\n  - {type: registry, repository: "reg.example:5000/hpc/m"}\n'),
      );
      writeFileSync(path.join(dir, "one.yaml"), recipe("one", "signing: {key: keys/site.asc}\n"));
      writeFileSync(
        path.join(dir, "plain.yaml"),
        recipe("plain", 'arches: [x86_64, aarch64]\npublish:\n  - {type: registry, repository: "reg.example:5000/hpc/p"}\n'),
      );
      const graph = loadGraph(
        ["m.yaml", "one.yaml", "plain.yaml"].map((f) => path.join(dir, f)),
        { env: {} },
      );
      const doc = gitlabPipeline(graph, selectNodes(graph, {}), { projectDir: dir });
      const script = (name: string) => (doc[name] as { script: string[] }).script.join("\n");
      const arg = '${BOOTSMITH_SIGN_KEY_FILE:+--sign-key "$BOOTSMITH_SIGN_KEY_FILE"}';
      expect(script("build:m@aarch64")).toContain(`--no-publish ${arg}`);
      expect(script("build:m@aarch64")).toContain(`bootsmith ci push m.yaml --arch aarch64 --out artifacts ${arg}; fi`);
      expect(script("join:m")).toBe(
        `if [ "$BOOTSMITH_SHARED_STORAGE" = "1" ]; then bootsmith ci join m.yaml --out artifacts ${arg}; else bootsmith ci join m.yaml --out artifacts ${arg} --pushed; fi`,
      );
      expect(script("build:one")).toContain(`--check-published ${arg}`);
      // The join signs the architectures' sets again: their signatures go with its artifacts.
      expect((doc["join:m"] as { artifacts: { paths: string[] } }).artifacts.paths).toEqual(
        [
          "manifest.json",
          "published.json",
          ...["x86_64", "aarch64"].flatMap((a) => ["manifest.json", "SHA256SUMS", "SHA256SUMS.sig"].map((f) => `${a}/${f}`)),
        ].map((f) => `artifacts/m/2/${f}`),
      );
      for (const job of ["build:plain@x86_64", "join:plain"]) expect(script(job)).not.toContain("sign-key");
      expect(validate(doc)).toEqual([]);
      // What the job's shell makes of it: the file's path as one argument, or nothing (the recipe's signing.key).
      const words = async (env: Record<string, string>) =>
        (await execa("bash", ["-c", `printf '%s\\n' x ${arg}`], { env, extendEnv: false })).stdout.split("\n");
      expect(await words({ BOOTSMITH_SIGN_KEY_FILE: "/builds/tmp/KEY FILE" })).toEqual(["x", "--sign-key", "/builds/tmp/KEY FILE"]);
      expect(await words({})).toEqual(["x"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--arch-tags: an aarch64 recipe's job gets the Arm runner's tags, x86_64 jobs none; a bad value is refused", async () => {
    const result = await bootsmith(["ci", "gitlab", path.join(REPO_ROOT, "recipes"), "--arch-tags", "aarch64=arm64-runner,fast", "--image", "img:1"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = parseYaml(result.stdout) as Record<string, { tags?: string[] }>;
    expect(doc["build:debian-12-live-arm64"]?.tags).toEqual(["arm64-runner", "fast"]);
    expect(doc["build:debian-12-live"]?.tags).toBeUndefined();
    expect(validate(doc)).toEqual([]);
    const bad = await bootsmith(["ci", "gitlab", path.join(REPO_ROOT, "recipes"), "--arch-tags", "arm=x"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--arch-tags "arm=x": expected ARCH=TAG[,TAG…] with ARCH one of x86_64, aarch64');
  });

  it("the repository's own .gitlab-ci.yml validates, with MR, default-branch and schedule rules and a depend trigger", () => {
    const doc = parseYaml(readFileSync(path.join(REPO_ROOT, ".gitlab-ci.yml"), "utf8")) as Record<
      string,
      { trigger?: { strategy?: string; include?: unknown }; rules?: { if: string }[] }
    >;
    expect(validate(doc)).toEqual([]);
    expect(doc["build-recipes"]?.trigger).toMatchObject({ strategy: "depend", include: [{ artifact: "child.yml", job: "generate-builds" }] });
    const rules = JSON.stringify(doc);
    expect(rules).toContain('$CI_PIPELINE_SOURCE == \\"schedule\\"');
    expect(rules).toContain('$CI_PIPELINE_SOURCE == \\"merge_request_event\\"');
  });

  it("the schema is strict enough to reject a broken pipeline (the test would catch a mistake)", () => {
    expect(validate({ job: { script: "x", needs: [{ jobb: "a" }] } })).not.toEqual([]);
    expect(validate({ job: { script: "x", artifacts: { reports: { dotenv: 3 } } } })).not.toEqual([]);
  });
});

describe("bootsmith ci dotenv", () => {
  const manifest = (image: Manifest["image"]) => ({ name: "base", inputDigest: "ab".repeat(32), image }) as unknown as Manifest;

  it("a pushed image: its ref, digest, and repository@digest to pull", () => {
    const text = dotenvFor(
      manifest({ ref: "localhost/bootsmith/base:1", pushed: [{ ref: "registry.example:5000/hpc/base:1", digest: "sha256:" + "c".repeat(64) }] }),
    );
    expect(text).toBe(
      `IMAGE_REF=registry.example:5000/hpc/base:1\nIMAGE_DIGEST=sha256:${"c".repeat(64)}\nIMAGE_PULL_REF=registry.example:5000/hpc/base@sha256:${"c".repeat(64)}\nBOOTSMITH_IMAGE_NAME=base\nBOOTSMITH_BUILT_INPUT_DIGEST=${"ab".repeat(32)}\n`,
    );
  });

  it("given the artifact directory, as every other command takes one, it reads the manifest.json in it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bootsmith-dotenv-"));
    try {
      const written = manifest({ ref: "localhost/bootsmith/base:1" });
      writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(written));
      const r = await bootsmith(["ci", "dotenv", dir]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(dotenvFor(written).trimEnd()); // execa drops the last newline
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a local-only image: no digest or pull ref (the next job then needs shared storage)", () => {
    expect(dotenvFor(manifest({ ref: "localhost/bootsmith/base:1" }))).not.toContain("IMAGE_PULL_REF");
    expect(repositoryOf("registry:5000/base")).toBe("registry:5000/base");
    expect(repositoryOf("registry/base:1@sha256:x")).toBe("registry/base");
  });
});
