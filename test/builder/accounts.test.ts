// createAccounts on a real directory standing in for an image root: what lands in the account
// files, and the clashes it refuses (naming both sides).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AccountClashError, createAccounts } from "../../src/builder/accounts.js";

let root: string;
const read = (f: string) => readFileSync(path.join(root, "etc", f), "utf8");
const group = (name: string, gid: number) => ({ name, gid, system: false });
const user = (name: string, uid: number, extra: Record<string, unknown> = {}) => ({ name, uid, groups: [], system: false, ...extra });

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "bootsmith-accounts-"));
  mkdirSync(path.join(root, "etc"));
  writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nchrony:x:990:990::/var/lib/chrony:/sbin/nologin\n");
  writeFileSync(path.join(root, "etc/group"), "root:x:0:\nwheel:x:10:\nchrony:x:990:\n");
  writeFileSync(path.join(root, "etc/shadow"), "root:*::0:99999:7:::\n", { mode: 0o600 });
  writeFileSync(path.join(root, "etc/gshadow"), "root:::\nwheel:::\n", { mode: 0o600 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("createAccounts", () => {
  it("appends groups, users, locked shadow entries and memberships, keeping the files' modes", () => {
    createAccounts(
      root,
      [group("munge", 991)],
      [user("munge", 991, { group: "munge", system: true, home: "/var/lib/munge" }), user("alice", 5001, { groups: ["wheel"] })],
      "parent x",
    );
    expect(read("group")).toBe("root:x:0:\nwheel:x:10:alice\nchrony:x:990:\nmunge:x:991:\nalice:x:5001:\n");
    expect(read("passwd")).toBe(
      "root:x:0:0:root:/root:/bin/bash\nchrony:x:990:990::/var/lib/chrony:/sbin/nologin\nmunge:x:991:991::/var/lib/munge:/usr/sbin/nologin\nalice:x:5001:5001::/home/alice:/bin/sh\n",
    );
    expect(read("shadow")).toBe("root:*::0:99999:7:::\nmunge:!*:::::::\nalice:!*:::::::\n");
    expect(read("gshadow")).toBe("root:::\nwheel:::alice\nmunge:!::\nalice:!::\n");
    expect(statSync(path.join(root, "etc/shadow")).mode & 0o777).toBe(0o600);
  });

  it("keeps an entry the base already has with the same id (a rebuild on a parent)", () => {
    createAccounts(root, [group("chrony", 990)], [user("chrony", 990, { group: "chrony" })], "parent x");
    expect(read("passwd").match(/^chrony:/gm)).toHaveLength(1);
    expect(read("group").match(/^chrony:/gm)).toHaveLength(1);
  });

  it("refuses an id held by another name, naming both", () => {
    expect(() => createAccounts(root, [group("munge", 990)], [], "the parent image localhost/bootsmith/base:1")).toThrow(
      "group munge gid 990 (groups[0] of the recipe) clashes with group chrony gid 990 already in the parent image localhost/bootsmith/base:1",
    );
    expect(() => createAccounts(root, [], [user("admin", 0, { group: "root" })], "base")).toThrow(
      "user admin uid 0 (users[0] of the recipe) clashes with user root uid 0 already in base",
    );
  });

  it("refuses a name that exists with another id, and clashes inside the recipe", () => {
    expect(() => createAccounts(root, [group("wheel", 11)], [], "base")).toThrow(
      "group wheel gid 11 (groups[0] of the recipe) clashes with group wheel gid 10 already in base",
    );
    expect(() => createAccounts(root, [group("a", 2000), group("b", 2000)], [], "base")).toThrow(
      "group b gid 2000 (groups[1] of the recipe) clashes with group a gid 2000 already in groups[0] of the recipe",
    );
    expect(() => createAccounts(root, [], [user("x", 3000, { groups: ["nosuch"] })], "base")).toThrow(AccountClashError);
  });

  it("leaves the files untouched when it refuses", () => {
    const before = read("group");
    expect(() => createAccounts(root, [group("ok", 3000), group("bad", 0)], [], "base")).toThrow(AccountClashError);
    expect(read("group")).toBe(before);
  });

  it("writes inside the root even when /etc is a symlink in the image", () => {
    rmSync(path.join(root, "etc"), { recursive: true });
    mkdirSync(path.join(root, "real-etc"));
    writeFileSync(path.join(root, "real-etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    writeFileSync(path.join(root, "real-etc/group"), "root:x:0:\n");
    symlinkSync("/real-etc", path.join(root, "etc"));
    createAccounts(root, [group("g", 100)], [], "base");
    expect(readFileSync(path.join(root, "real-etc/group"), "utf8")).toBe("root:x:0:\ng:x:100:\n");
  });

  it("needs the account files to exist", () => {
    rmSync(path.join(root, "etc/passwd"));
    expect(() => createAccounts(root, [group("g", 100)], [], "the image's base packages")).toThrow(/no \/etc\/passwd/);
  });
});
