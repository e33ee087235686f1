// A converted recipe as a native recipe file: the schema line for editors, where it came from,
// what changed in meaning, then the recipe. Loading the file gives the same recipe (and so the
// same plan) as loading the original.
import { Document, isScalar, isSeq, visit } from "yaml";
import { formatPath } from "../errors.js";
import type { RecipeInput } from "../schema.js";
import type { ForeignRecipe } from "./index.js";

export interface EmitOptions {
  /** `$schema` reference for yaml-language-server, relative to the written file. */
  readonly schemaRef: string;
  /** The original file as the reader should see it (relative to the written file, or as given). */
  readonly sourceLabel: string;
}

export function emitRecipe(foreign: ForeignRecipe, options: EmitOptions): string {
  const header = [
    ` yaml-language-server: $schema=${options.schemaRef}`,
    ` Converted by \`bootsmith convert\` from ${options.sourceLabel} (an OpenCHAMI ${foreign.format} config).`,
    " Building either file gives the same plan; see docs/openchami-compat.md for the mapping.",
  ];
  if (foreign.notes.length > 0) {
    header.push("", " Differences from the original tool:");
    for (const note of foreign.notes) {
      const where = formatPath(note.path) || "(whole file)";
      header.push(...wrap(`${where}: ${note.message}`, 96).map((line, i) => (i === 0 ? ` - ${line}` : `   ${line}`)));
    }
  }
  const ordered: RecipeInput = { apiVersion: "bootsmith/v1", ...foreign.recipe };
  const doc = new Document(escapeReferences(ordered));
  // Short lists of single-line words (tags, argv) read better on one line.
  visit(doc, {
    Seq(_key, seq) {
      if (!isSeq(seq)) return;
      const words = seq.items.map((i) => (isScalar(i) && typeof i.value === "string" && !i.value.includes("\n") ? i.value : undefined));
      const width = words.reduce((n: number, w) => n + (w?.length ?? 80) + 2, 0);
      if (width < 80) seq.flow = true;
    },
  });
  doc.commentBefore = header.join("\n");
  return doc.toString({ lineWidth: 0 });
}

/**
 * The original's strings are shell and Go text: a `${NAME}` in them is literal. In a native
 * recipe it would be a bootsmith variable, so each `${` is written as `$${`, which the loader
 * reads back as `${`.
 */
function escapeReferences(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/\$\{/g, () => "$${");
  if (Array.isArray(value)) return value.map(escapeReferences);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeReferences(v)]));
  return value;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
