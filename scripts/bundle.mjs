#!/usr/bin/env node
// `npm run build`'s second half: bundle the CLI that tsc compiled (dist/cli/main.js and the ~380
// modules it reaches) into dist/cli/main.js plus one chunk per command and per module loaded on
// demand, with esbuild. Node then reads, resolves and links a handful of files instead of
// hundreds at every start (docs/benchmarks.md, "Build overhead and --jobs, 2026-12-02"). The
// bundle is made from tsc's output, so it runs the code tsc type-checked and emitted; the other
// files of dist/ stay as tsc wrote them, importable one by one (bench/, tests).
//
// The chunks go next to main.js (bundle-*.js): code that finds files from import.meta.url
// (cli/convert.ts: ../../schema/) sees the same directory depth as in tsc's output.
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cliDir = join(repo, "dist/cli");
const entry = join(cliDir, "main.js");
const MARK = "// bootsmith bundle (scripts/bundle.mjs)";

/**
 * zod's `z` namespace (and its `core`) re-export its ~40 message translations (`z.locales`), so the bundle would
 * carry and compile them at every start (~12 ms); bootsmith reports in English, which zod
 * registers from locales/en.js on its own. The index of translations becomes an empty module.
 */
const withoutZodLocales = {
  name: "without-zod-locales",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: "zod-locales", namespace: "empty" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

if (readFileSync(entry, "utf8").includes(MARK)) {
  console.error(`${entry} is already the bundle: run \`npm run build\` (tsc first, then this)`);
  process.exit(2);
}
const result = await build({
  entryPoints: [entry],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Written below, into dist/cli: esbuild will not write over its own input.
  write: false,
  outdir: join(repo, "dist/.bundle"),
  entryNames: "[name]",
  chunkNames: "bundle-[name]-[hash]",
  // The CommonJS dependencies (yaml, the AWS SDK, CycloneDX) call require() for Node's modules.
  banner: {
    js: `${MARK}\nimport { createRequire as __bootsmithCreateRequire } from "node:module";\nconst require = __bootsmithCreateRequire(import.meta.url);`,
  },
  // CycloneDX's optional XML and JSON-schema plug-ins: loaded by its validators only, which
  // bootsmith does not use; left to Node's own resolution as in the unbundled package.
  external: ["libxmljs2", "xmlbuilder2", "ajv", "ajv-formats", "ajv-formats-draft2019"],
  plugins: [withoutZodLocales],
  // Less source for V8 to scan at every start: `plan` of the fixture recipe 0.32 → 0.30 s here
  // (docs/benchmarks.md, eighth session). Names stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});
// Chunks of an earlier bundle would be dead files beside the new ones.
for (const f of readdirSync(cliDir)) if (f.startsWith("bundle-")) rmSync(join(cliDir, f));
// tsc's source map describes the module main.js was, not the bundle.
rmSync(`${entry}.map`, { force: true });
for (const file of result.outputFiles) writeFileSync(join(cliDir, basename(file.path)), file.contents);
console.log(`bundled dist/cli/main.js and ${result.outputFiles.length - 1} chunks`);
