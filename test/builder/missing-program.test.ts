// A recipe command whose program the parent image does not have, run by real buildah on a tiny
// image (the host's static busybox as /bin/sh, nothing else): buildah run exits 1 with
// 'process failed to start with error: exec: "NAME": executable file not found in $PATH'
// (fork/exec PATH: no such file or directory for a path). The build said only "buildah exited
// with code 1"; it must say which program is missing in the image and how to get it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith } from "../support/cli.js";
import { buildEnv } from "../support/fixture-build.js";
import { FIXTURE_BUSYBOX } from "../support/rpm-repo.js";

const TINY = `localhost/bootsmith-test/tiny-busybox-${process.pid}:1`;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-missing-program-"));
  const container = (await execa("buildah", ["from", "scratch"])).stdout.trim();
  try {
    const root = (await execa("buildah", ["mount", container])).stdout.trim();
    if (!root.startsWith("/") || root === "/") throw new Error(`buildah mount gave ${JSON.stringify(root)}`);
    mkdirSync(path.join(root, "bin"));
    copyFileSync(FIXTURE_BUSYBOX, path.join(root, "bin/busybox"));
    symlinkSync("busybox", path.join(root, "bin/sh"));
    await execa("buildah", ["commit", "--quiet", container, TINY]);
  } finally {
    await execa("buildah", ["rm", container], { reject: false });
  }
}, 120_000);

afterAll(async () => {
  await execa("buildah", ["rmi", "-f", TINY], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

async function buildWith(command: string): Promise<{ exitCode: number; stderr: string }> {
  const recipe = path.join(work, "missing.yaml");
  writeFileSync(recipe, ["name: missing-program", 'tags: ["1"]', `from: {image: ${TINY}}`, "commands:", `  - run: ${command}`, "boot: false", ""].join("\n"));
  return bootsmith(["build", recipe, "--out", path.join(work, "out"), "--progress", "plain"], { env: buildEnv(work) });
}

describe("a program the image does not have", () => {
  it("by name: the build names it as missing in the image and says how to get it", { timeout: 180_000 }, async () => {
    const result = await buildWith("[systemctl, enable, munge]");
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("buildah exited with code 1: systemctl is not in the image");
    expect(result.stderr).toContain(
      "hint: install the package that provides systemctl in the image (packages.install of this recipe, or of its parent), or fix the name in the command; dnf or zypper, if the image lacks them, run from the host with packages.options.installer: host",
    );
  });

  it("by path: the same, naming the path", { timeout: 180_000 }, async () => {
    const result = await buildWith("[/usr/sbin/useradd, munge]");
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("buildah exited with code 1: /usr/sbin/useradd is not in the image");
  });
});
