// `bootsmith build` on OpenCHAMI configs, unchanged: real buildah, host dnf and mksquashfs with
// the fixture RPM repository (test/support/rpm-repo.ts). The configs' own dracut commands are
// replaced by bootsmith's initramfs step for the newest kernel.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../../support/rpm-repo.js";
import { bootsmith } from "../../support/cli.js";
import type { Manifest } from "../../../src/core/manifest.js";
import { listInitramfs } from "../../../src/builder/initramfs.js";
import { buildEnv, removeImages } from "../../support/fixture-build.js";

let work: string;
let repo: FixtureRepo;
let env: Record<string, string>;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-compat-build-"));
  // An EL-style repository path (…/el1/…): image-builder configs from scratch take dnf's release from it.
  repo = await buildFixtureRepo(path.join(work, "el1", "repo"));
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  await removeImages(["ib-fixture:1", "th-fixture:1"]);
  rmSync(work, { recursive: true, force: true });
});

const KERNELS = "[fixture-kernel-5.14.0-9.fx, fixture-kernel-5.14.0-10.fx, fixture-dracut]";

async function buildAndCheck(config: string, name: string, files: Record<string, string>, expectFiles: string[]): Promise<Manifest> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(dir, rel), content);
  writeFileSync(path.join(dir, "config.yaml"), config);
  const out = path.join(work, `out-${name}`);
  const result = await bootsmith(["build", path.join(dir, "config.yaml"), "--out", out, "--progress", "plain"], { env });
  expect(result.exitCode, result.stderr).toBe(0);
  for (const f of ["vmlinuz", "initramfs.img", "rootfs.squashfs", "manifest.json"]) expect(existsSync(path.join(out, f)), f).toBe(true);
  const manifest = JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) as Manifest;
  expect(manifest.kernel?.version).toBe(repo.newestKernel);
  const initramfs = (await listInitramfs(path.join(out, "initramfs.img"))).entries.map((e) => e.name);
  expect(initramfs).toContain("sbin/livenetroot");
  const { stdout } = await execa("unsquashfs", ["-lc", "-d", "", path.join(out, "rootfs.squashfs")]);
  const listing = stdout.split("\n");
  for (const p of expectFiles) expect(listing, p).toContain(p);
  const inspect = await execa("buildah", ["inspect", "--type", "image", `localhost/bootsmith/${name}:1`]);
  const labels = (JSON.parse(inspect.stdout) as { OCIv1: { config: { Labels: Record<string, string> } } }).OCIv1.config.Labels;
  expect(labels).toMatchObject({ "org.openchami.image.name": name, "org.openchami.image.parent": "scratch" });
  return manifest;
}

describe("bootsmith build of OpenCHAMI configs", () => {
  it("an image-builder config from scratch", { timeout: 300_000 }, async () => {
    const config = [
      "options:",
      "  layer_type: base",
      "  name: ib-fixture",
      "  publish_tags: '1'",
      "  pkg_manager: dnf",
      "  parent: scratch",
      "  publish_local: true",
      "repos:",
      "  - alias: fixture",
      `    url: '${repo.baseurl}'`,
      "package_groups: [fixture-minimal]",
      `packages: ${KERNELS}`,
      "copyfiles:",
      "  - src: setup.sh",
      "    dest: /usr/local/bin/setup.sh",
      "    opts: ['--chmod=0755']",
      "cmds:",
      `  - cmd: 'dracut --add "dmsquash-live livenet" --kver $(basename /lib/modules/*) -N -f --logfile /tmp/dracut.log 2>/dev/null'`,
      "  - cmd: 'cat /tmp/dracut.log'",
      "",
    ].join("\n");
    await buildAndCheck(config, "ib-fixture", { "setup.sh": "#!/bin/sh\necho setup\n" }, ["/usr/local/bin/setup.sh"]);
  });

  it("an image-thrillhouse config from scratch, published as a squashfs directory", { timeout: 300_000 }, async () => {
    const published = path.join(work, "published");
    const config = [
      "meta:",
      "  name: th-fixture",
      '  tags: ["1"]',
      "layer:",
      "  manager:",
      "    name: dnf",
      "    options:",
      '      releasever: "1"',
      "  repos:",
      "    - path: /etc/yum.repos.d/fixture.repo",
      "      content: |",
      "        [fixture]",
      "        name=fixture",
      `        baseurl=${repo.baseurl}`,
      "        gpgcheck=0",
      "  files:",
      "    - path: /etc/motd",
      "      content: |",
      "        built from an image-thrillhouse config",
      "  actions:",
      "    install:",
      "      groups: [fixture-minimal]",
      `      packages: ${KERNELS}`,
      "    commands:",
      "      - run: touch /etc/run-ran",
      "      - script: |",
      '          echo "${GREETING}" > /etc/script-ran',
      "        env:",
      "          set: {GREETING: hello}",
      '      - run: dracut --add "dmsquash-live livenet" -f',
      "publish:",
      "  - type: squashfs",
      `    path: ${published}`,
      "",
    ].join("\n");
    await buildAndCheck(config, "th-fixture", {}, ["/etc/motd", "/etc/run-ran", "/etc/script-ran"]);
    expect(existsSync(path.join(published, "th-fixture", "1", "rootfs.squashfs"))).toBe(true);
  });
});
