// files: owner: names a user (and group) the image must have when the file is copied in. Which
// users an image has is known only then: the base, the recipe's users: and groups:, and the
// packages (munge creates munge, slurm creates slurm) all add some. Without this check buildah's
// --chown fails with "looking up UID/GID ... unknown user" and no word of the recipe; this names
// the file, line, field and the fix, before any file is copied.
import { existsSync, readFileSync } from "node:fs";
import { formatPath, RecipeError, type RecipeIssue } from "../recipe/errors.js";
import { issueAt, readYamlSource } from "../recipe/source.js";
import { resolveInRoot } from "./rootfs-path.js";

/** One files: entry's owner, by its index in files:. */
export interface FileOwner {
  readonly index: number;
  readonly owner: string;
}

const NUMERIC = /^\d+$/;

/** The owners of `owners` that name a user or group the image root has not got, as recipe errors (exit 2). */
export function checkFileOwners(root: string, recipeFile: string, owners: readonly FileOwner[]): void {
  // Resolved inside the root: an image's symlinked /etc/passwd never points at the host's.
  const users = accountNames(resolveInRoot(root, "/etc/passwd"));
  const groups = accountNames(resolveInRoot(root, "/etc/group"));
  const problems: { index: number; message: string }[] = [];
  for (const { index, owner } of owners) {
    const [user = "", group] = owner.split(":");
    const missing = [
      ...(NUMERIC.test(user) || users.has(user) ? [] : [`no user "${user}"`]),
      ...(group === undefined || NUMERIC.test(group) || groups.has(group) ? [] : [`no group "${group}"`]),
    ];
    if (missing.length > 0)
      problems.push({
        index,
        message: `the image has ${missing.join(" and ")} (after its base, packages:, users: and groups:): add it to users:/groups: with a fixed id, install the package that creates it, or give numeric ids (uid:gid)`,
      });
  }
  if (problems.length === 0) return;
  const read = readYamlSource(recipeFile);
  const issues: RecipeIssue[] = problems.map(({ index, message }) =>
    read.ok ? issueAt(read.source, ["files", index, "owner"], message) : { file: recipeFile, path: formatPath(["files", index, "owner"]), message },
  );
  throw new RecipeError(issues);
}

/** The names in an /etc/passwd or /etc/group file (none when it is missing). */
function accountNames(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, "utf8")
      .split("\n")
      .map((line) => line.split(":")[0] ?? "")
      .filter(Boolean),
  );
}
