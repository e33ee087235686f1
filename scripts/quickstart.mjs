#!/usr/bin/env node
// The main job after scripts/setup.sh (scripts/quickstart.sh runs both): check the host, then
// validate, build and boot-test RECIPE (default recipes/debian-12-live.yaml) in QEMU.
//   node scripts/quickstart.mjs [RECIPE]
import { $, ProcessOutput, cd } from "zx";
import { fileURLToPath } from "node:url";

cd(fileURLToPath(new URL("..", import.meta.url)));
const recipe = process.argv[2] ?? "recipes/debian-12-live.yaml";
const bootsmith = $({ stdio: "inherit" });

try {
  await bootsmith`node dist/cli/main.js doctor`;
  await bootsmith`node dist/cli/main.js validate ${recipe}`;
  await bootsmith`node dist/cli/main.js build ${recipe} --no-publish`;
  await bootsmith`node dist/cli/main.js boot-test ${recipe}`;
} catch (error) {
  // The failed step printed its own error (stdio inherited): exit with its code, no zx trace.
  if (!(error instanceof ProcessOutput)) throw error;
  process.exit(error.exitCode ?? 1);
}
