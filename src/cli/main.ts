#!/usr/bin/env node
// bootsmith's entry point: pick the command, run it, turn errors into exit codes.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BootsmithError, EXIT, fileSystemFailure, withContext } from "../core/errors.js";
import { type CliCommand } from "./command.js";
import { isCommandError } from "../exec/run.js";
import { isInterruptedError } from "../exec/signals.js";
import { TOOL_VERSION as VERSION } from "../core/version.js";
import { dropOutputToClosedReaders } from "./closed-output.js";
/**
 * The commands, loaded on demand: `bootsmith validate` should not pay for the AWS SDK. The
 * name and summary here are checked against each module's own by test/cli/main.test.ts.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<CliCommand>;
  /** Left out of the main help: the plan's vocabulary for steps run by hand (docs/plan.md). */
  readonly hidden?: boolean;
}

export const commands: readonly CommandEntry[] = [
  {
    name: "doctor",
    summary: "Check that this host can build images, and how to fix what is missing",
    load: async () => (await import("./doctor.js")).doctorCommand,
  },
  { name: "validate", summary: "Check recipes: schema, variables, files, parents", load: async () => (await import("./validate.js")).validateCommand },
  { name: "plan", summary: "Print the commands a build would run (bash or --json)", load: async () => (await import("./plan.js")).planCommand },
  {
    name: "build",
    summary: "Build a recipe: artifacts, manifest, committed image (then publish/register)",
    load: async () => (await import("./build.js")).buildCommand,
  },
  {
    name: "boot-test",
    summary: "Netboot an image in QEMU via iPXE and check that it comes up",
    load: async () => (await import("./boot-test.js")).bootTestCommand,
  },
  { name: "publish", summary: "Upload a built image to S3, a directory or an OCI registry", load: async () => (await import("./publish.js")).publishCommand },
  {
    name: "verify",
    summary: "Check a published image against its signed SHA256SUMS (streamed), naming any file that fails",
    load: async () => (await import("./verify.js")).verifyCommand,
  },
  {
    name: "register",
    summary: "Point nodes at a published image in OpenCHAMI BSS or boot-service",
    load: async () => (await import("./register.js")).registerCommand,
  },
  { name: "rollback", summary: "Restore the boot params a registration replaced", load: async () => (await import("./rollback.js")).rollbackCommand },
  {
    name: "serve",
    summary: "Serve an artifact directory over HTTP (for netbooting nodes or VMs)",
    load: async () => (await import("./serve.js")).serveCommand,
  },
  {
    name: "convert",
    summary: "Convert an OpenCHAMI image-builder or image-thrillhouse config to a bootsmith recipe",
    load: async () => (await import("./convert.js")).convertCommand,
  },
  {
    name: "ci",
    summary: "CI integration: generate a GitLab child pipeline, write a job's dotenv report, push/pull/join per-architecture images",
    load: async () => (await import("./ci.js")).ciCommand,
  },
  {
    name: "lock",
    summary: "Write a recipe's lock file of resolved package versions from its last build",
    load: async () => (await import("./lock.js")).lockCommand,
  },
  {
    name: "diff",
    summary: "Compare two images: packages, rootfs and initramfs files, kernel, params, sizes",
    load: async () => (await import("./diff.js")).diffCommand,
  },
  {
    name: "inspect",
    summary: "What makes an image big: installed size per package, largest rootfs and initramfs directories",
    load: async () => (await import("./inspect.js")).inspectCommand,
  },
  {
    name: "export",
    summary: "Write an image (artifacts, manifest, SBOM/signatures) into one tar for air-gapped sites",
    load: async () => (await import("./export.js")).exportCommand,
  },
  {
    name: "import",
    summary: "Verify a bundle from bootsmith export and publish it (or unpack it into a directory)",
    load: async () => (await import("./import.js")).importCommand,
  },
  {
    name: "promote",
    summary: "Point another tag (e.g. prod) at a boot-tested image's artifacts, without re-uploading",
    load: async () => (await import("./promote.js")).promoteCommand,
  },
  {
    name: "gc",
    summary: "Delete old published images, keeping the newest, the promoted and what nodes boot",
    load: async () => (await import("./gc.js")).gcCommand,
  },
  {
    name: "cache",
    summary: "Show the package caches builds share; prune what no build used lately",
    load: async () => (await import("./cache.js")).cacheCommand,
  },
  { name: "schema", summary: "Print the recipe JSON Schema", load: async () => (await import("./schema.js")).schemaCommand },
  {
    name: "rootfs",
    summary: "Steps a build does inside the image root: accounts, check-owners, select-kernel, copy-out, stop-processes, clean, check-modules",
    load: async () => (await import("./rootfs.js")).rootfsCommand,
    hidden: true,
  },
  {
    name: "artifacts",
    summary: "Steps a build does on its output: verify-initramfs, image-identity, scan-verdict, write-manifest, sign, remove-superseded",
    load: async () => (await import("./artifacts.js")).artifactsCommand,
    hidden: true,
  },
];

function help(): string {
  const shown = commands.filter((c) => !c.hidden);
  const width = Math.max(...shown.map((c) => c.name.length));
  return [
    "bootsmith — build, boot-test, publish and register diskless node images",
    "",
    "Usage: bootsmith <command> [options]",
    "       bootsmith --version",
    "",
    "Commands:",
    ...shown.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `bootsmith <command> --help` or `bootsmith help <command>` for a command's options.",
    "`bootsmith plan` also uses `bootsmith rootfs` and `bootsmith artifacts` for the steps",
    "bootsmith performs itself.",
    "Exit codes: 0 ok, 1 failed, 2 bad input, 130/143/129 interrupted (Ctrl-C / SIGTERM / hang-up, cleaned up).",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `bootsmith help build` is what `git help commit` taught admins to type: build's own help.
  if (name === "help" && rest.length > 0) return main([...rest, "--help"]);
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(help() + "\n");
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write(`bootsmith ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`bootsmith: unknown command "${name}". Commands: ${commands.map((c) => c.name).join(", ")}\n`);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage.trimEnd() + "\n");
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // A read-only or full disk, a file where a directory should be: say so, not a stack trace.
    const fs = error instanceof BootsmithError ? undefined : fileSystemFailure(error);
    return exitCodeFor(fs ? withContext(`bootsmith ${name}`, fs) : error);
  }
}

/** The one place an error becomes a message and an exit code. Anything else is a bug: rethrown. */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof BootsmithError)) throw error;
  // Cleanup already ran inside withInterruptHandling; exit like a shell does (130 / 143 / 129).
  if (isInterruptedError(error)) process.stderr.write(`bootsmith: ${error.message}; cleaned up\n`);
  else if (isCommandError(error)) process.stderr.write(`${error.report}\n`);
  else process.stderr.write(`${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
  return error.exitCode;
}

/** True when this file is the program (directly or through the npm bin link), not an import. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  dropOutputToClosedReaders();
  process.exitCode = await main(process.argv.slice(2));
}
