// The cache key's parts, one digest per input, so that a changed key can be explained: "packages
// changed", "file /etc/motd (src motd) changed", "tool 0.1.0 → 0.2.0", "parent base rebuilt".
// The key itself stays LoadedRecipe.inputDigest (computed in recipe/load.ts); these are recorded
// next to it in the manifest and compared by the cache, never used as the key.
import { createHash } from "node:crypto";
import { ansibleInputPaths, canonicalJson, hashKeyFile, hashPath, localRepoMetadata, repoKeyPaths, scanInputPaths, type LoadedRecipe } from "./load.js";
import { TOOL_VERSION } from "../core/version.js";

/** Input name → short digest (or the version itself for `tool`). Names are stable across versions. */
export type InputDigests = Readonly<Record<string, string>>;

/** Short enough to read in an explanation, long enough never to collide in practice. */
const SHORT = 16;

export function inputDigests(recipe: LoadedRecipe): InputDigests {
  const inputs: Record<string, string> = { tool: TOOL_VERSION };
  // One entry per top-level recipe section: "recipe.packages changed" says where to look.
  for (const [key, value] of Object.entries(recipe.spec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    inputs[`recipe.${key}`] = sha(canonicalJson(value) ?? "undefined");
  }
  for (const [index, source] of [...recipe.fileSources].sort((a, b) => a[0] - b[0])) {
    const entry = recipe.spec.files[index];
    // Named by destination: indices shift when a file is added, destinations do not.
    const name = entry ? `file ${entry.dest}` : `file #${index}`;
    const hash = createHash("sha256");
    hashPath(hash, "", source);
    inputs[name] = hash.digest("hex").slice(0, SHORT);
  }
  // Playbooks, roles and what lies beside them: "ansible commands[2] roles changed".
  for (const [name, p] of [...ansibleInputPaths(recipe), ...scanInputPaths(recipe)]) {
    const hash = createHash("sha256");
    hashPath(hash, "", p);
    inputs[name] = hash.digest("hex").slice(0, SHORT);
  }
  // A module's source: "kernelModules.build.src changed".
  if (recipe.kernelModuleSource) {
    const hash = createHash("sha256");
    hashPath(hash, "", recipe.kernelModuleSource);
    inputs["kernelModules.build.src"] = hash.digest("hex").slice(0, SHORT);
  }
  for (const [repo, digest] of localRepoMetadata(recipe.spec)) inputs[`repo ${repo}`] = digest.slice(0, SHORT);
  // A repository's key file: "repo site gpgkey changed".
  for (const [name, p] of repoKeyPaths(recipe)) {
    const hash = createHash("sha256");
    hashKeyFile(hash, "", p);
    inputs[name] = hash.digest("hex").slice(0, SHORT);
  }
  if (recipe.parent) inputs.parent = recipe.parent.inputDigest.slice(0, SHORT);
  return inputs;
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, SHORT);
}
