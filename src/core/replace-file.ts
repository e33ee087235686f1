// Writing a file that may be one name of several: artifact directories are shared through hard
// links (`cp -al` into a published dir: target, a cache, a bundle's staging), and a write in place
// (open with O_TRUNC) changes every linked copy, a published image included. A new file renamed
// over the name breaks the link instead, and readers see the old bytes or the new, never half.
import { rename, rm, writeFile } from "node:fs/promises";

/** Write `data` to a new file beside `file`, then rename it over `file`. */
export async function replaceFile(file: string, data: string | Uint8Array): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  // One left by a crashed run of a process with the same id: "wx" below must make a new file.
  await rm(partial, { force: true });
  try {
    await writeFile(partial, data, { flag: "wx" });
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
