// Render a Plan as a numbered, copy-pasteable bash script: what `bootsmith plan` prints and
// what the benchmark runs as the plain-script baseline. Every value is quoted; runtime values
// appear as shell variables ("$MNT", "$KVER"). Every action is a real command: the ones
// bootsmith performs itself render as `bootsmith <subcommand> …` (./commands.ts), the same
// lines the executor logs in build.log.
import { quoteArg } from "../exec/quote.js";
import { argParts } from "../steps/args.js";
import type { Action, Arg, Plan, PlannedCommand, Step } from "../steps/types.js";
import { accountsSummary, internalCommand, isInternalAction } from "./commands.js";

export interface RenderOptions {
  /** Comment lines after the title: how the host settings were found (see cli/plan.ts). */
  readonly header?: readonly string[];
}

export function renderArg(arg: Arg): string {
  const parts = argParts(arg);
  // An empty word must still be a word: `''`, not nothing (which would drop the argument).
  if (parts.every((p) => p === "")) return "''";
  return parts.map((p) => (typeof p === "string" ? (p === "" ? "" : quoteArg(p)) : `"$${p.var}"`)).join("");
}

export function renderPlannedCommand(cmd: PlannedCommand): string {
  const env = Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${quoteArg(v)}`);
  const timeout = cmd.timeoutSeconds !== undefined ? ["timeout", String(cmd.timeoutSeconds)] : [];
  return [...env, ...timeout, quoteArg(cmd.file), ...cmd.args.map(renderArg)].join(" ");
}

export function renderPlan(plan: Plan, options: RenderOptions = {}): string {
  const undos = new Map<string, PlannedCommand>();
  const lines = [
    "#!/usr/bin/env bash",
    comment(`bootsmith plan for ${plan.recipe.name} (${plan.recipe.tags.join(", ")}) from ${plan.recipe.file}`),
    comment(`input digest ${plan.recipe.inputDigest}`),
    ...(options.header ?? []).map(comment),
    "set -euo pipefail",
    `mkdir -p ${quoteArg(plan.outDir)} ${quoteArg(plan.workDir)}`,
  ];
  plan.steps.forEach((step, i) => {
    const beside = step.besideUntil ? ` (runs beside the next steps, until ${step.besideUntil})` : "";
    lines.push("", comment(`[${i + 1}/${plan.steps.length}] ${step.id}: ${step.title}${beside}`));
    lines.push(
      ...stepLines(
        plan,
        step,
        step.actions.flatMap((action) => renderAction(action, undos)),
      ),
    );
  });
  return lines.join("\n") + "\n";
}

/**
 * A step's script lines as bash runs the plan: first a `wait` for each step beside that joins
 * here, then the step's own lines, in the background (`&`, its pid kept) when it runs beside the
 * next steps. Shared with the overhead benchmark's hand-written baseline, whose `body` differs.
 */
export function stepLines(plan: Plan, step: Step, body: readonly string[]): string[] {
  const waits = plan.steps.filter((s) => s.besideUntil === step.id).map((s) => `wait "$${pidVar(s.id)}"`);
  if (!step.besideUntil) return [...waits, ...body];
  if (body.length === 1) return [...waits, `${body[0]} &`, `${pidVar(step.id)}=$!`];
  return [...waits, "{", ...body.map((l) => `  ${l}`), "} &", `${pidVar(step.id)}=$!`];
}

/** The shell variable holding the pid of a step that runs beside the next ones. */
function pidVar(stepId: string): string {
  return `${stepId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_PID`;
}

/**
 * A one-line shell comment. Titles and values shown in comments come from the recipe (a
 * command's name, a kernel version): a line break in them would end the comment and turn the
 * rest into a command, so line breaks are shown as \n.
 */
function comment(text: string): string {
  return `# ${text.replace(/\r\n|[\r\n\u2028\u2029]/g, "\\n")}`;
}

function renderAction(action: Action, undos: Map<string, PlannedCommand>): string[] {
  if (action.kind === "select-kernel") {
    // KERNEL=$(…) rather than `read < <(…)`: set -e sees a failure in a command substitution.
    return [`KERNEL=$(${renderPlannedCommand(internalCommand(action))})`, `read -r KVER KERNEL_IMAGE <<<"$KERNEL"`];
  }
  if (action.kind === "create-accounts") {
    // The command reads the entries from the recipe; the comment shows them to the reader.
    return [comment(`adds ${accountsSummary(action.groups, action.users)}`), renderPlannedCommand(internalCommand(action))];
  }
  if (action.kind === "image-identity")
    return [`IDENTITY=$(${renderPlannedCommand(internalCommand(action))})`, `read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"`];
  if (isInternalAction(action)) return [renderPlannedCommand(internalCommand(action))];
  switch (action.kind) {
    case "exec": {
      const codes = action.command.acceptExitCodes ?? [];
      // Exit codes that are not failures (oscap's 2: some rule failed) must not stop a set -e script.
      const cmd = renderPlannedCommand(action.command) + (codes.length > 0 ? ` || case $? in ${codes.join("|")}) ;; *) false ;; esac` : "");
      const out: string[] = [];
      if (action.saveTo) out.push(`${cmd} > ${quoteArg(action.saveTo)}`);
      else if (action.capture) out.push(`${action.capture}=$(${cmd})`);
      else out.push(cmd);
      if (action.undo) {
        undos.set(action.undo.id, action.undo.command);
        const stop = action.undo.stopProcessesIn
          ? `${renderPlannedCommand(internalCommand({ kind: "stop-processes", root: action.undo.stopProcessesIn }))}; `
          : "";
        out.push(comment(`  undone on failure by: ${stop}${renderPlannedCommand(action.undo.command)}`));
      }
      return out;
    }
    case "release": {
      const undo = undos.get(action.undoId);
      return [undo ? renderPlannedCommand(undo) : comment(`(nothing to release for ${action.undoId})`)];
    }
    case "write-file": {
      const dir = action.path.slice(0, action.path.lastIndexOf("/")) || "/";
      // umask 077 and noclobber: private while written, never over an existing file (bootsmith opens it O_EXCL|O_NOFOLLOW).
      return [
        `mkdir -p ${quoteArg(dir)}`,
        `(umask 077; set -C; printf '%s' ${quoteArg(action.content)} > ${quoteArg(action.path)})`,
        `chmod ${action.mode.toString(8).padStart(4, "0")} ${quoteArg(action.path)}`,
      ];
    }
  }
}
