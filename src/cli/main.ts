#!/usr/bin/env node
// bootsmith's entry point: pick the command, run it, turn errors into exit codes.
import { EXIT, UserError, type CliCommand } from "./command.js";
import { isCommandError } from "../exec/run.js";
import { isInterruptedError } from "../exec/signals.js";
import { TOOL_VERSION as VERSION } from "../version.js";
import { validateCommand } from "./validate.js";
import { planCommand } from "./plan.js";
import { schemaCommand } from "./schema.js";
import { buildCommand } from "./build.js";
import { registerCommand } from "./register.js";
import { rollbackCommand } from "./rollback.js";
import { publishCommand } from "./publish.js";
import { doctorCommand } from "./doctor.js";
import { bootTestCommand } from "./boot-test.js";
import { serveCommand } from "./serve.js";
import { ciCommand } from "./ci.js";
import { convertCommand } from "./convert.js";

const commands: readonly CliCommand[] = [
  doctorCommand,
  validateCommand,
  planCommand,
  buildCommand,
  schemaCommand,
  registerCommand,
  rollbackCommand,
  publishCommand,
  bootTestCommand,
  serveCommand,
  convertCommand,
  ciCommand,
];


function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "bootsmith — build, boot-test, publish and register diskless node images",
    "",
    "Usage: bootsmith <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `bootsmith <command> --help` for a command's options.",
    "Exit codes: 0 ok, 1 failed, 2 bad input, 130 interrupted.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(help() + "\n");
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    process.stdout.write(`bootsmith ${VERSION}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`bootsmith: unknown command "${name}". Commands: ${commands.map((c) => c.name).join(", ")}\n`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage.trimEnd() + "\n");
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UserError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    if (isCommandError(error)) {
      process.stderr.write(`${error.report}\n`);
      return EXIT.failed;
    }
    // Cleanup already ran inside withInterruptHandling; exit like a shell does (130 / 143).
    if (isInterruptedError(error)) {
      process.stderr.write(`bootsmith: ${error.message}; cleaned up\n`);
      return error.exitCode;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
