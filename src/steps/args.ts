// Helpers for plan arguments that mix literals with runtime values.
import type { Arg, ArgPart, RuntimeVar } from "./types.js";

export function argParts(arg: Arg): readonly ArgPart[] {
  return typeof arg === "string" ? [arg] : arg;
}

/** Concatenate literals and runtime values into one argv word. */
export function concat(...pieces: readonly (Arg | { readonly var: RuntimeVar })[]): Arg {
  const out: ArgPart[] = [];
  for (const piece of pieces) {
    if (typeof piece === "string" || Array.isArray(piece)) out.push(...argParts(piece as Arg));
    else out.push(piece as { readonly var: RuntimeVar });
  }
  return out;
}

/** Resolve an argument once the runtime values are known. */
export function resolveArg(arg: Arg, values: Readonly<Partial<Record<RuntimeVar, string>>>): string {
  return argParts(arg)
    .map((part) => {
      if (typeof part === "string") return part;
      const value = values[part.var];
      if (value === undefined) throw new Error(`internal: runtime value ${part.var} used before it was set`);
      return value;
    })
    .join("");
}
