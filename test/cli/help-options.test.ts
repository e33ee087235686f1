// Every option a command accepts is named in its --help: an admin learns the CLI from --help,
// and an option only the code knows (build's --build-id was one) is one nobody can look up when
// a script uses it. The options are read from each parseCommandArgs call in src/cli/ with the
// TypeScript checker, which resolves the shared option sets spread into them, so a new option
// cannot be missed; a command that parses no arguments at all (schema took any and ignored
// them) fails too.
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/cli");

/** Per command file: each parseCommandArgs call's command ("ci gitlab") and option names. */
function parsedOptions(): Map<string, { command: string; options: string[] }[]> {
  const files = commands.map((c) => path.join(CLI, `${c.name}.ts`));
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const found = new Map<string, { command: string; options: string[] }[]>();
  for (const file of files) {
    const calls: { command: string; options: string[] }[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "parseCommandArgs") {
        const [command, , options] = node.arguments;
        calls.push({
          command: command && ts.isStringLiteral(command) ? command.text : "?",
          options: options
            ? checker
                .getTypeAtLocation(options)
                .getProperties()
                .map((p) => p.name)
            : [],
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(program.getSourceFile(file)!);
    found.set(path.basename(file, ".ts"), calls);
  }
  return found;
}

describe("--help names every option", () => {
  const found = parsedOptions();

  it("finds the options it checks", () => {
    expect([...found.values()].flat().flatMap((c) => c.options).length).toBeGreaterThan(150);
  });

  it.each(commands.map((c) => [c.name, c] as const))("bootsmith %s", async (name, entry) => {
    const usage = (await entry.load()).usage;
    const calls = found.get(name) ?? [];
    expect(calls, `src/cli/${name}.ts parses its arguments with parseCommandArgs`).not.toEqual([]);
    const missing = calls.flatMap(({ command, options }) =>
      options.filter((o) => !new RegExp(`(?<![\\w-])--${o}(?![\\w-])`).test(usage)).map((o) => `bootsmith ${command} --${o}`),
    );
    expect(missing).toEqual([]);
  });
});
