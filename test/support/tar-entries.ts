// Read a tar into memory and write one back (tar-stream), for tests that build damaged or
// tampered bundles the way a cut or edited file would look.
import { readFileSync, writeFileSync } from "node:fs";
import { extract as tarExtract, pack as tarPack } from "tar-stream";

/** The tar's entries as [name, bytes], in order. */
export async function tarEntries(file: string): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  const ex = tarExtract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.push([entry.header.name, Buffer.concat(chunks)]);
    }
  })();
  ex.end(readFileSync(file));
  await done;
  return out;
}

/** Write `list` as a plain tar to `file`. */
export async function writeTar(file: string, list: readonly [string, Buffer][]): Promise<void> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const [name, bytes] of list) p.entry({ name, size: bytes.length }, bytes);
  p.finalize();
  await read;
  writeFileSync(file, Buffer.concat(chunks));
}
