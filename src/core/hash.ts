// sha256 helpers. Publishers hash the bytes they actually send (one read pass) and compare with
// the manifest; these cover the cases where a file is only checked, not sent.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";

export async function sha256File(path: string): Promise<string> {
  return (await sha256Chunks(createReadStream(path, { highWaterMark: 1 << 20 }))).sha256;
}

/** Hashes a stream (a file, an HTTP body) as it is read; also counts its bytes. */
export async function sha256Chunks(chunks: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes a stream to a new file (never over an existing one), hashing it on the way; returns the sha256. */
export async function writeHashed(chunks: AsyncIterable<Uint8Array>, file: string, mode = 0o644): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(
    async function* () {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file, { flags: "wx", mode }),
  );
  return hash.digest("hex");
}
