// Users and groups with fixed ids, written straight into the image's account files. Why not
// useradd/groupadd: the image may have no shadow-utils yet (the point is to run before packages
// such as munge or slurm pick ids), and `useradd --root` from the host would chroot into an image
// whose libc and login.defs may differ from the host's. Editing the four colon-separated files
// under the image root, resolved inside the root, is what those tools do, and runs nothing.
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { GroupSpec, UserSpec } from "../recipe/schema.js";
import { BootsmithError } from "../core/errors.js";
import { resolveInRoot } from "./rootfs-path.js";

/** Found while building (the clash is with what the base put in the image): exit 1. */
export class AccountClashError extends BootsmithError {}

interface Entry {
  readonly fields: string[];
  /** Where the entry came from, for clash messages. */
  readonly origin: string;
}

/** One colon-separated account file: its lines as field arrays, in order. */
class AccountFile {
  readonly entries: Entry[];
  private readonly mode: number;

  constructor(
    private readonly file: string,
    private readonly fieldCount: number,
    origin: string,
    defaultMode: number,
  ) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    this.mode = text === undefined ? defaultMode : statSync(file).mode & 0o7777;
    this.entries = (text ?? "")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      .map((line) => ({ fields: line.split(":"), origin }));
  }

  byName(name: string): Entry | undefined {
    return this.entries.find((e) => e.fields[0] === name);
  }

  byId(id: number): Entry | undefined {
    return this.entries.find((e) => e.fields[2] === String(id));
  }

  add(fields: string[], origin: string): void {
    if (fields.length !== this.fieldCount) throw new Error(`internal: ${fields.length} fields for ${this.file}`);
    this.entries.push({ fields, origin });
  }

  /** Written beside and renamed over the old file: a failed build never leaves half a passwd. */
  save(): void {
    const text = this.entries.map((e) => e.fields.join(":")).join("\n");
    writeFileSync(`${this.file}.bootsmith-new`, `${text}\n`, { mode: this.mode });
    chmodSync(`${this.file}.bootsmith-new`, this.mode);
    renameSync(`${this.file}.bootsmith-new`, this.file);
  }
}

/**
 * Add the recipe's groups, then its users, to the account files under `root`. An entry that is
 * already there with the same name and id is kept (a rebuild on a parent that has it); a name
 * with another id, or an id held by another name, is an AccountClashError naming both.
 */
export function createAccounts(root: string, groups: readonly GroupSpec[], users: readonly UserSpec[], base: string): void {
  const at = (p: string) => resolveInRoot(root, p);
  if (!existsSync(at("/etc/passwd")) || !existsSync(at("/etc/group"))) {
    throw new BootsmithError(
      `the image has no /etc/passwd and /etc/group to add users and groups to (base: ${base}); install the package that provides them (setup on EL, base-passwd on Debian)`,
    );
  }
  const passwd = new AccountFile(at("/etc/passwd"), 7, base, 0o644);
  const group = new AccountFile(at("/etc/group"), 4, base, 0o644);
  // Shadow files are optional (a minimal image may have none); when present, new entries get a
  // locked password so that nobody can log in with an empty one.
  const shadow = existsSync(at("/etc/shadow")) ? new AccountFile(at("/etc/shadow"), 9, base, 0o640) : undefined;
  const gshadow = existsSync(at("/etc/gshadow")) ? new AccountFile(at("/etc/gshadow"), 4, base, 0o640) : undefined;

  const wanted: { name: string; gid: number; origin: string }[] = groups.map((g, i) => ({ name: g.name, gid: g.gid, origin: `groups[${i}] of the recipe` }));
  // A user without `group` gets its own group, gid = uid, unless a group of that name exists or is declared.
  users.forEach((u, i) => {
    if (u.group === undefined && !groups.some((g) => g.name === u.name) && !group.byName(u.name)) {
      wanted.push({ name: u.name, gid: u.uid, origin: `the primary group of users[${i}] (${u.name}) of the recipe` });
    }
  });
  for (const g of wanted) {
    const sameName = group.byName(g.name);
    const sameId = group.byId(g.gid);
    if (sameName && sameName.fields[2] === String(g.gid)) continue;
    if (sameName)
      throw new AccountClashError(
        `group ${g.name} gid ${g.gid} (${g.origin}) clashes with group ${g.name} gid ${sameName.fields[2]} already in ${sameName.origin}; use gid ${sameName.fields[2]} or rename the group`,
      );
    if (sameId)
      throw new AccountClashError(
        `group ${g.name} gid ${g.gid} (${g.origin}) clashes with group ${sameId.fields[0]} gid ${g.gid} already in ${sameId.origin}; pick another gid`,
      );
    group.add([g.name, "x", String(g.gid), ""], g.origin);
    gshadow?.add([g.name, "!", "", ""], g.origin);
  }

  users.forEach((u, i) => {
    const origin = `users[${i}] of the recipe`;
    const sameName = passwd.byName(u.name);
    const sameId = passwd.byId(u.uid);
    const primaryName = u.group ?? u.name;
    const primary = group.byName(primaryName);
    if (!primary)
      throw new AccountClashError(`user ${u.name} (${origin}): its group ${primaryName} is neither in groups: nor in ${base}; declare it under groups:`);
    for (const extra of u.groups) {
      if (!group.byName(extra))
        throw new AccountClashError(`user ${u.name} (${origin}): supplementary group ${extra} is neither in groups: nor in ${base}; declare it under groups:`);
    }
    if (sameName && sameName.fields[2] === String(u.uid)) {
      addMember(group, gshadow, u.name, u.groups);
      return;
    }
    if (sameName)
      throw new AccountClashError(
        `user ${u.name} uid ${u.uid} (${origin}) clashes with user ${u.name} uid ${sameName.fields[2]} already in ${sameName.origin}; use uid ${sameName.fields[2]} or rename the user`,
      );
    if (sameId)
      throw new AccountClashError(
        `user ${u.name} uid ${u.uid} (${origin}) clashes with user ${sameId.fields[0]} uid ${u.uid} already in ${sameId.origin}; pick another uid`,
      );
    const home = u.home ?? (u.system ? "/" : `/home/${u.name}`);
    const shell = u.shell ?? (u.system ? "/usr/sbin/nologin" : "/bin/sh");
    passwd.add([u.name, "x", String(u.uid), primary.fields[2]!, u.comment ?? "", home, shell], origin);
    // "!*": locked, and no password can be set by unlocking; empty dates keep the image reproducible.
    shadow?.add([u.name, "!*", "", "", "", "", "", "", ""], origin);
    addMember(group, gshadow, u.name, u.groups);
  });

  for (const f of [passwd, group, shadow, gshadow]) f?.save();
}

/** Add `user` to the member list (4th field) of each group, once. */
function addMember(group: AccountFile, gshadow: AccountFile | undefined, user: string, names: readonly string[]): void {
  for (const name of names) {
    for (const entry of [group.byName(name), gshadow?.byName(name)]) {
      if (!entry) continue;
      const members = entry.fields[3] ? entry.fields[3].split(",") : [];
      if (!members.includes(user)) entry.fields[3] = [...members, user].join(",");
    }
  }
}
