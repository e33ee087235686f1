// Run the built CLI (dist/, made by `npm run build` before the tests) as a user would.
import { execa, type ResultPromise } from "execa";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(REPO_ROOT, "dist/cli/main.js");

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function bootsmith(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await startBootsmith(args, options);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export function startBootsmith(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...options.env, CI: "true" },
    reject: false,
    all: true,
    timeout: options.timeoutMs ?? 600_000,
  });
}
