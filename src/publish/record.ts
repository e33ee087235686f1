// The published-image record a publish leaves for registration: the primary tag's
// PublishedImage as JSON, what `bootsmith publish --json` prints and `bootsmith register FILE`
// reads (register/source.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { PublishedImage } from "../core/published-image.js";

export function writePublishedRecord(file: string, image: PublishedImage | readonly PublishedImage[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(image, null, 2)}\n`);
}
