// An artifact directory as diff and export read it: it must exist and pass the publishers'
// checks (manifest readable, every listed artifact present with its recorded size).
import { stat } from "node:fs/promises";
import { loadArtifactSet, type ArtifactSet } from "../publish/artifacts.js";
import { PublishInputError } from "../publish/errors.js";
import { LifecycleInputError } from "./errors.js";

/** `readOnly` (inspect, diff): a manifest without schemaVersion is read as version 1 (LoadOptions in publish/artifacts.ts). */
export async function loadImageDir(dir: string, label: string = dir, options: { readOnly?: boolean } = {}): Promise<ArtifactSet> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new LifecycleInputError(`${label}: no such directory; give an artifact directory (with manifest.json), e.g. artifacts/NAME/TAG`);
  try {
    return await loadArtifactSet(dir, options);
  } catch (error) {
    if (error instanceof PublishInputError) throw new LifecycleInputError(error.message, { cause: error });
    throw error;
  }
}
