// ${NAME} in a number field (uid: ${UID}, timeout: ${TIMEOUT}) or a boolean one (tlsVerify:
// ${TLS_VERIFY}, true or false): substitution works on strings,
// so the value is the string "1234" and the schema, which wants a number, would reject it
// ("must be a number, not string"). A value that came from variables and reads as a number
// becomes that number, wherever the schema asks for one; one that does not is reported with the
// variable text and what it gave. Values written without variables keep YAML's own types: a
// quoted "1234" the user wrote is still an error, as before.
import { isScalar } from "yaml";
import { formatPath, type RecipeIssue } from "./errors.js";
import { RecipeSchema } from "./schema.js";
import { issueAt, toPlainData, type YamlSource } from "./source.js";
import type { SubstitutedValues } from "./vars.js";

/** A decimal number as a person writes one (YAML's own forms such as 0x1F or 1e3 are not meant here). */
export const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Turn values from variables into numbers (or booleans) where the schema wants them, in place; problems for the rest. */
export function numbersFromVariables(source: YamlSource, substituted: SubstitutedValues): RecipeIssue[] {
  if (substituted.size === 0) return [];
  const data = toPlainData(source);
  if (!data.ok) return [];
  const result = RecipeSchema.safeParse(data.data ?? {});
  if (result.success) return [];
  const issues: RecipeIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code !== "invalid_type" || (issue.expected !== "number" && issue.expected !== "boolean")) continue;
    const written = substituted.get(formatPath(issue.path));
    const node = written === undefined ? undefined : source.doc.getIn(issue.path as (string | number)[], true);
    if (!isScalar(node) || typeof node.value !== "string") continue;
    const value = node.value.trim();
    if (issue.expected === "boolean") {
      // tlsVerify: ${TLS_VERIFY}: true or false, as YAML itself writes them.
      if (value === "true" || value === "false") node.value = value === "true";
      else
        issues.push(
          issueAt(source, issue.path, `must be true or false, but ${written} gives ${JSON.stringify(node.value)}; set the variable to true or false`),
        );
    } else if (DECIMAL.test(value)) node.value = Number(value);
    else issues.push(issueAt(source, issue.path, `must be a number, but ${written} gives ${JSON.stringify(node.value)}; set the variable to a number`));
  }
  return issues;
}
