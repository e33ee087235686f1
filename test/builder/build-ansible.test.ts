// commands: - ansible: in a real build: mmdebstrap's Debian minbase image (python3, python3-apt,
// systemd) configured by a playbook with a role, run by the host's ansible-playbook through the
// chroot connection. The playbook's effects (an apt package, a templated file with inventory and
// extra variables, a unit from the role, enabled) are checked in the committed image.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";

const RECIPE = path.join(REPO_ROOT, "test/fixtures/ansible/recipe.yaml");
const IMAGE = "localhost/bootsmith/fixture-ansible:1";
let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-ansible-"));
});
afterAll(async () => {
  await removeImages(["fixture-ansible:1", "fixture-ansible-fails:1"]);
  rmSync(work, { recursive: true, force: true });
});

describe("ansible commands (Debian minbase image)", () => {
  it("runs the playbook against the image root", { timeout: 900_000 }, async () => {
    const out = path.join(work, "out");
    const result = await bootsmith(["build", RECIPE, "--out", out, "--progress", "plain"], { env: buildEnv(work) });
    expect(result.exitCode, result.stderr).toBe(0);

    const { stdout: container } = await execa("buildah", ["from", "--pull=never", IMAGE]);
    try {
      const { stdout: root } = await execa("buildah", ["mount", container]);
      // The apt module installed hello into the image (dpkg's database is the image's).
      expect(existsSync(path.join(root, "usr/bin/hello"))).toBe(true);
      expect(readFileSync(path.join(root, "var/lib/dpkg/status"), "utf8")).toMatch(/^Package: hello\nStatus: install ok installed$/m);
      // The template saw the inventory variable and the extra variable.
      expect(readFileSync(path.join(root, "etc/site.conf"), "utf8")).toBe("site=testsite\ngreeting=hello from extraVars\n");
      // The role's unit file, enabled by the systemd module (offline, in the chroot).
      expect(readFileSync(path.join(root, "etc/systemd/system/site-hello.service"), "utf8")).toContain("ExecStart=/usr/bin/hello");
      expect(readlinkSync(path.join(root, "etc/systemd/system/multi-user.target.wants/site-hello.service"))).toBe("/etc/systemd/system/site-hello.service");
      // Nothing of ansible's is left in the image.
      expect(existsSync(path.join(root, "root/.ansible"))).toBe(false);
    } finally {
      await execa("buildah", ["rm", container], { reject: false });
    }
  });

  it("names the failed task and its message in the error", { timeout: 300_000 }, async () => {
    // Builds on the image of the test above: only the failing playbook runs.
    const result = await bootsmith(
      ["build", path.join(REPO_ROOT, "test/fixtures/ansible/failing.yaml"), "--out", path.join(work, "fails"), "--progress", "plain"],
      {
        env: buildEnv(work),
      },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      'ansible-playbook exited with code 2: task "read the site key" failed: non-zero return code (rc 1): cat: /etc/site/no-such-key: No such file or directory',
    );
    // The ignored failure is not a cause: one cause line, the failed task's.
    const lines = result.stderr.split("\n");
    const causes = lines.slice(
      lines.indexOf("  cause:") + 1,
      lines.findIndex((l) => l.startsWith("  command: ")),
    );
    expect(causes).toEqual(['    task "read the site key" failed: non-zero return code (rc 1): cat: /etc/site/no-such-key: No such file or directory']);
  });
});
