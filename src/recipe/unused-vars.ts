// A --var that no recipe given uses changes nothing. Misspelt (--var MIROR=… for MIRROR), it
// would leave the recipe's default in place without a word, and a nightly job that passes its
// mirror that way would build from the wrong one. The check is over every recipe a command was
// given (and their parents): a --var shared by a whole tree need only be used by one of them.
import { didYouMean } from "./errors.js";

/** Warning lines (empty when every --var is used) for the --var names none of `recipes` uses. */
export function unusedVarWarnings(cli: Readonly<Record<string, string>>, recipes: readonly { readonly variableNames: ReadonlySet<string> }[]): string {
  if (recipes.length === 0) return "";
  const known = new Set(recipes.flatMap((r) => [...r.variableNames]));
  const whose = recipes.length === 1 ? "the recipe (or its parents)" : "any of the recipes given (or their parents)";
  return Object.keys(cli)
    .filter((name) => !known.has(name))
    .map((name) => {
      const guess = didYouMean(name, [...known]);
      return `warning: --var ${name} is used by no variable of ${whose}, so it changes nothing${guess ? `: did you mean ${guess}?` : ""}\n`;
    })
    .join("");
}
