// The placeholders a kernel-params template may use. The recipe validator checks templates
// with this list before anything is built; boot registration fills them in.

export const PARAM_PLACEHOLDERS = ["rootfs.url", "kernel.url", "initrd.url", "name", "tag"] as const;
export type ParamPlaceholder = (typeof PARAM_PLACEHOLDERS)[number];

export const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

/** Problems with a template, one message each; empty when it is fine. */
export function checkParamsTemplate(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!(PARAM_PLACEHOLDERS as readonly string[]).includes(name)) {
      problems.push(`unknown placeholder {{ ${name} }}; valid: ${PARAM_PLACEHOLDERS.map((p) => `{{ ${p} }}`).join(", ")}`);
    }
  }
  const opened = (template.match(/\{\{/g) ?? []).length;
  const closed = (template.match(/\}\}/g) ?? []).length;
  if (opened !== closed) problems.push("unbalanced {{ }} in the template");
  return problems;
}
