// Render a Plan as a numbered, copy-pasteable bash script: what `bootsmith plan` prints and
// what the benchmark runs as the plain-script baseline. Every value is quoted; runtime values
// appear as shell variables ("$MNT", "$KVER").
import { quoteArg } from "../exec/quote.js";
import { argParts } from "../steps/args.js";
import type { Action, Arg, Plan, PlannedCommand } from "../steps/types.js";

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

export function renderPlan(plan: Plan): string {
  const undos = new Map<string, PlannedCommand>();
  const lines = [
    "#!/usr/bin/env bash",
    comment(`bootsmith plan for ${plan.recipe.name} (${plan.recipe.tags.join(", ")}) from ${plan.recipe.file}`),
    comment(`input digest ${plan.recipe.inputDigest}`),
    "set -euo pipefail",
    `mkdir -p ${quoteArg(plan.outDir)} ${quoteArg(plan.workDir)}`,
  ];
  plan.steps.forEach((step, i) => {
    lines.push("", comment(`[${i + 1}/${plan.steps.length}] ${step.id}: ${step.title}`));
    for (const action of step.actions) lines.push(...renderAction(action, plan, undos));
  });
  return lines.join("\n") + "\n";
}

/**
 * A one-line shell comment. Titles and values shown in comments come from the recipe (a
 * command's name, a kernel version): a line break in them would end the comment and turn the
 * rest into a command, so line breaks are shown as \n.
 */
function comment(text: string): string {
  return `# ${text.replace(/\r\n|[\r\n\u2028\u2029]/g, "\\n")}`;
}

/** A leftover path whose last component may hold `*`: quote the rest, leave the glob live. */
function renderGlob(p: string): string {
  const slash = p.lastIndexOf("/");
  const dir = slash >= 0 ? p.slice(0, slash + 1) : "";
  const base = p.slice(slash + 1);
  if (!base.includes("*")) return quoteArg(p);
  return `${dir ? quoteArg(dir) : ""}${base.split("*").map((s) => (s ? quoteArg(s) : "")).join("*")}`;
}

function renderAction(action: Action, plan: Plan, undos: Map<string, PlannedCommand>): string[] {
  switch (action.kind) {
    case "exec": {
      const cmd = renderPlannedCommand(action.command);
      const out: string[] = [];
      if (action.capture === "PACKAGES") out.push(`${cmd} > ${quoteArg(`${plan.workDir}/packages.tsv`)}`);
      else if (action.capture) out.push(`${action.capture}=$(${cmd})`);
      else out.push(cmd);
      if (action.undo) {
        undos.set(action.undo.id, action.undo.command);
        out.push(comment(`  undone on failure by: ${renderPlannedCommand(action.undo.command)}`));
      }
      return out;
    }
    case "release": {
      const undo = undos.get(action.undoId);
      return [undo ? renderPlannedCommand(undo) : comment(`(nothing to release for ${action.undoId})`)];
    }
    case "write-file": {
      const dir = action.path.slice(0, action.path.lastIndexOf("/")) || "/";
      return [`mkdir -p ${quoteArg(dir)}`, `printf '%s' ${quoteArg(action.content)} > ${quoteArg(action.path)}`, `chmod ${action.mode.toString(8).padStart(4, "0")} ${quoteArg(action.path)}`];
    }
    case "select-kernel": {
      const root = renderArg(action.root);
      const pick =
        action.version === "newest"
          ? `KVER=$(ls -1 ${root}/lib/modules | sort -V | tail -n 1)  # bootsmith sorts like rpmvercmp/dpkg`
          : `KVER=${quoteArg(action.version)}; test -d ${root}/lib/modules/"$KVER"`;
      return [pick, `if [ -e ${root}/boot/vmlinuz-"$KVER" ]; then KERNEL_IMAGE=/boot/vmlinuz-"$KVER"; else KERNEL_IMAGE=/lib/modules/"$KVER"/vmlinuz; fi`];
    }
    case "copy-out":
      return [`install -D -m 0644 ${renderArg(action.from)} ${quoteArg(action.to)}`];
    case "verify-initramfs":
      return [`# bootsmith checks that ${action.file} holds lib/modules/$KVER (an initramfs made for another kernel cannot load its modules)`];
    case "clean-leftovers": {
      const root = renderArg(action.root);
      const paths = action.paths.map((p) => `${root}/${renderGlob(p)}`);
      return [`rm -rf -- ${paths.join(" ")}`, ...action.ifEmpty.map((p) => `[ -s ${root}/${quoteArg(p)} ] || rm -f -- ${root}/${quoteArg(p)}`)];
    }
    case "image-identity": {
      const root = renderArg(action.root);
      return [
        comment(`bootsmith writes ${action.dir}/{sbom.cdx.json,sbom.spdx.json} from the package list and ${root}/etc/os-release`),
        comment(`bootsmith writes the manifest so far (no rootfs digest) to ${root}/usr/lib/bootsmith/manifest.json`),
        comment(`bootsmith sets IMAGE_ID=${action.id} IMAGE_VERSION=${action.version} in the file ${root}/etc/os-release resolves to inside the image`),
      ];
    }
    case "sign":
      return [comment(`bootsmith writes ${action.dir}/SHA256SUMS: sha256sum of every file manifest.json lists, and of manifest.json`), comment("then signs it with the key from signing.key / --sign-key, imported into a private GNUPGHOME:"), `gpg --batch --detach-sign --digest-algo SHA256 --output ${quoteArg(`${action.dir}/SHA256SUMS.sig`)} ${quoteArg(`${action.dir}/SHA256SUMS`)}`];
    case "write-manifest":
      return [comment(`bootsmith writes ${action.dir}/manifest.json: artifact sha256 and sizes, packages, kernel, timings`), `(cd ${quoteArg(action.dir)} && sha256sum -- * > /dev/null)`];
    case "publish":
      return [comment(`bootsmith publishes the artifacts to ${action.target.type}: ${JSON.stringify(action.target)}`)];
    case "register":
      return [comment(`bootsmith registers boot parameters with ${action.registration.type} at ${action.registration.url}`)];
  }
}
