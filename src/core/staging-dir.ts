// A uniquely named directory that is renamed into place as a published tag (or an artifact
// directory) once complete. mkdtemp would give it mode 0700, and the rename keeps that: a web
// server running as another user (nginx's www-data serving a dir: target) then answers 403 for
// every file nodes fetch. mkdir applies the umask like any directory the site creates.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";

export async function makeStagingDir(prefix: string): Promise<string> {
  for (;;) {
    const dir = `${prefix}${randomBytes(6).toString("hex")}`;
    try {
      await mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
