// rpm runs a package's scriptlets (%pre, %post, triggers …) and, when one fails, prints a warning
// and installs the package anyway; dnf then exits 0. An image built that way lacks whatever the
// scriptlet set up (a user, a generated config, an enabled unit), so the build says so.

/** rpm's line, e.g. `warning: %post(munge-0.5.13-13.el9.x86_64) scriptlet failed, exit status 1`. */
const FAILED = /^warning: %([a-z]+)\((\S+)\) scriptlet failed, (exit status \d+|signal \d+)/;

/**
 * One sentence per failed scriptlet in a package manager's output, in the order they failed. An
 * exit code other than 0 that the command accepted (zypper's 107: a scriptlet failed, zypper went
 * on) says a scriptlet failed even when rpm's line is not in the output: one sentence for it then.
 */
export function failedScriptlets(output: string, program: string, exitCode: number | undefined): string[] {
  const failures = output.split("\n").flatMap((line) => {
    const m = FAILED.exec(line.trim());
    if (!m) return [];
    const [, scriptlet, nvra, how] = m;
    return [
      `%${scriptlet!} scriptlet of ${nvra!} failed (${how!}); the package manager went on, so the package is installed without what that scriptlet does (its output is in build.log)`,
    ];
  });
  if (failures.length > 0 || !exitCode) return failures;
  return [
    `${program} exited with code ${exitCode}: a package scriptlet failed and the package manager went on, so a package is installed without what its scriptlet does (its output is in build.log)`,
  ];
}
