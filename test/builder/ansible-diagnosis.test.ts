// A failing ansible-playbook (the host's, real) through run() with the ansible diagnosis: the
// error names the failed task and the module's message, not only "exited with code 2", and an
// ignored failure (ignore_errors) is not taken for the cause. A local connection keeps it fast;
// the chroot connection's output has the same shape (test/builder/build-ansible.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { run, isCommandError, type CommandError } from "../../src/exec/run.js";
import { ansibleDiagnosis } from "../../src/builder/ansible-diagnosis.js";

const reporter = { emit: () => {}, close: async () => {} };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bootsmith-ansible-diag-"));
  writeFileSync(path.join(dir, "ansible.cfg"), "[defaults]\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function playbook(tasks: string): Promise<CommandError> {
  const file = path.join(dir, `play-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
  try {
    await run(
      {
        file: "ansible-playbook",
        args: ["-i", "localhost,", "-c", "local", file],
        env: { ANSIBLE_CONFIG: path.join(dir, "ansible.cfg"), ANSIBLE_HOME: path.join(dir, "home"), ANSIBLE_NOCOLOR: "1" },
      },
      { step: "command-1", reporter },
      { diagnosis: ansibleDiagnosis() },
    );
  } catch (error) {
    if (isCommandError(error)) return error;
    throw error;
  }
  throw new Error("the playbook did not fail");
}

describe("ansible failure diagnosis", () => {
  it("names the failed task and its command's stderr, skipping an ignored failure", { timeout: 60_000 }, async () => {
    const error = await playbook(
      [
        "    - name: ignored",
        "      ansible.builtin.command: /bin/false",
        "      ignore_errors: true",
        "    - name: read the site key",
        "      ansible.builtin.command: cat /nonexistent/site-key",
        "    - name: never reached",
        "      ansible.builtin.command: /bin/true",
        "",
      ].join("\n"),
    );
    expect(error.causes).toEqual(['task "read the site key" failed: non-zero return code (rc 1): cat: /nonexistent/site-key: No such file or directory']);
    expect(error.message).toBe(
      '[command-1] ansible-playbook exited with code 2: task "read the site key" failed: non-zero return code (rc 1): cat: /nonexistent/site-key: No such file or directory',
    );
    expect(error.hint).toMatch(/build\.log/);
  });

  it("names the loop item and the module's msg", { timeout: 60_000 }, async () => {
    const error = await playbook(
      ["    - name: check the node list", '      ansible.builtin.fail: { msg: "node {{ item }} is not in the inventory" }', "      loop: [n7]", ""].join("\n"),
    );
    expect(error.causes).toEqual(['task "check the node list" failed for item n7: node n7 is not in the inventory']);
  });

  it("shows ansible-playbook's own error when no task ran", { timeout: 60_000 }, async () => {
    const error = await playbook("    - name: bad\n      no.such.module: {}\n");
    expect(error.causes[0]).toMatch(/^ERROR! /);
    expect(error.hint).toMatch(/syntax-check/);
  });
});
