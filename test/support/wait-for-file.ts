// Waiting for a file another process renames into place when it is done (a build's exit status,
// a shared server's address). fs.watch on the file's directory, not a polling loop: the watcher is
// armed before the first check, so a rename between the two is seen by one of them.
import { existsSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";

/** Resolves with the first of `files` that exists; rejects after `timeoutMs`. */
export async function waitForAnyFile(files: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const watchers: FSWatcher[] = [];
    const finish = (error?: Error, found?: string) => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      if (error) reject(error);
      else resolve(found!);
    };
    const check = () => {
      const found = files.find((f) => existsSync(f));
      if (found) finish(undefined, found);
      return found;
    };
    const timer = setTimeout(() => finish(new Error(`none of ${files.join(", ")} appeared within ${timeoutMs / 1000} s`)), timeoutMs);
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      const watcher = watch(dir);
      watcher.on("change", check);
      watcher.on("error", (error) => finish(error));
      watchers.push(watcher);
    }
    check();
  });
}
